from rightsledger.link import load_settings
from rightsledger.link.shared_quotes import quote_keys, quoted_passages, shared_quotes
from rightsledger.model import Span
from test_link_support import report

S = load_settings()
SAID = "They took the whole family away before dawn and nobody has heard from them since."


def test_shared_quotes_normalise_marks_spacing_and_case():
    a = report("a", f'A neighbour said: "{SAID}" The police declined to comment.')
    b = report("b", "“" + SAID.upper().replace(" ", "  ") + "” the neighbour told another outlet.")
    link = shared_quotes(a, b, S)
    assert link is not None and link.kind == "quote" and (link.a, link.b) == ("a", "b")


def test_shared_quotes_short_or_different_quotes_do_not_link():
    a = report("a", 'He said "no comment" and left. "The harvest was poor this year in our county."')
    b = report("b", 'She said "no comment" too. "Soldiers guarded the station every night last week."')
    assert shared_quotes(a, b, S) is None
    assert len(quote_keys(a, S)) == 1  # "no comment" is too short to identify an account


def test_shared_quotes_one_sentence_of_a_longer_quote_is_enough():
    a = report("a", f'"{SAID} We are all afraid now."')
    b = report("b", f'An official added: "Orders came from the provincial committee last Tuesday. {SAID}"')
    assert shared_quotes(a, b, S) is not None


def test_shared_quotes_layer_is_preferred_over_the_pattern():
    text = f'Intro. {SAID} Then "an unrelated sentence that is long enough to count here" closes.'
    doc = report("a", text)
    start = text.index(SAID)
    doc.layers["quotes"] = [{"span": {"start": start, "end": start + len(SAID), "text": SAID}}]
    assert [s.text for s in quoted_passages(doc)] == [SAID]
    doc.layers["quotes"] = [Span(start, start + len(SAID), SAID)]
    assert list(quote_keys(doc, S).values()) == [SAID]
