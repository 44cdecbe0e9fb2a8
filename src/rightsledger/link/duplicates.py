"""Near-duplicate documents: syndicated or scraped copies of one text.

Two signals, both over word shingles: MinHash (datasketch, fixed seed) banded by the split
`MinHashLSH` picks for the threshold, for whole-text copies with different boilerplate; and a
fixed one-in-N sample of shingle hashes, for a short copy contained in a longer page (whose
Jaccard is low). Both become keys in the `CandidateIndex`, so finding the copies of a new
document costs a few lookups, not a pass over the ledger; candidates are then checked exactly.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from datasketch import MinHash, MinHashLSH

from rightsledger.link.evidence import DocLink
from rightsledger.link.index import CandidateIndex, InMemoryIndex
from rightsledger.link.settings import LinkSettings
from rightsledger.link.text import hash64, short_hash, words
from rightsledger.model import Document

_MASK61 = (1 << 61) - 1
_MUL = 1_000_003


@dataclass(frozen=True, slots=True)
class Fingerprint:
    shingles: frozenset[int]
    bands: tuple[str, ...]
    samples: tuple[str, ...]


@lru_cache(maxsize=200_000)
def _word_hash(w: str) -> int:
    return hash64(w) & _MASK61


def shingle_hashes(text: str, n: int) -> frozenset[int]:
    """Hashes of the text's word n-grams (none for a text shorter than n words)."""
    hs = [_word_hash(w) for w in words(text)]
    if len(hs) < n:
        return frozenset()
    out = set()
    for i in range(len(hs) - n + 1):
        h = 0
        for x in hs[i : i + n]:
            h = (h * _MUL + x) & _MASK61
        out.add(h)
    return frozenset(out)


@lru_cache(maxsize=8)
def _bands(threshold: float, num_perm: int) -> tuple[tuple[int, int], ...]:
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return tuple((int(s), int(e)) for s, e in lsh.hashranges)


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple:
    """The seeded permutations, drawn once (MinHash draws them again for every text otherwise)."""
    template = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    return template.permutations, template.scheme


def fingerprint(text: str, settings: LinkSettings) -> Fingerprint:
    cfg = settings.duplicates
    sh = shingle_hashes(text, int(cfg["shingle_words"]))
    if not sh:
        return Fingerprint(sh, (), ())
    perms, scheme = _permutations(int(cfg["num_perm"]), int(cfg["seed"]))
    mh = MinHash(num_perm=int(cfg["num_perm"]), hashfunc=int, permutations=perms, scheme=scheme)
    mh.update_batch([h & 0xFFFFFFFF for h in sh])
    hv = mh.hashvalues
    bands = tuple(f"{i}:{short_hash(hv[s:e].tobytes().hex())}" for i, (s, e) in enumerate(_bands(float(cfg["lsh_threshold"]), int(cfg["num_perm"]))))
    mod = int(cfg["sample_modulus"])
    samples = tuple(sorted(format(h, "x") for h in sh if h % mod == 0))
    return Fingerprint(sh, bands, samples)


class Fingerprints:
    """Fingerprints by document id, kept compact (shingle hashes in an array, a quarter of a
    set's size) and the `size` most recently used only: a linking run that spans many
    transactions checks the same candidate texts again and again, and reading and hashing each
    text again cost more than the check itself. Ids name one text for as long as a run lasts."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[array[int], tuple[str, ...], tuple[str, ...]]] = OrderedDict()

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._items

    def get(self, doc_id: str) -> Fingerprint | None:
        item = self._items.get(doc_id)
        if item is None:
            return None
        self._items.move_to_end(doc_id)
        return Fingerprint(frozenset(item[0]), item[1], item[2])

    def discard(self, doc_id: str) -> None:
        self._items.pop(doc_id, None)

    def put(self, doc_id: str, fp: Fingerprint) -> None:
        self._items[doc_id] = (array("q", fp.shingles), fp.bands, fp.samples)
        self._items.move_to_end(doc_id)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


def compare(a: Fingerprint, b: Fingerprint, settings: LinkSettings) -> tuple[float, str] | None:
    """(score, detail) when the two texts are copies, exactly measured; else None."""
    cfg = settings.duplicates
    least = int(cfg["min_shingles"])
    if len(a.shingles) < least or len(b.shingles) < least:
        return None  # a line or two is too little text to call a copy
    inter = len(a.shingles & b.shingles)
    if not inter:
        return None
    jac = inter / len(a.shingles | b.shingles)
    if jac >= float(cfg["jaccard"]):
        return jac, f"shingle Jaccard {jac:.2f}"
    small = min(len(a.shingles), len(b.shingles))
    cont = inter / small
    if small >= int(cfg["min_contained_shingles"]) and cont >= float(cfg["containment"]):
        return cont, f"{cont:.0%} of the shorter text is in the longer one"
    return None


def index_keys(fp: Fingerprint) -> dict[str, tuple[str, ...]]:
    return {"lsh": fp.bands, "shingle": fp.samples}


def candidates(fp: Fingerprint, index: CandidateIndex, settings: LinkSettings, exclude: str) -> list[str]:
    """Documents that may be copies of the one with this fingerprint, most likely first."""
    cfg = settings.duplicates
    found: dict[str, int] = {}
    most = int(cfg["max_candidates"])
    # a shared band is as good as it gets, and ties go to the smallest ids: no band needs more
    # than its `most` smallest (one more in case `exclude` is among them)
    for doc_id in index.lookup("lsh", fp.bands, per_key=most + 1):
        found[doc_id] = 1_000_000
    # enough shared samples for a copy: a fair share of this text's, or a long shared passage
    need = min(max(int(cfg["min_shared_samples"]), round(float(cfg["min_sample_share"]) * len(fp.samples))), int(cfg["enough_samples"]))
    need = min(need, max(1, len(fp.samples)))
    # a passage in hundreds of reports is stock phrasing ("told Radio Free Asia"), not a copy
    for doc_id, n in index.lookup("shingle", fp.samples, int(cfg["common_shingle_documents"])).items():
        if n >= need:
            found[doc_id] = max(found.get(doc_id, 0), n)
    found.pop(exclude, None)
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return [d for d, _ in ranked[:most]]


def order(doc: Document) -> tuple[date, str]:
    return (doc.published or date.max, doc.id)


def groups(edges: Iterable[tuple[str, str]], docs: Mapping[str, Document]) -> dict[str, str | None]:
    """`duplicate_of` for every document in an edge: the earliest (published, then id) of its
    group, None for that earliest one itself. Copies of copies fall into one group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    out: dict[str, str | None] = {}
    for group in members.values():
        first = min(group, key=lambda d: order(docs[d]))
        for d in group:
            out[d] = None if d == first else first
    return out


def copy_link(copy: Document, original: Document, score: float, detail: str) -> DocLink:
    return DocLink("duplicate", copy.id, original.id, score, detail)


def find_duplicates(documents: Iterable[Document], settings: LinkSettings) -> dict[str, str | None]:
    """`duplicate_of` for each document of a batch (pure; no index needed by the caller)."""
    docs = {d.id: d for d in documents}
    index = InMemoryIndex()
    fps = {i: fingerprint(d.text, settings) for i, d in sorted(docs.items())}
    for i, fp in fps.items():
        for kind, keys in index_keys(fp).items():
            index.add_keys(kind, i, keys)
    edges = []
    for i, fp in fps.items():
        for j in candidates(fp, index, settings, exclude=i):
            if i < j and compare(fp, fps[j], settings):
                edges.append((i, j))
    out = {i: None for i in docs}
    out.update(groups(edges, docs))
    return out
