from rightsledger.link.citations import attached, citation_link, cited, outlet_key, trace
from rightsledger.model import Citation, Span
from test_link_support import add_incident, report


def test_citations_link_kinds():
    own = report("a", "Our reporter learned of the arrests.", outlet="Daily NK")
    relay = report("b", "Daily NK reported the arrests on Tuesday.", outlet="Weekly Digest", cites=("Daily NK",))
    other = report("c", "Daily NK said the arrests followed a raid.", outlet="Other Wire", cites=("Daily NK",))
    unrelated = report("d", "Radio Free Asia reported a flood.", outlet="Third Wire", cites=("Radio Free Asia",))
    assert citation_link(relay, own).kind == "cites" and citation_link(relay, own).a == "b"
    assert citation_link(own, relay).a == "b"  # direction does not depend on argument order
    assert citation_link(relay, other).kind == "co_cited"
    assert citation_link(relay, unrelated) is None


def test_citations_own_outlet_is_not_a_citation():
    doc = report("a", "Daily NK has learned that Daily NK sources saw it.", outlet="Daily NK", cites=("Daily NK",))
    assert cited(doc) == []
    assert outlet_key("Daily NK") == outlet_key("  daily nk ")


def test_citations_background_citation_far_from_the_incident_is_not_attached():
    filler = "Markets were calm and prices of rice held steady through the spring season. " * 12
    text = "Security agents detained nine traders in Hyesan, a source told Radio Free Asia. " + filler + "Last year Daily NK covered a flood."
    doc = report("a", text, outlet="Weekly Digest", cites=("Radio Free Asia", "Daily NK"))
    inc = add_incident(doc, "Security agents detained nine traders in Hyesan", types=("arbitrary_detention",))
    assert [c.outlet for c in attached(doc, [inc])] == ["Radio Free Asia"]
    bare = add_incident(doc, "Markets were calm", types=("arbitrary_detention",))
    bare.evidence = []
    assert [c.outlet for c in attached(doc, [bare])] == ["Radio Free Asia", "Daily NK"]


def test_citations_trace_follows_copies_and_citations():
    copy_of = {"a": "b"}
    relays = {"b": ["Outlet C"], "a": ["Outlet C"]}
    own_name = {"a": "Outlet A", "b": "Outlet B", "c": "Outlet C"}
    reports = {"Outlet C": "c"}
    assert trace("a", copy_of, relays, lambda n, ex: reports.get(n), own_name) == (["Outlet C"], ["a", "b", "c"])
    assert trace("a", copy_of, relays, lambda n, ex: None, own_name) == (["Outlet C"], ["a", "b"])


def test_citations_trace_survives_a_cycle():
    relays = {"a": ["Outlet B"], "b": ["Outlet A"]}
    own = {"Outlet A": "a", "Outlet B": "b"}
    origins, chain = trace("a", {}, relays, lambda n, ex: own.get(n), {"a": "Outlet A", "b": "Outlet B"})
    assert chain == ["a", "b"] and origins == ["Outlet A"]


def test_citations_citation_without_evidence_is_tolerated():
    doc = report("a", "text", outlet="X")
    doc.cites = [Citation("Yonhap", Span(0, 0, ""))]
    assert [c.outlet for c in cited(doc)] == ["Yonhap"]
