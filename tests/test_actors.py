"""Perpetrator institutions and kinds, from tests/cases/actors.json (invented texts)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract.actors import find_perpetrators
from rightsledger.model import PERPETRATOR_KINDS

CASES = json.loads((Path(__file__).parent / "cases" / "actors.json").read_text())["cases"]


def _check(case: dict) -> list[str]:
    found = find_perpetrators(case["text"])
    pairs = {(a.evidence.text, a.kind) for a in found}
    problems = [f"missing {w['text']!r} as {w['kind']} (found {sorted(pairs)})" for w in case["perpetrators"] if (w["text"], w["kind"]) not in pairs]
    if case.get("only") and len(found) != len(case["perpetrators"]):
        problems.append(f"unexpected perpetrators {sorted(pairs)}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_actors_case(case):
    problems = _check(case)
    if case["expect"] == "fail":
        assert problems, f"known failure now passes: {case['label']}: set expect to pass"
    else:
        assert not problems, problems


def test_actors_explanations_name_the_lexicon_entry():
    text = "Border guards and the MPS detained them; mps is not an acronym here."
    found = find_perpetrators(text)
    assert [a.evidence.text for a in found] == ["Border guards", "MPS"]
    for a in found:
        assert a.why is not None and a.why.component == "actors.v1" and "." in a.why.rule
        assert text[a.evidence.start : a.evidence.end] == a.name


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_actors_never_crash(text):
    for a in find_perpetrators(text):
        assert a.kind in PERPETRATOR_KINDS
        assert text[a.evidence.start : a.evidence.end] == a.evidence.text


def test_actors_hostile_input_is_linear():
    for blob in ["police " * 100_000, "THE STATE SECURITY " * 30_000, "보위부 police 안전부 " * 20_000]:
        t0 = time.perf_counter()
        find_perpetrators(blob)
        assert time.perf_counter() - t0 < 10
