"""Cardinal numbers as reports write them ("30", "1,200", "Thirty", "two hundred and five").

Shared by the victim-count and date finders; the words come from data/lexicons/numbers.toml.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rightsledger.extract.lexicon import alternation, lexicon

__all__ = ["number_pattern", "number_words", "parse_number", "vague_words"]

_DIGITS = r"(?<![\w.,])(?:\d{1,3}(?:,\d{3}){1,3}|\d{1,7})(?:\.\d{1,3})?(?![\d.,]\d)"


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    lex = lexicon("numbers")
    return (
        {k.lower(): int(v) for k, v in lex.get("ones", {}).items()},
        {k.lower(): int(v) for k, v in lex.get("tens", {}).items()},
        {k.lower(): int(v) for k, v in lex.get("scales", {}).items()},
        {k.lower(): int(v) for k, v in lex.get("fixed", {}).items()},
    )


@lru_cache(maxsize=1)
def number_pattern() -> str:
    """A regex fragment (no groups) matching one cardinal number in digits or words."""
    ones, tens, scales, fixed = _tables()
    one = alternation(ones)
    ten = alternation(tens)
    small = rf"(?:{ten}(?:[\s\-]{{1,2}}{one})?|{one})"
    scale = alternation(scales)
    # Bounded: at most two scale steps ("two hundred thousand").
    words = rf"(?:{small}(?:\s{{1,2}}{scale}(?:\s{{1,2}}(?:and\s{{1,2}})?{small})?){{0,2}})"
    digits = rf"(?:{_DIGITS}(?:\s{{1,2}}{scale})?)"
    return rf"(?:{alternation(fixed)}|{digits}|{words})"


@lru_cache(maxsize=1)
def number_words() -> frozenset[str]:
    """Every word (lower case) a match of `number_pattern()` can be made of, besides numerals:
    a finder can then tell cheaply where a written number cannot run on."""
    ones, tens, scales, fixed = _tables()
    return frozenset({"and", *(w for table in (ones, tens, scales, fixed) for key in table for w in re.findall(r"\w+", key))})


@lru_cache(maxsize=1)
def vague_words() -> dict[str, str]:
    """Vague quantity phrase (lower case) -> the label recorded for it."""
    return {k.lower(): str(v) for k, v in lexicon("numbers").get("vague", {}).items()}


_TOKEN = re.compile(r"[a-z]+|\d[\d,]*(?:\.\d+)?")


def parse_number(written: str) -> int | None:
    """The value of a number matched by `number_pattern()`, or None if it is not one."""
    ones, tens, scales, fixed = _tables()
    key = " ".join(written.lower().replace("-", " ").split())
    if key in fixed:
        return fixed[key]
    total = current = 0
    seen = False
    for tok in _TOKEN.findall(key):
        if tok[0].isdigit():
            try:
                value = float(tok.replace(",", ""))
            except ValueError:
                return None
            current += value  # type: ignore[assignment]
            seen = True
        elif tok in ones:
            current += ones[tok]
            seen = True
        elif tok in tens:
            current += tens[tok]
            seen = True
        elif tok in scales:
            scale = scales[tok]
            if scale >= 1000:
                total += (current or 1) * scale
                current = 0
            else:
                current = (current or 1) * scale
            seen = True
        elif tok == "and":
            continue
        else:
            return None
    if not seen:
        return None
    value = total + current
    return int(round(value)) if float(value).is_integer() or value >= 1000 else None
