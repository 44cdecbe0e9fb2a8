"""The pipeline: registry, configuration, requires/assigns checks, error handling, hostile input."""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsledger.errors import ConfigError
from rightsledger.extract import (
    Pipeline,
    default_pipeline,
    extract,
    load_pipeline,
    log_and_skip,
    merge_config,
    register_component,
    registered_components,
)
from rightsledger.model import Document

BUILT_IN = ["sentences.v1", "attribution.v1", "triggers.v1", "dates.v1", "quantities.v1", "actors.v1",
            "places.v1", "incidents.v1"]


def test_pipeline_registry_has_the_built_in_components():
    reg = registered_components()
    for name in BUILT_IN:
        assert name in reg and reg[name].help


def test_pipeline_describe_lists_components_in_order():
    desc = default_pipeline().describe()
    assert [d["name"] for d in desc] == ["sentences", "attribution", "triggers", "dates", "quantities",
                                         "actors", "places", "incidents"]
    trig = next(d for d in desc if d["name"] == "triggers")
    assert trig["factory"] == "triggers.v1" and trig["requires"] == ["sentences"] and "taxonomy" in trig["settings"]


def test_pipeline_registration_errors_fire_at_registration():
    with pytest.raises(ConfigError, match="twice"):
        register_component("triggers.v1")(lambda: None)
    with pytest.raises(ConfigError, match="not versioned"):
        register_component("nameless")(lambda: None)
    with pytest.raises(ConfigError, match="no setting"):
        register_component("test_bad_setting.v1", default_config={"depth": 2})(lambda: None)


def test_pipeline_missing_requirement_is_refused_before_running():
    config = {"pipeline": {"components": ["triggers", "sentences"]}}
    with pytest.raises(ConfigError, match="needs sentences"):
        Pipeline.from_config(config)


def test_pipeline_unknown_setting_and_factory_are_refused():
    with pytest.raises(ConfigError, match="no setting"):
        Pipeline.from_config({"pipeline": {"components": ["sentences"]}, "components": {"sentences": {"depth": 1}}})
    with pytest.raises(ConfigError, match="no registered factory"):
        Pipeline.from_config({"pipeline": {"components": ["sentences"]},
                              "components": {"sentences": {"factory": "sentences.v9"}}})


def test_pipeline_user_file_overrides_setting_and_swaps_component(tmp_path):
    calls = []

    @register_component("test_sentences_stub.v1", assigns=["sentences"])
    class Stub:
        def find(self, doc):
            calls.append(doc.id)
            return []

        def annotate(self, doc, found):
            doc.layers["sentences"] = found

    tax = tmp_path / "tax.toml"
    tax.write_text('[types.killing]\nevents = ["liquidated"]\n')
    user = tmp_path / "pipeline.toml"
    user.write_text(f'[pipeline]\ncomponents = ["sentences", "triggers", "incidents"]\n'
                    f'[components.sentences]\nfactory = "test_sentences_stub.v1"\n'
                    f'[components.triggers]\ntaxonomy = "{tax}"\n')
    p = load_pipeline(user)
    assert p.names == ["sentences", "triggers", "incidents"]
    assert p.describe()[1]["settings"]["taxonomy"] == str(tax)
    p(Document(id="d1", text="Two guards were liquidated."))
    assert calls == ["d1"]


def test_pipeline_merge_config_keeps_unlisted_settings():
    base = {"pipeline": {"components": ["a"]}, "components": {"a": {"factory": "a.v1", "x": 1, "y": 2}}}
    out = merge_config(base, {"components": {"a": {"y": 3}}})
    assert out["components"]["a"] == {"factory": "a.v1", "x": 1, "y": 3}
    assert base["components"]["a"]["y"] == 2


def test_pipeline_error_handler_logs_and_skips_in_batch(caplog):
    @register_component("test_explodes.v1", assigns=["boom"])
    class Explodes:
        def find(self, doc):
            raise ValueError("bad luck")

        def annotate(self, doc, found):  # pragma: no cover - never reached
            pass

    p = Pipeline.from_config({"pipeline": {"components": ["sentences", "boom", "triggers", "incidents"]},
                              "components": {"boom": {"factory": "test_explodes.v1"}}})
    doc = Document(id="d2", text="Nine traders were arrested in May.", published=date(2023, 6, 1))
    with pytest.raises(ValueError):
        p(doc)
    out = list(p.pipe([Document(id="d3", text=doc.text, published=doc.published)]))
    assert out[0].layers["errors"][0]["component"] == "boom"
    assert out[0].incidents and out[0].incidents[0].types == ["arbitrary_detention"]
    assert "bad luck" in caplog.text


def test_pipeline_extract_fills_layers_and_incidents():
    doc = Document(id="d4", text="In May, police arrested 12 traders in Hyesan for selling mobile phones, a resident said.",
                   published=date(2023, 6, 1))
    extract(doc)
    assert {"sentences", "triggers"} <= set(doc.layers)
    inc = doc.incidents[0]
    assert inc.id == "d4-i1" and inc.modality == "asserted"
    assert set(inc.types) == {"arbitrary_detention", "expression_crackdown"}


# -- hostile input ------------------------------------------------------------------------------

def _robust_pipeline():
    p = load_pipeline()
    return p


def _check(text: str) -> None:
    doc = Document(id="h", text=text)
    _robust_pipeline()(doc)
    for inc in doc.incidents:
        for s in inc.evidence:
            assert text[s.start:s.end] == s.text


hostile = st.one_of(
    st.text(max_size=3000),
    st.text(alphabet=st.characters(categories=("Lu", "Nd", "Zs", "Po")), max_size=3000),
    st.lists(st.integers(min_value=-10**9, max_value=10**9), max_size=400).map(
        lambda xs: "\n".join(" | ".join(str(x) for x in xs[i:i + 6]) for i in range(0, len(xs), 6))),
    st.lists(st.sampled_from(["북한", "보위부", "Hyesan", "were arrested", "30 families", "군", " ", ".", "\n",
                              "rumours that", "not", "executed", "주민 10명", "“", "”"]), max_size=600).map("".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_pipeline_hostile_text_never_crashes(text):
    _check(text)
    _check(text.upper())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["no sentences", "report", "numbers"])
def test_pipeline_long_input_is_linear(kind):
    unit = {
        "no sentences": "word " * 200,
        "report": "In May, 30 families from Hyesan were banished to Unchon county, a resident said. ",
        "numbers": "12 34 5,600 7.8 | 90 11\n",
    }[kind]

    def seconds(n: int) -> float:
        text = unit * n
        t0 = time.perf_counter()
        _check(text)
        return time.perf_counter() - t0

    small = seconds(max(1, 50_000 // len(unit)))
    big = seconds(max(1, 500_000 // len(unit)))
    # Ten times the text: linear work takes about ten times as long; allow for a busy machine.
    assert big < max(2.0, 30 * small), (small, big)


def test_pipeline_steps_run_one_by_one_give_what_the_pipeline_gives():
    # The benchmark times the steps one by one: that must be the same work as calling the pipeline.
    text = ("In June, 30 families from Hyesan were sent into internal exile, a resident told Daily NK. "
            "\u201cThey were given a day to pack,\u201d the resident said.")
    pipeline = default_pipeline()
    assert [s.name for s in pipeline.steps] == pipeline.names
    whole = pipeline(Document(id="a", text=text, published=date(2023, 7, 2)))
    stepped = Document(id="a", text=text, published=date(2023, 7, 2))
    for step in pipeline.steps:
        step.component.annotate(stepped, step.component.find(stepped))
    assert stepped.explain() == whole.explain()
    assert sorted(stepped.layers) == sorted(whole.layers)
