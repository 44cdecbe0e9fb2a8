"""Place-name normalisation: one key per spelling family, plus the administrative suffix as a level hint.

Reports spell one North Korean county as Sin'gye, Singye, Sinkye, Sin-gye-gun or 신계군. Two keys
make those meet without blurring names elsewhere in the world:

* `fold(name)`: case, diacritics, apostrophes, hyphens and punctuation folded ("Ch'ŏngjin" ->
  "chongjin", "St. Petersburg" -> "st petersburg"). Used for every name.
* `korean_key(name)`: `fold` plus the alternations of Korean romanisation systems (McCune-Reischauer,
  Revised Romanization, DPRK official, news spellings): eo/ŏ->o, eu/ŭ->u, oi->oe, k/g, ch/j, p/b,
  t/d, r/l/n, aspirated ph/th/kh, doubled letters. Used only for Korean names, where these spellings
  really are the same word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

APOSTROPHES = "'’‘`´ʼʻ′"
_APOS_RE = re.compile(f"[{APOSTROPHES}]")
_NON_ALNUM_RE = re.compile(r"[^0-9a-z\uac00-\ud7a3\u3131-\u318e]+")
_SPACE_RE = re.compile(r"\s+")

# Administrative suffixes written onto a Korean name ("Sin'gye-gun", "Ryongwol-ri") -> level hint.
ROMAN_SUFFIXES: dict[str, str] = {
    "gun": "county", "kun": "county",
    "guyok": "county", "kuyok": "county", "guyeok": "county", "kuyeok": "county",
    "gu": "county", "ku": "county", "chigu": "county", "jigu": "county",
    "si": "city", "shi": "city", "up": "city", "eup": "city", "ub": "city",
    "ri": "village", "ni": "village", "li": "village",
    "dong": "village", "tong": "village",
    "rodongjagu": "village", "nodongjagu": "village", "lodongjagu": "village",
    "do": "province", "to": "province",
}
# English words after a name ("Sinwon county", "Chaeryong and Sinkye counties") -> (level, plural).
WORD_SUFFIXES: dict[str, tuple[str, bool]] = {
    "county": ("county", False), "counties": ("county", True),
    "district": ("county", False), "districts": ("county", True),
    "city": ("city", False), "cities": ("city", True),
    "town": ("city", False), "towns": ("city", True),
    "township": ("city", False),
    "village": ("village", False), "villages": ("village", True),
    "hamlet": ("village", False), "neighbourhood": ("village", False), "neighborhood": ("village", False),
    "province": ("province", False), "provinces": ("province", True),
    "oblast": ("province", False), "krai": ("province", False), "kray": ("province", False),
    "prefecture": ("province", False),
}
# Hangul suffixes, longest first.
HANGUL_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("노동자구", "village"), ("구역", "county"), ("지구", "county"), ("군", "county"), ("구", "county"),
    ("시", "city"), ("읍", "city"), ("도", "province"), ("리", "village"), ("동", "village"),
)


def is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def _strip_marks(s: str) -> str:
    """Remove diacritics from Latin letters but keep Hangul syllables whole (NFKD would split them)."""
    if s.isascii():
        return s
    out = []
    for ch in s:
        if ch.isascii() or is_hangul(ch):
            out.append(ch)
            continue
        for d in unicodedata.normalize("NFKD", ch):
            if not unicodedata.combining(d):
                out.append(d)
    return "".join(out)


@lru_cache(maxsize=200_000)
def fold(name: str) -> str:
    """Lower-case, no diacritics, no apostrophes, other punctuation as single spaces."""
    s = _strip_marks(unicodedata.normalize("NFC", name)).lower()
    s = _APOS_RE.sub("", s).replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    return _NON_ALNUM_RE.sub(" ", s).strip()


# Ordered rewrites on a folded, space-free Korean name; order matters (vowels before consonants).
_KOREAN_REWRITES: tuple[tuple[str, str], ...] = (
    ("shi", "si"), ("sh", "s"),
    ("eo", "o"), ("eu", "u"), ("oo", "u"), ("oi", "oe"), ("yung", "yong"), ("wo", "wo"),
    ("tch", "j"), ("ch", "j"), ("ph", "b"), ("th", "d"), ("kh", "g"),
    ("k", "g"), ("p", "b"), ("t", "d"), ("l", "r"), ("ngn", "ngr"), ("nr", "rr"),
)
# A run of one letter read as one ("ss" as "s"): each letter followed by the same letter is dropped,
# rather than substituting r"\1" for ([a-z])\1+, whose template is expanded in Python per match.
_DOUBLE_RE = re.compile(r"([a-z])(?=\1)")
# Initial r/n before i or y is dropped in the southern spelling (Ryongchon = Yongchon, Rinsan = Insan);
# other initial r/l/n are one sound (Rangrim = Nangnim, Rason = Nason).
_INITIAL_RN_RE = re.compile(r"^[rnl](?=[iy])")
_INITIAL_N_RE = re.compile(r"^[nl]")


@lru_cache(maxsize=200_000)
def korean_key(name: str) -> str:
    """Spelling-system-independent key of a romanised (or Hangul) Korean name; "" when empty."""
    words = fold(name).split()
    if not words:
        return ""
    if any(is_hangul(c) for c in words[0]):
        return "".join(words)
    out = []
    for w in words:
        w = _INITIAL_N_RE.sub("r", _INITIAL_RN_RE.sub("", w))
        for a, b in _KOREAN_REWRITES:
            if a in w:
                w = w.replace(a, b)
        out.append(w)
    return _DOUBLE_RE.sub("", "".join(out))


@lru_cache(maxsize=50_000)
def split_suffix(name: str) -> tuple[str, str | None]:
    """("Sin'gye-gun" -> ("Sin'gye", "county")), ("신계군" -> ("신계", "county")), ("Hyesan" -> ("Hyesan", None))."""
    s = name.strip()
    if s and is_hangul(s[-1]):
        for suf, level in HANGUL_SUFFIXES:
            if s.endswith(suf) and len(s) - len(suf) >= 2:
                return s[: -len(suf)], level
        return s, None
    m = re.match(r"^(.+?)[\s\-‐–]+([^\s\-‐–]+)$", s)
    if m:
        tail = fold(m.group(2))
        if tail in ROMAN_SUFFIXES:
            return m.group(1), ROMAN_SUFFIXES[tail]
        if tail in WORD_SUFFIXES:
            return m.group(1), WORD_SUFFIXES[tail][0]
    return s, None
