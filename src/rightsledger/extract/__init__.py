"""Incident extraction: a pipeline of small components over a Document's clean text.

STUB (to be replaced by the extraction work): `Pipeline()(doc)` fills `doc.incidents`,
`doc.cites` and `doc.layers` in place and returns the document.
"""

from __future__ import annotations

from functools import lru_cache

from rightsledger.model import Document


class Pipeline:
    def __call__(self, doc: Document) -> Document:
        return doc


@lru_cache(maxsize=1)
def default_pipeline() -> Pipeline:
    """The packaged pipeline, built once per process (loading lexicons and the gazetteer)."""
    return Pipeline()


def extract(doc: Document) -> Document:
    """Run the default pipeline over `doc` (in place) and return it."""
    return default_pipeline()(doc)
