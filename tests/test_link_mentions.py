"""Named people and credited organisations near an incident, and what they do to cases and origins."""

from datetime import date

from rightsledger.link import link, load_settings
from rightsledger.link.mentions import credited_organisations, person_names
from test_link_support import add_incident, report

S = load_settings()


def test_mentions_person_names_fold_spelling_and_skip_public_figures():
    text = ("Pak Sun-hui, 41, was taken away; Kim Jong Un was touring a farm. Relatives of Pak Sun Hui "
            "said Choe Myong Gil had also been held. The Kim Il Sung statue was covered.")
    assert person_names(text, S) == {"pak sun hui", "choe myong gil"}


def test_mentions_credited_organisations_need_a_credit_and_a_named_body():
    text = ("A report by the Committee for Invented Camp Survivors, released Monday, named the guards. "
            "According to the Citizens' Alliance for Imaginary Rights, more were held. "
            "A report by local residents said little; according to Radio Free Asia the camp is closed.")
    assert credited_organisations(text, S) == ["Committee for Invented Camp Survivors",
                                               "Citizens' Alliance for Imaginary Rights"]


def _execution_report(doc_id, text, outlet, published, *, when=None, places=("North Korea",), sources=()):
    doc = report(doc_id, text, outlet=outlet, published=published)
    add_incident(doc, text.split(".")[0], types=("killing",), when=when, places=places, victims=((1, "persons"),),
                 sources=sources)
    return doc


def test_mentions_shared_victim_name_links_undated_reports_and_unnamed_groups_join_the_named_origin():
    a = _execution_report(
        "n1", "A teacher, Ryom Chol Hwan, was executed in public last month, a report by the Committee for "
              "Invented Camp Survivors said. The group cited court papers.",
        "Outlet One", date(2025, 5, 2), when=(date(2025, 4, 1), "month"), sources=(("organization", "the group"),))
    b = _execution_report(
        "n2", "North Korea executed Ryom Chol-hwan, a teacher, activists said in a report. He had kept foreign films.",
        "Outlet Two", date(2025, 5, 3), sources=(("organization", "activists"), ("document", "a report")))
    c = _execution_report(
        "n3", "A teacher named Ryom Chol Hwan was shot in front of a crowd, a resident told Outlet Three reporters.",
        "Outlet Three", date(2025, 5, 6), sources=(("resident", "a resident"),))
    other = _execution_report(
        "n4", "A soldier, So Kwang Nam, was executed for desertion last month, activists said in a report.",
        "Outlet Four", date(2025, 5, 4), when=(date(2025, 4, 1), "month"),
        sources=(("organization", "activists"), ("document", "a report")))
    result = link([a, b, c, other])
    (case,) = [k for k in result.cases if len(k.members) > 1]
    assert sorted(m.document_id for m in case.members) == ["n1", "n2", "n3"]
    assert any(r.rule == "names_shared" for p in case.reasons for r in p.reasons)
    # n2 rests on an unnamed group's report: the one the case names; n3 has its own informant
    assert case.independent_origins == ["Committee for Invented Camp Survivors", "Outlet Three"]
    assert {m.document_id: m.role for m in case.members} == {"n1": "re-report", "n2": "re-report", "n3": "origin"}
