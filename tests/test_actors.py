"""Perpetrator institutions and kinds, from tests/cases/actors.json (invented texts)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract.actors import find_compositions, find_perpetrators
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


def _members(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(c.body.name, [(m.name, m.kind) for m in c.members]) for c in find_compositions(text, find_perpetrators(text))]


@pytest.mark.parametrize("text, expected", [
    ("Group 109, made up of prosecutors, police and state security agents, searched homes in the town.",
     [("Group 109", [("prosecutors", "judiciary"), ("police", "police"), ("state security agents", "state_security")])]),
    # "members of the Party" is not the Party acting, but it is a member of the body.
    ("The inspection team was staffed by members of the Party and officers from the Ministry of Social Security.",
     [("inspection team", [("the Party", "party"), ("Ministry of Social Security", "police")])]),
    ("The task force drew its staff from three agencies, including the Central Court and the Bowibu.",
     [("task force", [("Central Court", "judiciary"), ("Bowibu", "state_security")])]),
    # The list ends where the sentence turns to other things: the police here are not members.
    ("The inspection group, composed of prosecutors, questioned families near a police station.",
     [("inspection group", [("prosecutors", "judiciary")])]),
    # No cue, a cue in the next sentence, or a body that is not a joint one: no members.
    ("The inspection group and the police arrested six traders.", []),
    ("The inspection group arrived. It was made up of prosecutors.", []),
    ("The Ministry of State Security, made up of police and prosecutors, opened a case.", []),
    # A listed name that is not a North Korean institution ends the list.
    ("The task force, made up of United Nations police and local police, was criticised.", []),
])
def test_compositions_list_the_members_of_joint_bodies(text, expected):
    assert _members(text) == expected


def test_composition_members_explain_the_body_they_belong_to():
    text = "The joint inspection team, drawn from the Central Court and the MPS, detained 12 people."
    (c,) = find_compositions(text, find_perpetrators(text))
    assert c.cue.text == "drawn from" and text[c.cue.start : c.cue.end] == c.cue.text
    for m in c.members:
        assert text[m.evidence.start : m.evidence.end] == m.name
        assert m.why is not None and "member of 'joint inspection team'" in m.why.detail


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_actors_never_crash(text):
    found = find_perpetrators(text)
    for a in found:
        assert a.kind in PERPETRATOR_KINDS
        assert text[a.evidence.start : a.evidence.end] == a.evidence.text
    for c in find_compositions(text, found):
        assert all(text[m.evidence.start : m.evidence.end] == m.name for m in c.members)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["the task force", "made up of", "organizations, such as", "police", "the Party",
                                 "and", ",", "officers from", " ", "  ", "1", "arrested", ".", "prosecutors"]),
                max_size=40))
def test_compositions_members_follow_their_cue(pieces):
    text = " ".join(pieces)
    for c in find_compositions(text, find_perpetrators(text)):
        assert c.body.evidence.end <= c.cue.start < c.cue.end <= c.members[0].evidence.start
        assert "." not in text[c.body.evidence.end : c.members[-1].evidence.start]


def test_actors_hostile_input_is_linear():
    for blob in ["police " * 100_000, "THE STATE SECURITY " * 30_000, "보위부 police 안전부 " * 20_000,
                 "the task force, made up of " * 60_000, "Group 109 composed of the police and , " * 60_000]:
        t0 = time.perf_counter()
        find_compositions(blob, find_perpetrators(blob))
        assert time.perf_counter() - t0 < 10
