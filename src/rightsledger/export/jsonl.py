"""JSON Lines: one object per document, exactly `Document.to_dict()` (schema/export.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from rightsledger.model import Document


def write(docs: Iterable[Document], out: IO[str]) -> int:
    n = 0
    for doc in docs:
        out.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n
