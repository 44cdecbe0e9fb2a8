"""Linking: copies, shared quotations, citation chains, cases and independent origins.

`link(documents)` links a batch; `Linker(index).add(documents)` links new reports against a
ledger through its `CandidateIndex`. Both return a `LinkResult`: `duplicate_of` per document,
`case_of` per incident, and the touched `Case`s with members, roles, origins, status,
conflicts and the reasons for every link.
"""

from rightsledger.link.cases import PairScore, Profile, score_pair
from rightsledger.link.duplicates import Fingerprints, find_duplicates
from rightsledger.link.evidence import DocLink, Reason
from rightsledger.link.independence import ROLES, STATUSES, Member
from rightsledger.link.index import CandidateIndex, InMemoryIndex
from rightsledger.link.linker import Case, Linker, LinkResult, Overrides, link
from rightsledger.link.settings import LinkSettings, load_settings

__all__ = [
    "ROLES",
    "STATUSES",
    "CandidateIndex",
    "Case",
    "DocLink",
    "Fingerprints",
    "InMemoryIndex",
    "LinkResult",
    "LinkSettings",
    "Linker",
    "Member",
    "Overrides",
    "PairScore",
    "Profile",
    "Reason",
    "find_duplicates",
    "link",
    "load_settings",
    "score_pair",
]
