"""Text normalisation and stable hashing shared by the linking modules.

Hashes are blake2b digests, never Python's `hash()`, so keys written to the ledger today match
the keys computed tomorrow in another process.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'"})
_SMALL = {"of", "on", "for", "against", "and", "the", "in", "to", "de", "a", "an"}


def words(text: str) -> list[str]:
    """Lower-cased word tokens, accents folded, punctuation dropped."""
    if text.isascii():
        return _WORD.findall(text.lower())
    folded = unicodedata.normalize("NFKD", text.translate(_QUOTE_CHARS))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return _WORD.findall(folded)


def norm(text: str) -> str:
    """A comparison key for names and sentences: words joined by single spaces."""
    return " ".join(words(text))


def hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def hash32(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "big")


def short_hash(text: str, n: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()[:n]


def is_proper_name(phrase: str) -> bool:
    """True for a named body ("the Investigative Commission on Crime Against Humanity"), false
    for a description ("a Seoul-based human rights group"): every significant word capitalised."""
    tokens = [t for t in re.split(r"[\s,]+", phrase.strip()) if t]
    while tokens and tokens[0].casefold() in {"the", "a", "an"}:
        tokens = tokens[1:]
    significant = [t for t in tokens if t.casefold() not in _SMALL]
    return len(significant) >= 2 and all(t[0].isupper() or t[0].isdigit() for t in significant)


_NAME = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,3})\b")


def person_names(text: str) -> set[str]:
    """Capitalised multi-word names in a free description (victim names such as "Kim Yong Su")."""
    out = set()
    for m in _NAME.finditer(text):
        key = norm(m.group(1))
        if key.split()[0] not in _SMALL:
            out.add(key)
    return out
