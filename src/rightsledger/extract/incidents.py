"""Incident assembly: group the facts found around violation triggers into incidents.

A sentence becomes an incident *frame* when a trigger in it reports something done: a past-tense
or participle trigger ("were banished"), or an event noun ("executions") in a sentence that also
has something concrete (a count, a date, a place below country level, "took place"). An event
noun that only places another act in time ("the day after her execution") anchors nothing. Frames
join into incidents by structure: a frame with its own victim count starts a new incident unless
that count was already reported (a headline and the body name the same "30 families") or the
latest incident counted no one yet (neither a number nor one named or pronominal person); a frame
without one joins the latest incident nearby, unless it tells of relatives punished for another's
act beside an incident of other violation types (the family's imprisonment after an execution). Hedged and negated frames make incidents of their
own with that modality, never merged into asserted ones. Generic statements ("usually",
"routinely") make none.

Every fact of an incident keeps the span and Why of the finder that proposed it; choices made
here (a default perpetrator, a village's county, the document's focus country) carry a Why
from this component.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, Iterator, Sequence

from rightsledger.extract.actors import Composition, body_key
from rightsledger.extract.attribution import is_media_anaphor, is_wire_byline
from rightsledger.extract.lexicon import WordStartRegex, by_initial, template
from rightsledger.extract.prechecks import CuedRegex, TailRegex, fragments_by_end
from rightsledger.extract.sentences import Sentence
from rightsledger.extract.triggers import ANCHOR_KINDS, Trigger, span_modality
from rightsledger.model import Actor, Citation, Incident, Place, Span, TypeFact, Victims, Why
from rightsledger.resources import data_file, load_toml

COMPONENT = "incidents.v1"
_LEVEL_RANK = {"country": 0, "province": 1, "county": 2, "city": 3, "village": 4, "facility": 5}


@dataclass(frozen=True, slots=True)
class AssemblyRules:
    """incidents.toml, compiled."""

    max_gap: int
    cue_gap: int
    reference_before: CuedRegex
    reference_window: int
    punitive: frozenset[str]
    moving: frozenset[str]
    across_borders: frozenset[str]
    unit_class: dict[str, str]
    occurrence: CuedRegex
    reporting_before: TailRegex
    reporting_window: int
    reporting_after: re.Pattern[str]
    max_age_days: int
    exclude_place_before: TailRegex
    exclude_place_after: re.Pattern[str]  # only whether it matches is read
    dateline_after: re.Pattern[str]
    caption: WordStartRegex
    exclude_window: int
    audience_before: TailRegex
    audience_after: re.Pattern[str]
    audience_window: int
    singular_subject: re.Pattern[str]
    punished_after: re.Pattern[str]
    not_people: frozenset[str]
    never_sites: frozenset[str]
    agent_gap: re.Pattern[str]
    counted_places: CuedRegex
    another_act: re.Pattern[str]
    another_window: int
    separate_case: re.Pattern[str]
    focus_name: str
    focus_code: str
    focus_cues: WordStartRegex  # looked up once per text, at its possible first words
    default_perpetrator: tuple[str, str]
    state_kinds: frozenset[str]
    describes_source: frozenset[str]
    generic_kinds: frozenset[str]


def _alt(words: Sequence[str], *, at_end: bool = False) -> re.Pattern[str]:
    # A space in an entry matches any run of whitespace: texts arrive hard-wrapped.
    body = "|".join(w.replace(" ", r"\s+") for w in sorted(words, key=len, reverse=True)) or "(?!)"
    return re.compile(rf"(?<!\w)(?:{body})" + (r"\W*$" if at_end else r"(?!\w)"), re.IGNORECASE)


def _tail(words: Sequence[str]) -> TailRegex:
    """Words that must end the text before a fact ("fled to" before a place)."""
    by_end = fragments_by_end(words)
    if by_end is None:
        return TailRegex(_alt(words, at_end=True), None)
    return TailRegex(_alt(words, at_end=True), frozenset(by_end), {end: _alt(some, at_end=True) for end, some in by_end.items()})


def _prefix(patterns: Sequence[str]) -> re.Pattern[str]:
    """Patterns tried with .match() right after a span."""
    return re.compile("|".join(f"(?:{x})" for x in patterns) or "(?!)", re.IGNORECASE)


def _words_after(patterns: Sequence[str], parts: dict[str, str]) -> re.Pattern[str]:
    """Whole words that may follow a span after white space, tried with .match() right after it.

    Only whether it matches is read: the white space is read once for all of them, and the verbs
    are grouped by their first letter (see `by_initial`), instead of each alternative in turn."""
    body = "|".join(f"(?:{template(x, parts, 'incidents lexicon: places.exclude_after')})(?!\\w)" for x in patterns)
    return re.compile(rf"\s*(?:{body or '(?!)'})", re.IGNORECASE)


@lru_cache(maxsize=1)
def load_rules() -> AssemblyRules:
    raw = load_toml(data_file("lexicons", "incidents.toml"))
    g, sup, d, p, perp = raw["grouping"], raw["support"], raw["dates"], raw["places"], raw["perpetrators"]
    vic = raw["victims"]
    unit_class = {}
    for group in g.get("same_units", []):
        for u in group:
            unit_class[u] = group[0]
    focus = p["focus_country"]
    return AssemblyRules(
        max_gap=int(g["max_gap_sentences"]),
        cue_gap=int(g["cue_gap_sentences"]),
        reference_before=CuedRegex(re.compile("(?:" + "|".join(g["reference_before"]) + r")$", re.IGNORECASE)),
        reference_window=int(g["reference_window"]),
        punitive=frozenset(g["punitive_types"]),
        moving=frozenset(g["moving_types"]),
        across_borders=frozenset(g.get("cross_border_types", [])),
        unit_class=unit_class,
        occurrence=CuedRegex(_alt(sup["occurrence"])),
        reporting_before=_tail(d["reporting_before"]),
        reporting_window=int(d["reporting_window"]),
        reporting_after=_prefix(d["reporting_after"]),
        max_age_days=int(float(d["max_age_years"]) * 365),
        exclude_place_before=_tail(p["exclude_before"]),
        exclude_place_after=_words_after(p["exclude_after"], {"speech_verbs": by_initial(p.get("speech_verbs", []))}),
        dateline_after=_prefix(p["dateline_after"]),
        caption=WordStartRegex.of(_alt(p["caption_cues"])),
        exclude_window=int(p["exclude_window"]),
        audience_before=_tail(vic["audience_before"]),
        audience_after=_prefix(vic["audience_after"]),
        audience_window=int(vic["audience_window"]),
        not_people=frozenset(vic.get("not_people_types", [])),
        punished_after=_prefix([rf"\s*(?:{x})" for x in vic.get("punished_after", [])]),
        singular_subject=re.compile(
            r"(?<![\w,])(?:" + "|".join(vic["singular_subject"]) + r")(?: (?:also|was|were|has|had|been|being|later|then|reportedly|allegedly|publicly|secretly|recently|arrested and|and)){1,4} $"),
        never_sites=frozenset(n.lower() for n in p["never_sites"]),
        agent_gap=re.compile(rf"(?:{p['agent_gap']})$", re.IGNORECASE),
        counted_places=CuedRegex(re.compile(p["counted_places"], re.IGNORECASE)),
        another_act=_alt(p["another_act"]),
        another_window=int(p["another_window"]),
        separate_case=_prefix(p["separate_case"]),
        focus_name=focus["name"],
        focus_code=focus["code"],
        focus_cues=WordStartRegex.of(_alt(focus["cues"])),
        default_perpetrator=(perp["default_kind"], perp["default_name"]),
        state_kinds=frozenset(perp.get("state_kinds", [])),
        describes_source=frozenset(raw["sources"]["describes_source"]),
        generic_kinds=frozenset(perp.get("generic_kinds", [])),
    )


@dataclass(slots=True)
class Facts:
    """What the other components found in one document (each list in text order)."""

    dates: Sequence[Any] = ()  # DateMention: .span, .value (DateValue), .relative
    victims: Sequence[Victims] = ()
    perpetrators: Sequence[Actor] = ()
    compositions: Sequence[Composition] = ()  # joint bodies among the perpetrators, with their members
    informants: Sequence[Actor] = ()
    toponyms: Sequence[Any] = ()  # Toponym: .span, .level, .chosen, .cue_role, .to_place(role)
    citations: Sequence[Citation] = ()
    own_outlet: str | None = None  # the document's publisher: never a "media" source of its own story


@dataclass(slots=True)
class _Frame:
    sentence: int
    paragraph: int
    modality: str
    anchors: list[Trigger]
    heading: bool
    relatives: bool = False  # the sentence says relatives were punished (a guilt-by-association cue)
    one_person: bool = False  # no count, but one person is the subject or object of an anchor
    separate: bool = False  # the sentence opens as another case ("In a separate case, …")


@dataclass(slots=True)
class _Group:
    modality: str
    frames: list[_Frame] = field(default_factory=list)
    victim_keys: set[tuple[int, str]] = field(default_factory=set)
    one_person: bool = False
    place_keys: set[str] = field(default_factory=set)
    cues: list[Trigger] = field(default_factory=list)

    @property
    def last(self) -> int:
        return self.frames[-1].sentence

    @property
    def sentences(self) -> list[int]:
        return [f.sentence for f in self.frames]


class _BySentence:
    """Facts bucketed by the sentence their evidence starts in."""

    def __init__(self, starts: Sequence[int], items: Sequence[Any], span_of) -> None:
        self.buckets: dict[int, list[Any]] = {}
        for item in items:
            span = span_of(item)
            if span is None:
                continue
            i = bisect.bisect_right(starts, span.start) - 1
            if i >= 0:
                self.buckets.setdefault(i, []).append(item)

    def get(self, i: int) -> list[Any]:
        return self.buckets.get(i, [])

    def within(self, ids: Sequence[int]) -> list[Any]:
        return [x for i in ids for x in self.buckets.get(i, [])]


def assemble(doc_id: str, text: str, sentences: Sequence[Sentence], triggers: Sequence[Trigger], facts: Facts,
             published: date | None = None, rules: AssemblyRules | None = None) -> list[Incident]:
    """Incidents of one document, asserted and not, ids f"{doc_id}-i{n}" in text order."""
    rules = rules or load_rules()
    if not sentences or not triggers:
        return []
    starts = [s.span.start for s in sentences]
    trig = _BySentence(starts, triggers, lambda t: t.span)
    links = _Covering([t.span for t in triggers if t.kind == "links"])
    victims = _BySentence(starts, [v for v in facts.victims if _incident_victims(text, v, links, rules)],
                          lambda v: v.evidence)
    dates = _BySentence(starts, [d for d in facts.dates if _incident_date(text, d, published, rules)],
                        lambda d: d.span)
    places = _BySentence(starts, _incident_places(text, facts.toponyms, sentences, starts, rules), lambda t: t.span)
    perps = _BySentence(starts, facts.perpetrators, lambda a: a.evidence)
    informants = _BySentence(starts, facts.informants, lambda a: a.evidence)

    frames: list[_Frame] = []
    for si in sorted(trig.buckets):
        frame = _frame(text, sentences[si], trig.get(si), victims.get(si), dates.get(si), places.get(si), rules)
        if frame is not None:
            frames.append(frame)

    groups: list[_Group] = []
    for modality in ("asserted", "hedged"):
        mine = [f for f in frames if (f.modality == "asserted") == (modality == "asserted")]
        groups.extend(_group(text, mine, victims, places, rules))
    groups.sort(key=lambda g: g.frames[0].sentence)
    _attach_cues(groups, triggers, sentences, rules)

    focus = _focus_country(text, facts.toponyms, rules)
    incidents: list[Incident] = []
    for g in groups:
        inc = _build(text, g, sentences, victims, dates, places, perps, informants, facts, focus, rules)
        if inc is not None:
            inc.id = f"{doc_id}-i{len(incidents) + 1}"
            incidents.append(inc)
    _story_places(text, incidents, rules)
    _story_origins(incidents, rules)
    _story_dates(text, incidents, frames, victims, places, dates)
    for inc in incidents:
        _foreign_perpetrators(text, inc, rules)
    _settle_counts(incidents, [v for i, bucket in victims.buckets.items() if not sentences[i].heading for v in bucket],
                   rules)
    return incidents


def _settle_counts(incidents: list[Incident], body: list[Victims], rules: AssemblyRules) -> None:
    """Counts read across the whole story, not one incident at a time:
    - one number told with two units ("30 families" in the headline, "30 households" twice in
      the story) takes the unit the body uses most;
    - a total ("a total of 31 households") that adds up other groups of the incident is not a group;
    - a loose count ("80-some households", "about 80") within a tenth of an exact count of the same
      unit elsewhere in the story is that group again, told by a second source."""
    told: dict[tuple[int, str], dict[str, list[Victims]]] = {}
    for v in body:
        if v.count is not None:
            told.setdefault((v.count, rules.unit_class.get(v.unit, v.unit)), {}).setdefault(v.unit, []).append(v)
    exact = [(v.count, rules.unit_class.get(v.unit, v.unit)) for i in incidents if i.modality == "asserted"
             for v in i.victims if v.count is not None and not v.approximate]
    for inc in incidents:
        out: list[Victims] = []
        for v in inc.victims:
            if v.count is None:
                out.append(v)
                continue
            cls = rules.unit_class.get(v.unit, v.unit)
            units = told.get((v.count, cls), {})
            if units:
                best = max(units.values(), key=len)
                if len(best) > len(units.get(v.unit, ())):
                    v = best[0]
            parts = [w.count for w in inc.victims if w is not v and w.count is not None
                     and rules.unit_class.get(w.unit, w.unit) == cls and w.count < v.count]
            if len(parts) >= 2 and sum(parts) == v.count:
                continue
            if v.approximate and any(u == cls and c != v.count and abs(c - v.count) <= c / 10 for c, u in exact):
                continue
            out.append(v)
        inc.victims = _dedupe(out, lambda w: (w.count, w.unit, w.description) if w.count is None else (w.count, w.unit))


def _foreign_perpetrators(text: str, inc: Incident, rules: AssemblyRules) -> None:
    """Police, courts or "the authorities" acting where every place of the incident lies in another
    state than the one in focus ("detained by police in Vladivostok") are that foreign state."""
    countries = {p.country for p in inc.places}
    if not countries or None in countries or rules.focus_code in countries:
        return
    for i, a in enumerate(inc.perpetrators):
        if a.kind not in rules.state_kinds:
            continue
        before = text[max(0, a.evidence.start - rules.exclude_window) : a.evidence.start]
        if rules.focus_cues.regex.search(before):
            continue  # "North Korean security agents" abroad are still North Korea's
        where = ", ".join(sorted(countries))
        inc.perpetrators[i] = replace(a, kind="foreign_state", why=Why(
            COMPONENT, "foreign-state", f"{a.kind} acting where the incident took place ({where}), outside the focus country"))
    inc.perpetrators = _dedupe(inc.perpetrators, lambda a: a.kind)


_DEFINITE_BEFORE = re.compile(r"\b(?:the|these|those|such)\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)


def _story_dates(text: str, incidents: list[Incident], frames: list[_Frame], victims: _BySentence,
                 places: _BySentence, dates: _BySentence) -> None:
    """An asserted incident with no date of its own takes the date of a later retelling of its
    kind: "The expulsions took place in May" after the expulsion of 22 families and of six of
    them dates both, though it joined only the nearer. A retelling tells its acts only by
    definite event nouns ("the expulsions", "these arrests"), with no count or place of its own."""
    told: list[tuple[set[str], Any]] = []
    for f in frames:
        if f.modality != "asserted" or victims.get(f.sentence) or places.get(f.sentence) or not dates.get(f.sentence):
            continue
        if all(t.kind == "nouns" and _DEFINITE_BEFORE.search(text, max(0, t.span.start - 30), t.span.start)
               for t in f.anchors):
            told.append(({t.code for t in f.anchors}, dates.get(f.sentence)[0]))
    if not told:
        return
    for inc in incidents:
        if inc.modality != "asserted" or inc.date.start is not None or not inc.evidence:
            continue
        for codes, d in told:
            if codes & set(inc.types) and d.span.start > inc.evidence[0].start:
                why = Why(COMPONENT, "story-date", f"no date of its own; the story retells its {', '.join(sorted(codes))} "
                                                   f"with a date ({d.span.text!r})")
                inc.date = replace(d.value, why=why)
                break


def _story_places(text: str, incidents: list[Incident], rules: AssemblyRules) -> None:
    """An incident that names no place of its own and shares a violation type with another asserted
    incident of the story happened where that one did: its places replace the bare focus country.
    The story's earlier incident is preferred ("the families exiled in June…" after the account of
    the exile); a lede with no place takes the place its story gives later ("North Korea executed
    80 people…" before "In Wonsan, …"). An act told as another one ("her husband was also
    arrested", "another woman was detained") is not the earlier incident again: it keeps the focus
    country, as the text does not say where it happened. A later incident told as a separate case
    ("In a separate case, …") lends its places to none."""
    own = [_named_places(i) for i in incidents]
    for k, inc in enumerate(incidents):
        if inc.modality != "asserted" or own[k] or not inc.places or _another_act(text, inc, rules):
            continue
        types = set(inc.types)
        earlier = [j for j in range(k - 1, -1, -1) if incidents[j].modality == "asserted"]
        later = [j for j in range(k + 1, len(incidents)) if incidents[j].modality == "asserted" and own[j]
                 and not (incidents[j].evidence and rules.separate_case.match(text, incidents[j].evidence[0].start))]
        for j in earlier + later:
            named = _named_places(incidents[j])
            if types & set(incidents[j].types) and named:
                when = "earlier" if j < k else "later"
                why = Why(COMPONENT, "story-place", f"no place named; the story's {when} incident {incidents[j].id} took place here")
                inc.places = [replace(p, why=why) for p in named]
                break


def _story_origins(incidents: list[Incident], rules: AssemblyRules) -> None:
    """A part of a group moved earlier in the story left from where the group did: "22 families
    were expelled from Pyongyang… Six of the families were sent to Haewol" moves the six from
    Pyongyang too. Only an incident that names where people were taken but not where from, and
    whose count is a part of the nearest earlier incident of its kind."""
    for k, inc in enumerate(incidents):
        moving = set(inc.types) & rules.moving
        roles = {p.role for p in inc.places}
        if inc.modality != "asserted" or not moving or "destination" not in roles or "origin" in roles:
            continue
        donor = next((incidents[j] for j in range(k - 1, -1, -1)
                      if incidents[j].modality == "asserted" and moving & set(incidents[j].types)), None)
        if donor is None or not _part_of(inc, donor, rules):
            continue
        why = Why(COMPONENT, "story-origin", f"a part of the group of incident {donor.id}, which was moved from here")
        inc.places = [replace(p, why=why) for p in donor.places if p.role == "origin"] + inc.places


def _part_of(inc: Incident, whole: Incident, rules: AssemblyRules) -> bool:
    """Whether a counted group of `inc` is smaller than one of `whole` in the same unit."""
    return any(v.count < w.count and rules.unit_class.get(v.unit, v.unit) == rules.unit_class.get(w.unit, w.unit)
               for v in inc.victims if v.count is not None for w in whole.victims if w.count is not None)


def _named_places(inc: Incident) -> list[Place]:
    return [p for p in inc.places if p.why is None or p.why.rule not in ("focus-country", "story-place")] or \
        [p for p in inc.places if p.why is not None and p.why.rule == "story-place"]


def _another_act(text: str, inc: Incident, rules: AssemblyRules) -> bool:
    """"also", "another" right before one of the incident's triggers: a further act, not a retelling."""
    return any(rules.another_act.search(text, max(0, tf.evidence.start - rules.another_window), tf.evidence.start)
               for tf in inc.type_facts)


# -- frames -------------------------------------------------------------------------------------

def _frame(text: str, sent: Sentence, triggers: list[Trigger], victims: list[Victims], dates: list[Any],
           places: list[Any], rules: AssemblyRules) -> _Frame | None:
    anchors = [t for t in triggers if t.kind in ANCHOR_KINDS and t.modality != "generic"
               and not _reference(text, t, rules)]
    if not anchors:
        return None
    supported = bool(victims or dates or any(t.level != "country" for t in places)) or bool(
        rules.occurrence.search(text, sent.span.start, sent.span.end))
    eventive = [t for t in anchors if t.kind == "events" or supported]
    if not eventive:
        return None
    relatives = any(t.kind == "links" for t in triggers)
    asserted = [t for t in eventive if t.modality == "asserted"]
    modality = "asserted" if asserted else "negated" if all(t.modality == "negated" for t in eventive) else "hedged"
    anchors = asserted or eventive
    one = not any(v.count is not None for v in victims) and any(
        _one_person(text, sent.span.start, t, rules) is not None for t in anchors)
    separate = rules.separate_case.match(text, sent.span.start) is not None
    return _Frame(sent.index, sent.paragraph, modality, anchors, sent.heading, relatives, one, separate)


def _reference(text: str, t: Trigger, rules: AssemblyRules) -> bool:
    """An event noun placing another act in time ("the day after her execution") is not this sentence's act."""
    if t.kind != "nouns":
        return False
    return rules.reference_before.search(text[max(0, t.span.start - rules.reference_window) : t.span.start]) is not None


def _victim_key(v: Victims, rules: AssemblyRules) -> tuple[int, str] | None:
    return None if v.count is None else (v.count, rules.unit_class.get(v.unit, v.unit))


def _place_key(t: Any) -> str:
    c = getattr(t, "chosen", None)
    return c.gazetteer_id if c is not None else t.span.text.lower()


def _group(text: str, frames: list[_Frame], victims: _BySentence, places: _BySentence, rules: AssemblyRules) -> list[_Group]:
    groups: list[_Group] = []
    for f in frames:
        keys = {k for v in victims.get(f.sentence) if (k := _victim_key(v, rules))}
        pkeys = {_place_key(t) for t in places.get(f.sentence) if t.level not in ("country", "province")}
        recent = groups[-1] if groups and f.sentence - groups[-1].last <= rules.max_gap else None
        if recent is not None and recent.modality != f.modality and f.modality != "asserted":
            recent = None  # a negated frame does not extend a hedged one, nor the reverse
        if recent is not None and _relatives_apart(f, recent):
            recent = None
        target: _Group | None = None
        if f.separate:
            target = None  # "In a separate case, …": a new incident, whatever it shares with the others
        elif recent is not None and _retells(text, f, recent):
            target = recent  # "…were forced to watch the executions": the act just told, its crowd
        elif keys:
            target = next((g for g in groups if g.victim_keys & keys), None)
            if target is None and recent is not None and not recent.victim_keys and not recent.one_person \
                    and not _new_places(recent, pkeys):
                target = recent
        elif victims.get(f.sentence) and recent is not None and _new_places(recent, pkeys):
            target = None  # "several families… placed in X county": another group of the same event
        elif recent is not None:
            target = recent
        elif pkeys:
            target = next((g for g in groups if g.place_keys & pkeys), None)
        if target is None:
            target = _Group(f.modality)
            groups.append(target)
        target.frames.append(f)
        target.victim_keys |= keys
        target.one_person |= f.one_person
        target.place_keys |= pkeys
        if f.modality == "negated" or target.modality == "negated":
            target.modality = f.modality if target.modality == "negated" else target.modality
    return groups


def _retells(text: str, f: _Frame, g: _Group) -> bool:
    """Whether the frame names an act of the group again by a definite event noun ("the
    executions", "these arrests")."""
    codes = {t.code for x in g.frames for t in x.anchors}
    return any(t.kind == "nouns" and t.code in codes and _DEFINITE_BEFORE.search(text, max(0, t.span.start - 30), t.span.start)
               for t in f.anchors)


def _relatives_apart(f: _Frame, g: _Group) -> bool:
    """Relatives punished for someone's act ("her husband and children were sent to a camp") are
    an incident of their own beside what was done to that person, unless the latest incident
    already tells of relatives or of the same kind of act."""
    if not f.relatives or any(x.relatives for x in g.frames):
        return False
    return not {t.code for t in f.anchors} & {t.code for x in g.frames for t in x.anchors}


def _new_places(g: _Group, pkeys: set[str]) -> bool:
    return bool(pkeys) and bool(g.place_keys) and not (pkeys & g.place_keys)


def _attach_cues(groups: list[_Group], triggers: Sequence[Trigger], sentences: Sequence[Sentence],
                 rules: AssemblyRules) -> None:
    """Reason and guilt-by-association cues join the incident of their sentence, or the nearest. So
    does a violation noun in a sentence that anchors nothing itself, when that incident is told in
    the noun's paragraph: "… are detained in cells without heating. During hours of forced labour,
    …" tells a condition of the detention, while a paragraph of background does not."""
    # The first asserted group (in text order) holding each sentence; nearest sentence wins, the
    # earlier side on a tie. Looking up sentences around the cue keeps this linear in the text.
    group_at: dict[int, _Group] = {}
    for g in groups:
        if g.modality == "asserted":
            for s in g.sentences:
                group_at.setdefault(s, g)
    for t in triggers:
        if t.modality != "asserted" or t.kind == "events" or (t.kind == "nouns" and t.sentence in group_at):
            continue
        for d in range(rules.cue_gap + 1):
            at = t.sentence - d if t.sentence - d in group_at else t.sentence + d
            g = group_at.get(at)
            if g is not None:
                if t.kind != "nouns" or sentences[at].paragraph == sentences[t.sentence].paragraph:
                    g.cues.append(t)
                break


# -- building an incident -----------------------------------------------------------------------

def _distance(span: Span, anchors: list[Trigger]) -> int:
    return min(max(a.span.start - span.end, span.start - a.span.end, 0) for a in anchors)


def _earlier_in_paragraph(sentences: Sequence[Sentence], i: int) -> Iterator[int]:
    """Indices of the sentences before sentence i in its paragraph, nearest first."""
    for j in range(i - 1, -1, -1):
        if sentences[j].paragraph != sentences[i].paragraph:
            return
        yield j


def _firm(text: str, sentence: Sentence, span: Span) -> bool:
    """A count or place stated as it is, not in a clause of threat, plan or rumour."""
    return span_modality(text, sentence.span, span)[0] == "asserted"


def _build(text: str, g: _Group, sentences: Sequence[Sentence], victims: _BySentence, dates: _BySentence,
           places: _BySentence, perps: _BySentence, informants: _BySentence, facts: Facts,
           focus: Place | None, rules: AssemblyRules) -> Incident | None:
    ids = g.sentences
    inc = Incident(id="", modality=g.modality)
    anchor_types = {t.code for f in g.frames for t in f.anchors}
    for f in g.frames:
        for t in f.anchors:
            inc.type_facts.append(TypeFact(t.code, t.span, t.why or Why(COMPONENT, "trigger"), t.modality))
    if anchor_types & rules.punitive:
        for t in g.cues:
            if t.code not in anchor_types or t.kind == "links":
                inc.type_facts.append(TypeFact(t.code, t.span, t.why or Why(COMPONENT, "cue"), t.modality))
    inc.type_facts = _dedupe(inc.type_facts, lambda tf: (tf.code, tf.evidence.start))
    if not inc.type_facts:
        return None

    # A fact's bucket is its sentence: the sentence its modality is read in.
    firm = (lambda i, span: _firm(text, sentences[i], span)) if g.modality == "asserted" else (lambda i, span: True)
    headings = [sentences[f.sentence].span for f in g.frames if f.heading]
    inc.victims = _victims([v for i in ids for v in victims.get(i) if firm(i, v.evidence)], rules, headings)
    if not any(v.count is not None for v in inc.victims):
        one = _singular_victim(text, sentences, g, rules)
        if one is not None:
            inc.victims.append(one)
    found = [(_distance(d.span, f.anchors), d) for f in g.frames for d in dates.get(f.sentence)]
    if found:
        inc.date = min(found, key=lambda x: x[0])[1].value
    else:
        para_dates = [d for f in g.frames[:1] for i in _earlier_in_paragraph(sentences, f.sentence)
                      for d in dates.get(i)]
        if para_dates:
            inc.date = para_dates[0].value
    anchors = [t.span for f in g.frames for t in f.anchors]
    inc.places = _places(text, [t for i in ids for t in places.get(i) if firm(i, t.span)], set(inc.types) & rules.moving, focus, rules,
                         anchors, sentences)
    inc.perpetrators = _dedupe(_as_members(perps.within(ids), facts.compositions), lambda a: a.kind)
    if any(a.kind not in rules.generic_kinds for a in inc.perpetrators):
        # "the authorities" beside a named organ ("state security agents… the authorities") is that organ.
        inc.perpetrators = [a for a in inc.perpetrators if a.kind not in rules.generic_kinds]
    if not inc.perpetrators:
        kind, name = rules.default_perpetrator
        first = g.frames[0].anchors[0]
        inc.perpetrators = [Actor(kind, name, first.span, Why(COMPONENT, "default-perpetrator",
                                                                "no perpetrator named in the incident's sentences"))]
    inc.sources = _sources(ids, informants, facts, rules)
    inc.evidence = [sentences[i].span for i in ids[:5]]
    return inc


def _as_members(actors: list[Actor], compositions: Sequence[Composition]) -> list[Actor]:
    """A joint body whose members the report lists anywhere ("the inspection group… drawn from
    the Party, the prosecutors and the police") acts as those members."""
    if not compositions:
        return actors
    members: dict[str, list[Actor]] = {}
    for c in compositions:
        members.setdefault(body_key(c.body), []).extend(c.members)
    return [m for a in actors for m in members.get(body_key(a), [a])]


def _dedupe(items, key):
    seen, out = set(), []
    for x in items:
        k = key(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


def _victims(found: list[Victims], rules: AssemblyRules, headings: Sequence[Span] = ()) -> list[Victims]:
    def in_heading(v: Victims) -> bool:
        return any(h.start <= v.evidence.start < h.end for h in headings)

    by_key: dict[Any, Victims] = {}
    for v in found:
        key = _victim_key(v, rules) or ("vague", v.unit, v.description)
        old = by_key.get(key)
        # The same count said twice ("30 families" in the headline, "30 households" in the body):
        # keep one, preferring the body's wording to the headline's, an exact figure to an
        # approximate one, then the first.
        if old is None or (in_heading(old) and not in_heading(v)) or (old.approximate and not v.approximate):
            by_key[key] = v
    return list(by_key.values())


# "<someone> was / has been <trigger>": a singular subject, unless it is "it", "there", "which".
_SINGULAR_AUX = CuedRegex(re.compile(
    r"(?<![\w-])(?!(?:it|there|this|that|which|what|who)\b)[\w’'-]+ (?:(?:also|later|then|reportedly|allegedly|"
    r"recently|publicly|secretly|subsequently) )?(?:was|has been|had been) (?:\w+ )?$", re.IGNORECASE))


def _singular_victim(text: str, sentences: Sequence[Sentence], g: _Group, rules: AssemblyRules) -> Victims | None:
    for f in g.frames:
        for t in f.anchors:
            span = _one_person(text, sentences[f.sentence].span.start, t, rules)
            if span is not None:
                return Victims(1, "persons", span.text.strip(), span, why=Why(
                    COMPONENT, "singular-subject", f"one person is the subject or object of {t.span.text!r}"))
    return None


# "<trigger> him/her" followed by what can end a clause: the one person acted upon ("sentenced him
# to", "beat her and"), not a possessive ("arrested her husband"). Some triggers hold the object
# themselves ("sentenced him to two years").
_OBJECT = re.compile(r"\s+(him|her)(?=\s*[,.;:)]|\s+(?:to|in|for|on|at|and|after|with|without|as|because|over|from|until|before)\b)",
                     re.IGNORECASE)
_INNER_OBJECT = re.compile(r"\s(him|her)\s", re.IGNORECASE)


def _one_person(text: str, sentence_start: int, t: Trigger, rules: AssemblyRules) -> Span | None:
    lo = max(sentence_start, t.span.start - 80)
    m = rules.singular_subject.search(text, lo, t.span.start)
    if m is None and t.kind == "events" and t.code not in rules.not_people:
        m = _SINGULAR_AUX.search(text, lo, t.span.start)
    if m is not None:
        return Span(m.start(), m.end(), m.group(0))
    if t.kind != "events" or t.code in rules.not_people:
        return None
    if o := _OBJECT.match(text, t.span.end):
        return Span(o.start(1), o.end(1), o.group(1))
    if o := _INNER_OBJECT.search(t.span.text):
        return Span(t.span.start + o.start(1), t.span.start + o.end(1), o.group(1))
    return None


def _incident_date(text: str, d: Any, published: date | None, rules: AssemblyRules) -> bool:
    """Not the date a report was made: after a reporting verb, or the publication day itself."""
    v = d.value
    if v is None:
        return False
    if rules.reporting_before.search_slice(text, max(0, d.span.start - rules.reporting_window), d.span.start) or rules.reporting_after.match(text, d.span.end):
        return False
    if published is not None and v.start is not None:
        if v.precision == "day" and v.start == published:
            return False
        if v.start > published:
            return False
        if (published - v.start).days > rules.max_age_days:
            return False
    return True


_PARTITIVE = re.compile(r"(?:one|each|either|neither) of\b", re.IGNORECASE)
_NO_NOUN = re.compile(r"\b(?:the|those|these)\s*$", re.IGNORECASE)


class _Covering:
    """Spans sorted by start, to find those covering an offset without scanning them all."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self.spans = sorted(spans, key=lambda s: s.start)
        self.starts = [s.start for s in self.spans]
        self.longest = max((s.end - s.start for s in self.spans), default=0)

    def covering(self, offset: int) -> list[Span]:
        lo = bisect.bisect_left(self.starts, offset - self.longest)
        hi = bisect.bisect_right(self.starts, offset)
        return [s for s in self.spans[lo:hi] if offset < s.end]


def _incident_victims(text: str, v: Victims, links: _Covering, rules: AssemblyRules) -> bool:
    """Not the relatives whose act is punished ("having two members who fled"), not the crowd."""
    e = v.evidence
    if _PARTITIVE.match(e.text) and _NO_NOUN.search(e.text):
        return False  # "one of the oldest tools": a partitive with no people named, not a group
    if any(not rules.punished_after.match(text, e.end, link.end) for link in links.covering(e.start)):
        return False  # the relatives whose flight is punished, unless the cue says they were punished
    if rules.audience_before.search_slice(text, max(0, e.start - rules.audience_window), e.start):
        return False
    return not rules.audience_after.match(text, e.end)


# Between two names of one list: commas, "and"/"or", other capitalised names.
_LISTED = re.compile(r"(?:\s*,\s*|\s+(?:and|or)\s+|\s*[A-Z][\w'’-]*)*(?:,?\s+(?:and|or)\s+|\s*,\s*)")


_PROVINCE_NOISE = re.compile(r"\b(?:province|sheng|do|region)\b|\W")


def _fold(name: str) -> str:
    return _PROVINCE_NOISE.sub("", name.lower())


def _incident_places(text: str, toponyms: Sequence[Any], sentences: Sequence[Sentence], starts: list[int],
                     rules: AssemblyRules) -> list[Any]:
    """Toponyms that can be places of an incident: not destinations of flight, not outlets,
    not datelines; an excluded name takes the names listed with it ("fled to A and B")."""
    out: list[Any] = []
    prev_excluded: Any = None
    captions: dict[int, bool] = {}  # per sentence: whether it reads as a photo caption
    for t in toponyms:
        name = (t.chosen.name if t.chosen is not None else t.span.text).lower()
        excluded = name in rules.never_sites or t.span.text.lower() in rules.never_sites
        lo = max(0, t.span.start - rules.exclude_window)
        excluded = excluded or bool(rules.exclude_place_before.search_slice(text, lo, t.span.start))
        excluded = excluded or bool(rules.exclude_place_after.match(text, t.span.end))
        if prev_excluded is not None and (_LISTED.fullmatch(text, prev_excluded.span.end, t.span.start) or (
                t.level in ("province", "country") and _ADDRESS_GAP.fullmatch(text, prev_excluded.span.end, t.span.start))):
            excluded = True  # "fled to A and B", "came from Yanji in Jilin Province": one excluded list
        i = bisect.bisect_right(starts, t.span.start) - 1
        if i >= 0 and not text[sentences[i].span.start : t.span.start].strip("“\"'‘ ") and rules.dateline_after.match(
                text, t.span.end):
            excluded = True
        if i >= 0 and not excluded:
            if i not in captions:
                captions[i] = rules.caption.search_window(text, sentences[i].span.start, sentences[i].span.end) is not None
            excluded = captions[i]
        prev_excluded = t if excluded else None
        if not excluded:
            out.append(t)
    return out


def _places(text: str, found: list[Any], moving: set[str], focus: Place | None, rules: AssemblyRules,
            anchors: Sequence[Span] = (), sentences: Sequence[Sentence] = ()) -> list[Place]:
    out: list[Place] = []
    seen: set[str] = set()
    addresses = _address_parts(text, found)
    counted: set[int] = set()  # countries whose sentence counts more places than it names
    for t in found:
        key = _place_key(t)
        if key in seen or id(t) in addresses:
            continue
        if t.level == "country" and not moving and _acting_state(text, t, anchors, rules):
            continue  # "North Korea executed 80 people": the state that acted, not where
        seen.add(key)
        role = t.cue_role if moving and t.cue_role in ("origin", "destination") else "site"
        out.append(t.to_place(role))
        if t.level == "country" and sentences and _counts_places(text, t, sentences, rules):
            counted.add(id(out[-1]))
    # A province named beside a resolved county or city of its own is that place's address.
    inner = {_fold(p.province) for p in out if p.level in ("county", "city") and p.province and p.lat is not None}
    out = [p for p in out if not (p.level == "province" and _fold(p.name) in inner)]
    out += _containing_counties(found, out, moving)
    if any(p.level != "country" for p in out):
        # A country is kept beside finer places only when it is where people were moved from or
        # to: every country of a cross-border return ("caught in China", "sent back to North Korea").
        # Also where the text counts places it does not all name ("in seven cities in North
        # Korea"): the country stands for the unnamed ones.
        across = bool(moving & rules.across_borders)
        out = [p for p in out if p.level != "country" or id(p) in counted or (moving and (p.role != "site" or across))]
    if not out and focus is not None:
        out = [focus]
    return out


def _acting_state(text: str, t: Any, anchors: Sequence[Span], rules: AssemblyRules) -> bool:
    """A country written as the subject of the incident's trigger ("North Korea publicly executed")."""
    return any(0 <= a.start - t.span.end <= 40 and rules.agent_gap.match(text, t.span.end, a.start) for a in anchors)


def _counts_places(text: str, t: Any, sentences: Sequence[Sentence], rules: AssemblyRules) -> bool:
    i = max(0, bisect.bisect_right(sentences, t.span.start, key=lambda s: s.span.start) - 1)
    return rules.counted_places.search(text, sentences[i].span.start, sentences[i].span.end) is not None


def _address_parts(text: str, found: list[Any]) -> set[int]:
    """Mentions that only locate the place written just before them ("Chaeryong county, South
    Hwanghae", "Dandong in Liaoning Province"): the province is the address, not another place.
    Kept when the place it locates has no coordinates (then it is the best location known)."""
    out: set[int] = set()
    for a, b in zip(found, found[1:]):
        outer, inner = b.chosen, a.chosen
        if outer is None or inner is None or inner.lat is None or outer.level not in ("province", "country"):
            continue
        if not _ADDRESS_GAP.fullmatch(text, a.span.end, b.span.start):
            continue
        box = a.container
        if (box is not None and box.gazetteer_id == outer.gazetteer_id) or (
                outer.level == "province" and inner.province and _fold(inner.province) == _fold(outer.name)):
            out.add(id(b))
    return out


# Between a place and its province: ", ", " in ", "… city in".
_ADDRESS_GAP = re.compile(r"(?:\s+(?:city|county|town|village|district))?\s*(?:,|\s(?:in|of))\s*(?:the\s+)?", re.IGNORECASE)


def _containing_counties(found: list[Any], have: list[Place], moving: set[str]) -> list[Place]:
    """A village in a named county gives the county too (resolved when the gazetteer knows it),
    also when the village itself is not in the gazetteer ("Ryongwol village … in Sinwon county")."""
    names = {p.name.lower() for p in have}
    out: list[Place] = []
    for t in found:
        county_name = t.county
        if t.level != "village" or not county_name or county_name.lower() in names:
            continue
        names.add(county_name.lower())
        c, box = t.chosen, t.container
        if box is not None and box.level == "county" and box.name == county_name:
            county = box
        else:
            county = _lookup_county(county_name, c.province if c else (box.province if box else None))
        role = t.cue_role if moving and t.cue_role in ("origin", "destination") else "site"
        why = Why(COMPONENT, "village-county", f"{t.span.text} lies in {county_name}")
        out.append(Place(name=county.name if county else county_name, level="county", evidence=t.span, role=role,
                         lat=county.lat if county else None, lon=county.lon if county else None,
                         gazetteer_id=county.gazetteer_id if county else None,
                         province=county.province if county else None,
                         country=county.country if county else (c.country if c else None), why=why))
    return out


def _lookup_county(name: str, province: str | None) -> Any:
    try:
        from rightsledger.gazetteer import load_gazetteer

        found = load_gazetteer().lookup(name, {"province": province, "level": "county"})
    except Exception:  # the gazetteer is optional here: the county is kept by name
        return None
    return next((c for c in found if c.level == "county"), found[0] if found else None)


def _focus_country(text: str, toponyms: Sequence[Any], rules: AssemblyRules) -> Place | None:
    m = next(rules.focus_cues.finditer(text), None)
    if m is None:
        return None
    span = Span(m.start(), m.end(), m.group(0))
    for t in toponyms:
        c = t.chosen
        if c is not None and c.level == "country" and c.country == rules.focus_code:
            span = t.span
            return Place(c.name, "country", span, lat=c.lat, lon=c.lon, gazetteer_id=c.gazetteer_id,
                         country=c.country, why=Why(COMPONENT, "focus-country", "no place named near the incident"))
    return Place(rules.focus_name, "country", span, country=rules.focus_code,
                 why=Why(COMPONENT, "focus-country", "no place named near the incident"))


def _is_own_outlet(a: Actor, own: str | None) -> bool:
    if a.kind != "media" or not own:
        return False
    try:
        from rightsledger.outlets import load_outlets

        outlet = load_outlets().by_name(a.name)
    except Exception:  # no registry: compare the names as written
        return a.name.lower().startswith(own.lower())
    return outlet is not None and outlet.name == own


def _sources(ids: list[int], informants: _BySentence, facts: Facts, rules: AssemblyRules) -> list[Actor]:
    """Informants in the incident's sentences; else the nearest one before it (the source the
    following "the source said" refers back to), else the next one; plus the relayed outlet.
    A wire byline names the story's author, not a relayed outlet; without a relayed outlet "the
    paper" is the report's own publisher, no source."""
    own = facts.own_outlet
    relayed = [c for c in facts.citations if not is_wire_byline(c)]

    def usable(a: Actor) -> bool:
        return not _is_own_outlet(a, own) and (bool(relayed) or not is_media_anaphor(a))

    near = [a for a in informants.within(ids) if usable(a)]
    if not near:
        # The nearest sentence with a usable informant: at or before the incident, else after it.
        first = min(ids)
        keys = sorted(informants.buckets)
        cut = bisect.bisect_right(keys, first)
        for i in reversed(keys[:cut]):
            if found := [a for a in informants.buckets[i] if usable(a)]:
                near = [max(found, key=lambda a: a.evidence.start)]
                break
        else:
            for i in keys[cut:]:
                if found := [a for a in informants.buckets[i] if usable(a)]:
                    near = [min(found, key=lambda a: a.evidence.start)]
                    break
    out = _dedupe(near, lambda a: a.kind)
    if any(a.kind in rules.describes_source for a in out):
        # "sources in the North told…" leading in the informant described next ("a resident of…")
        out = [a for a in out if a.kind != "unnamed"]
    if relayed and all(a.kind != "media" for a in out):
        c = relayed[0]
        out.append(Actor("media", c.outlet, c.evidence, Why(COMPONENT, "relayed-outlet",
                                                             f"the report relays {c.outlet}")))
    return out
