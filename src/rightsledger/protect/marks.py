"""Sensitive and confidential marks on documents and cases (who set them, when; audited)."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from sqlalchemy import Connection, delete, select

from rightsledger import evidence
from rightsledger.errors import ConfigError
from rightsledger.export.public import Marks
from rightsledger.protect import audit
from rightsledger.store.schema import MARK_TARGETS, MARKS, protect_marks


def _check(target_kind: str, mark: str) -> None:
    if target_kind not in MARK_TARGETS:
        raise ConfigError(f"only a document or a case can be marked, not {target_kind!r}",
                          hint="use: " + ", ".join(MARK_TARGETS))
    if mark not in MARKS:
        raise ConfigError(f"no mark {mark!r}", hint="use one of: " + ", ".join(MARKS))
    if target_kind == "case" and mark == "confidential":
        raise ConfigError("cases are marked sensitive, documents confidential",
                          hint="mark the case's confidential reports instead")


def set_mark(conn: Connection, target_kind: str, target_id: str, mark: str, user: str, on: bool = True) -> bool:
    """Set (or clear) a mark; returns whether anything changed. Every change is audited."""
    _check(target_kind, mark)
    key = (protect_marks.c.target_kind == target_kind, protect_marks.c.target_id == target_id,
           protect_marks.c.mark == mark)
    present = conn.execute(select(protect_marks.c.mark).where(*key)).first() is not None
    if present == on:
        return False
    if on:
        conn.execute(protect_marks.insert().values(target_kind=target_kind, target_id=target_id, mark=mark,
                                                   user_name=user, at=evidence.utcnow()))
    else:
        conn.execute(delete(protect_marks).where(*key))
    audit.append(conn, user, "mark" if on else "unmark", f"{target_kind}:{target_id}", {"mark": mark})
    return True


def marked(conn: Connection, target_kind: str, mark: str) -> set[str]:
    q = select(protect_marks.c.target_id).where(protect_marks.c.target_kind == target_kind,
                                                protect_marks.c.mark == mark)
    return set(conn.execute(q).scalars())


def all_marks(conn: Connection) -> Marks:
    return Marks(confidential_documents=marked(conn, "document", "confidential"),
                 sensitive_documents=marked(conn, "document", "sensitive"),
                 sensitive_cases=marked(conn, "case", "sensitive"))


def listing(conn: Connection) -> list[dict[str, Any]]:
    q = select(protect_marks).order_by(protect_marks.c.target_kind, protect_marks.c.target_id, protect_marks.c.mark)
    # SQLite returns naive timestamps; they were stored in UTC.
    return [{**dict(r._mapping), "at": (r.at if r.at.tzinfo else r.at.replace(tzinfo=timezone.utc)).isoformat()}
            for r in conn.execute(q)]
