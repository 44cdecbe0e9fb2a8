"""The reasons behind link decisions: small value objects every linking module returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPONENT = "link.v1"


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence for (positive weight) or against (negative) linking two reports.

    `veto` reasons forbid the link whatever the score ("dates differ by 2 years").
    """

    rule: str
    weight: float
    detail: str = ""
    veto: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "weight": round(self.weight, 3), "detail": self.detail}
        if self.veto:
            out["veto"] = True
        return out


@dataclass(frozen=True, slots=True)
class DocLink:
    """A relation between two documents: `kind` is duplicate | quote | cites | co_cited.

    For "duplicate", `a` is the copy and `b` the earlier text; for "cites", `a` cites the outlet
    of `b`; for the symmetric kinds `a` < `b`.
    """

    kind: str
    a: str
    b: str
    score: float
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "from": self.a, "to": self.b, "score": round(self.score, 3), "detail": self.detail}
