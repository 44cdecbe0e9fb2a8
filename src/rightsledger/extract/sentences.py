"""Paragraph and sentence spans over clean text.

Every later component works per sentence, so the splitter is cheap (one compiled regex pass)
and forgiving: news pages arrive with hard-wrapped lines, headline lines without a full stop,
abbreviations ("Mr.", "Jan.", "U.N.") and quotations that end with a comma inside the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rightsledger.model import Span, Why

COMPONENT = "sentences.v1"

# A paragraph ends at a blank line.
_PARA = re.compile(r"\n[ \t\u00a0]*\n\s*")
# A line break inside a paragraph ends a sentence unless the text clearly runs on (hard wrap).
# A break is r"[ \t]*\n[ \t]*"; `_line_breaks` finds each by its newline (a literal first
# character is what the regex engine scans for fastest: spaces, frequent, are not stopped at).
_NEWLINE = re.compile(r"\n[ \t]*")
_RUNS_ON_BEFORE = re.compile(
    r"(?:\b(?:the|a|an|of|in|into|to|and|or|but|by|from|with|for|on|at|as|that|who|which|North|South|"
    r"Mr|Mrs|Ms|Dr)|[,\-–])$"
)
_TERMINAL = re.compile(r"[.!?…:;\"'”’)]$")
# A line that ends with punctuation (then maybe spaces) is a sentence, not a heading. The last
# character is read off the line's end (what r"[.!?…:;\"'”’)]\s*$" finds): a search stops at
# every such mark in the line to try the rest.
_CLAUSE_MARKS = frozenset(".!?…:;\"'”’)")
_WRAP_MIN_LINE = 40
# Candidate sentence ends: terminal punctuation, optional closing quotes/brackets, then space.
# ("[.!?…][.!?…]*" rather than "[.!?…]+": the same matches, but a pattern that opens with a class
# is scanned for in the regex engine's fast loop, one that opens with a repeat is tried everywhere.)
_END = re.compile(r"[.!?…][.!?…]*[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9\u0080-\uffff])")
_ABBREV = frozenset(
    """mr mrs ms dr st mt gen lt col sgt capt cpt maj jr sr prof rev vs etc no nos vol fig jan feb mar apr
    jun jul aug sep sept oct nov dec u.s u.n u.k e.g i.e a.m p.m inc ltd co corp dept gov sen rep""".split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")


@dataclass(frozen=True, slots=True)
class Sentence:
    span: Span
    paragraph: int  # index of the paragraph the sentence belongs to
    index: int  # position of the sentence in the document
    heading: bool = False  # a line without terminal punctuation standing alone (title, caption)
    why: Why | None = None


def find_paragraphs(text: str) -> list[Span]:
    """Blank-line separated blocks, leading/trailing whitespace excluded."""
    out: list[Span] = []
    start = 0
    for m in _PARA.finditer(text):
        _add_trimmed(text, start, m.start(), out)
        start = m.end()
    _add_trimmed(text, start, len(text), out)
    return out


def find_sentences(text: str) -> list[Sentence]:
    """Sentences in text order, each inside one paragraph."""
    out: list[Sentence] = []
    for p_index, para in enumerate(find_paragraphs(text)):
        for line_start, line_end in _lines(text, para.start, para.end):
            heading = not _ends_clause(text, line_start, line_end)
            start = line_start
            for m in _END.finditer(text, line_start, line_end):
                if _is_abbreviation(text, start, m.start()):
                    continue
                _add_sentence(text, start, m.end(), p_index, False, out)
                start = m.end()
            _add_sentence(text, start, line_end, p_index, heading, out)
    return out


def _ends_clause(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] ends with a clause mark, spaces after it aside."""
    line = text[start:end].rstrip()  # str.isspace is what \s matches
    return bool(line) and line[-1] in _CLAUSE_MARKS


def _line_breaks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each match of r"[ \\t]*\\n[ \\t]*" in text[start:end], as finditer finds them:
    a newline with the spaces and tabs after it, and those before it back to the previous break."""
    out: list[tuple[int, int]] = []
    resume = start
    for m in _NEWLINE.finditer(text, start, end):
        b = m.start()
        while b > resume and text[b - 1] in " \t":
            b -= 1
        resume = m.end()
        out.append((b, resume))
    return out


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a paragraph at line breaks that end a sentence; join hard-wrapped lines."""
    pieces: list[tuple[int, int]] = []
    breaks = _line_breaks(text, start, end)
    wrapped = _hard_wrapped(text, start, breaks)
    cur = start
    line_start = start
    for b_start, b_end in breaks:
        before = text[max(cur, b_start - 12) : b_start]
        after = text[b_end : b_end + 1]
        long_line = b_start - line_start >= _WRAP_MIN_LINE
        line_start = b_end
        if after.islower() or _RUNS_ON_BEFORE.search(before) or (wrapped and long_line and not _TERMINAL.search(before)):
            continue  # a hard wrap: the sentence runs on
        pieces.append((cur, b_start))
        cur = b_end
    pieces.append((cur, end))
    return pieces


def _hard_wrapped(text: str, start: int, breaks: list[tuple[int, int]]) -> bool:
    """Most lines long and without terminal punctuation: a block wrapped at a fixed width."""
    if len(breaks) < 3:
        return False
    wraps, prev = 0, start
    for b_start, b_end in breaks:
        if b_start - prev >= _WRAP_MIN_LINE and not _TERMINAL.search(text, max(prev, b_start - 3), b_start):
            wraps += 1
        prev = b_end
    return wraps >= 0.6 * len(breaks)


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = _WORD_BEFORE.search(text, max(start, dot - 12), dot)
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    if word in _ABBREV:
        return True
    # Initials ("Kim J. Un", "U.S.") but not a one-letter sentence end after a number.
    return len(word) == 1 and word.isalpha() and text[m.start(1)].isupper()


def _add_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    piece = text[start:end]
    kept = piece.strip()  # the same white space as str.isspace
    if kept:
        start += len(piece) - len(piece.lstrip())
        out.append(Span(start, start + len(kept), kept))


_WHY = {True: Why(COMPONENT, "heading"), False: Why(COMPONENT, "punctuation")}  # immutable: shared


def _add_sentence(text: str, start: int, end: int, paragraph: int, heading: bool, out: list[Sentence]) -> None:
    spans: list[Span] = []
    _add_trimmed(text, start, end, spans)
    if spans:
        out.append(Sentence(spans[0], paragraph, len(out), heading, _WHY[heading]))
