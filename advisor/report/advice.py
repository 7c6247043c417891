"""The advice's contents, worked out from a report and the guide: the committee brief (verdict, problems to act on
first, questions to settle, what is going well) and the appendices (every problem, structure, later, evidence).

Every sentence a committee reads is made here once, in plain words, and shown by every format (text, Markdown,
HTML, PDF): field paths and rule ids stay in the JSON and in the evidence appendix, set apart for the expert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ..knowledge import KnowledgeBase, load_knowledge
from ..profile.schema import lookup, words_for
from ..vocabulary import (AGREEMENT_LABELS, COLLECTIONS, KIND_WORDS, MARKER_AREAS, MIX_LABELS, SEVERITY_LABELS,
                          STAGE_LABELS, TERM_LABELS, leaves_step_open)
from ..words import (DERIVED_LABELS, UNITS, counted, first_sentence, listed, name_in_words, percent, possessive,
                     shortened, upper_first, value_words)
from .findings import Evidence, Finding, Place, Report

#: The brief names at least this many problems to act on first (when there are that many) ...
BRIEF_PROBLEMS = 3
#: ... and at most this many: the fourth and fifth only when they are as severe as the third.
BRIEF_PROBLEMS_MAX = 5
#: The brief lists at most this many questions to settle, then "and N more".
BRIEF_QUESTIONS = 6
#: The brief names at most this many strengths, then "and N more".
BRIEF_STRENGTHS = 5
#: How many of the guide's passages a problem quotes; the others are listed by id and title.
QUOTED = 1


# ---- readiness -----------------------------------------------------------------------------------


class AreaCoverage(NamedTuple):
    """How much of one area of the guide is in place: `in_place` of its `total` steps due at the stage."""

    area: str
    title: str
    in_place: int
    total: int

    @property
    def share(self) -> float:
        return self.in_place / self.total if self.total else 1.0


def _open_ids(report: Report) -> set[str]:
    """Guide ids that a finding says are not in place (waived findings were accepted, so they do not count)."""
    open_ids: set[str] = set()
    for f in report.findings:
        if leaves_step_open(f.kind, f.severity):
            open_ids.update(f.guide_refs)
    return open_ids


def area_coverage(report: Report, knowledge: KnowledgeBase | None = None, at_stage: bool = False) -> list[AreaCoverage]:
    """For each area of the guide, in the guide's order, how many of its actionable steps are in place.

    A step (an actionable citation id) is *not* in place when a finding of the report that is not waived cites it: a
    governance gap, a failure risk, a question to settle, or a structure finding above `info` (a missing committee
    cites 11.1, a level above the evidence cites 9.2). Everything else counts as in place; this is what the portfolio
    summary counts from the hits alone. With `at_stage`, only the steps due at the partnership's stage are counted
    (not those of later stages, nor those the profile says do not apply), so that the areas add up to the report's
    readiness; a report made without the rulebook's advice counts every step. Pure: same inputs, same result.
    """
    kb = knowledge or load_knowledge()
    open_ids = _open_ids(report)
    due = set(report.advice.steps_due) if at_stage and report.advice is not None else None
    out = []
    for area in kb.areas:
        steps = [sid for sid in area.ids if kb.sections[sid].actionable and (due is None or sid in due)]
        done = sum(1 for sid in steps if sid not in open_ids)
        out.append(AreaCoverage(area.name, area.title, done, len(steps)))
    return out


class Verdict(NamedTuple):
    """How ready the partnership is at its stage, in plain words: a word, a sentence, and what readiness means."""

    word: str
    sentence: str
    explanation: str
    in_place: int
    due: int
    score: int


def verdict(report: Report, problems: tuple["Action", ...] = (), questions: int = 0) -> Verdict:
    """Ready, nearly ready, partly ready or not ready yet, from the steps due at the stage that are in place."""
    summary = report.summary
    readiness = summary.get("readiness")
    if readiness is not None:
        in_place, due = readiness["in_place"], readiness["due"]
    else:
        coverage = area_coverage(report, at_stage=True)
        in_place, due = sum(c.in_place for c in coverage), sum(c.total for c in coverage)
    score = round(100 * in_place / due) if due else 100
    high = any(a.severity == "high" for a in problems)
    if not problems and not questions:
        word = "Ready"
    elif not high and score >= 80:
        word = "Nearly ready"
    elif score >= 50:
        word = "Partly ready"
    else:
        word = "Not ready yet"
    stage = STAGE_LABELS.get(report.stage or "")
    at = f"at its stage ({stage})" if stage else "in all"
    verb = "is" if in_place == 1 else "are"
    sentence = f"Of the {counted(due, 'step')} the guide expects {at}, {in_place} {verb} in place ({percent(score / 100)})."
    left_out = []
    if report.later_hits:
        left_out.append("steps for later stages")
    if report.not_applicable_hits:
        left_out.append("steps the partners say do not apply")
    steps = "the guide's steps due by this stage" if stage else "the guide's steps"
    explanation = (f"Readiness is the share of {steps} that no open problem or question names"
                   + (f"; {listed(left_out)} are not counted." if left_out else "."))
    return Verdict(word, sentence, explanation, in_place, due, score)


# ---- evidence in plain words --------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence as a reader sees it: `label: value`, with an optional note; path and line for the expert."""

    label: str
    value: str
    note: str | None
    path: str
    line: int | None
    place: Place | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return f"{self.label}: {self.value}" if self.value else self.label


def _field_label(parts: tuple) -> str:
    found = words_for(tuple(str(p) for p in parts))
    return found.label if found else name_in_words(".".join(map(str, parts)))


def _unit(place: Place) -> str | None:
    key = place.text if place.index is None else Place(place.field, place.collection).text
    unit = UNITS.get(key)
    if unit is None and not place.derived:
        full = (place.collection or ()) + tuple(p for p in place.field if isinstance(p, str))
        kind = lookup(full)
        unit = "date" if kind is not None and kind.kind == "date" else None
    return unit


def _item_label(collection: str, index: int, item: str | None, label: str) -> str:
    """A field of one item in words: "Mandla Farms' values", "priority of goal g1", "mitigation of the risk “…”"."""
    noun = COLLECTIONS[collection].noun if collection in COLLECTIONS else name_in_words(collection)
    if item is None:
        return f"{label} of {noun} {index + 1}"
    if collection == "partners":
        return f"{possessive(item)} {label}"
    if collection == "goals":
        return f"{label} of goal {item}"
    return f"{label} of the {noun} “{shortened(item)}”"


def plain_evidence(e: Evidence, names: dict[tuple[str, int], str] | None = None, currency: str | None = None) -> EvidenceLine:
    """A piece of evidence in a committee's words: the field's label, the item's name, the value as people write it.

    `communication.frequency = ad_hoc` reads "How often the partners communicate: ad hoc", `partners[2].values` reads
    "Mandla Farms' values: …", `funding.budget_required = 620000` reads "Budget required: R620 000" (with currency
    ZAR). `names` gives item names ((collection, index) -> name) for evidence made without them.
    """
    place, note = e.where, e.note
    if place.derived:
        name = ".".join(map(str, place.field))
        label = DERIVED_LABELS.get(name) or name_in_words(name)
    elif place.collection is not None:
        coll = place.collection_name
        noun = COLLECTIONS[coll].noun if coll in COLLECTIONS else name_in_words(coll)
        label = _field_label(place.collection + place.field) if place.field else noun
        if place.index is None:  # a row standing for the items not listed
            m = re.match(r"and ([\d,]+) more items", note or "")
            rest = f"and {m.group(1)} more {noun}s" if m else f"every {noun}"
            return EvidenceLine(f"… {rest}, {label}", "see the profile" if m else "", None, e.path, e.line, place)
        item = place.item if place.item is not None else (names or {}).get((coll, place.index))
        if DERIVED_LABELS.get(str(place.field[0])) and len(place.field) == 1:
            label = DERIVED_LABELS[str(place.field[0])]
        label = _item_label(coll, place.index, item, label)
    else:
        label = _field_label(place.field)
    unit = _unit(place)
    named = _NAMED_VALUES.get(str(place.field[-1])) if place.field else None
    value = named.get(e.value, value_words(e.value)) if named and isinstance(e.value, str) else value_words(e.value, unit, currency)
    if unit == "months":
        label = label.replace(" in months", "")
    if place.derived and note and str(place.field[0]) not in DERIVED_LABELS:  # a fact of custom rules: its description
        note = first_sentence(re.sub(r"\s*\((?:\d|[A-C]\.)[^)]*\)", "", note))
        note = note if len(note) <= 90 else None
    elif place.derived or (place.collection is not None and str(place.field[0]) in DERIVED_LABELS):
        note = None
    elif note == "number of items":
        label, note = f"number of {label}", None
    elif note == "section missing":
        label, value, note = f"{label} section", "not recorded", None
    else:
        note = None
    return EvidenceLine(upper_first(label), value, note, e.path, e.line, place)


#: Values of a field or derived fact that have words of their own (by the field's or fact's name).
_NAMED_VALUES: dict[str, dict[str, str]] = {
    "term": TERM_LABELS, "stakeholder_mix": MIX_LABELS, "agreement": AGREEMENT_LABELS,
    "recommended_agreement": AGREEMENT_LABELS, "stage": STAGE_LABELS, "working_stage": STAGE_LABELS,
}

_EMPTY = ("none", "not recorded")


def _collapse(lines: list[EvidenceLine]) -> list[EvidenceLine]:
    """One field read on every item of a collection: keep the items that made the difference, sum up the rest."""
    fields: dict[tuple[str, tuple], list[EvidenceLine]] = {}
    for ln in lines:
        place = ln.place
        if place is not None and place.collection and place.index is not None and place.field:
            fields.setdefault((place.collection_name, place.field), []).append(ln)
    out = list(lines)
    for (coll, rest), group in fields.items():
        empty = [ln for ln in group if ln.value in _EMPTY]
        if len(empty) < 3 or len(empty) == len(group):
            continue
        value = empty[0].value if all(ln.value == empty[0].value for ln in empty) else "none or not recorded"
        noun = COLLECTIONS[coll].noun if coll in COLLECTIONS else name_in_words(coll)
        summary = EvidenceLine(f"The other {len(empty)} {noun}s, {_field_label(tuple(coll.split('.')) + rest)}", value,
                               None, f"{coll}[*].{'.'.join(map(str, rest))}", None)
        out[out.index(empty[0])] = summary
        for ln in empty[1:]:
            out.remove(ln)
    return out


# ---- the document's contents ---------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """A passage of the guide; `first_at`/`first_label` point to where the document quoted it first."""

    id: str
    title: str
    text: str
    first_at: str | None = None
    first_label: str | None = None

    @property
    def display(self) -> str:
        """The text as printed, less the comma or "and" that joined it to the next item of a printed list."""
        text = self.text.strip()
        cut = re.sub(r"(,|;|,? and|,? or)$", "", text)
        return cut + "…" if cut != text else text

    @property
    def heading_only(self) -> bool:
        text = re.sub(r"(,|;|,? and|,? or)$", "", self.text.strip())
        return text.rstrip(".:") == self.title.strip().rstrip(".:")


@dataclass(frozen=True)
class Beyond:
    """A law or a good practice beyond the guide that a problem's advice rests on: what it is and what it asks."""

    id: str
    kind: str
    title: str
    text: str

    @property
    def label(self) -> str:
        """How every document introduces it: beyond the guide, a law or good practice."""
        return "Beyond the guide (law)" if self.kind == "law" else "Beyond the guide (good practice)"


@dataclass(frozen=True)
class Item:
    """One finding inside a problem: its subject, message, evidence in words, advice and (for the expert) its rule."""

    subject: str | None
    message: str
    evidence: tuple[EvidenceLine, ...]
    advice: str
    rule: str = ""


@dataclass(frozen=True)
class Action:
    """One problem as the document shows it: numbered in order of what to act on first."""

    number: int
    anchor: str
    problem: str
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    title: str
    message: str
    why: str
    advice: str
    owner: str | None
    refs: tuple[str, ...]
    items: tuple[Item, ...]
    common_evidence: tuple[EvidenceLine, ...]
    notes: tuple[str, ...]
    quotes: tuple[Quote, ...]
    quoted: tuple[Quote, ...]
    see_also: tuple[Quote, ...]
    #: What the subjects are, in the plural ("partners", "goals", "KPIs", "risks").
    subject_noun: str = "items"
    #: Advice beyond the guide the problem cites (laws, good practice), shown as such, never as the guide's words.
    beyond: tuple[Beyond, ...] = ()

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.subject for i in self.items if i.subject))

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.rule for i in self.items if i.rule))


@dataclass(frozen=True)
class Question:
    """A question to settle: what the profile does not record and the partners must decide."""

    text: str
    message: str
    severity: str
    refs: tuple[str, ...]
    subject: str | None


@dataclass(frozen=True)
class QuestionGroup:
    """The questions of one area of the guide."""

    area: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Listed:
    """A finding told in one line: a strength, a step for later, a step that does not apply, a waiver."""

    title: str
    subjects: tuple[str, ...]
    refs: tuple[str, ...]
    message: str = ""
    reason: str | None = None
    until: str | None = None
    rule: str = ""


@dataclass(frozen=True)
class AdviceDocument:
    """Everything the brief and the appendices show, worked out from a report and the knowledge base."""

    report: Report
    knowledge: KnowledgeBase
    verdict: Verdict
    #: the problems to act on first (three to five), then every problem to act on, most pressing first
    first: tuple[Action, ...]
    actions: tuple[Action, ...]
    #: structure findings that need no action (severity info), told with the recommended structure
    notes: tuple[Action, ...]
    #: the questions to settle by area, most important area first; the brief's share of them and how many it leaves out
    questions: tuple[QuestionGroup, ...]
    brief_questions: tuple[QuestionGroup, ...]
    more_questions: int
    strengths: tuple[Listed, ...]
    later: tuple[Listed, ...]
    not_applicable: tuple[Listed, ...]
    waived: tuple[Listed, ...]
    expired: tuple[Listed, ...]
    coverage: tuple[AreaCoverage, ...]
    facts: dict[str, str | None] = field(default_factory=dict)
    currency: str | None = None

    @property
    def readiness(self) -> str:
        return self.verdict.word.lower()

    @property
    def score(self) -> int:
        return self.verdict.score

    @property
    def steps_in_place(self) -> int:
        return self.verdict.in_place

    @property
    def steps_total(self) -> int:
        return self.verdict.due

    @property
    def question_count(self) -> int:
        return sum(len(g.questions) for g in self.questions)

    @property
    def structure_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind == "structure")

    @property
    def more_actions(self) -> int:
        return len(self.actions) - len(self.first)

    @property
    def brief_strengths(self) -> tuple[Listed, ...]:
        return self.strengths[:BRIEF_STRENGTHS]


def _label(a: Action) -> str:
    return f"problem {a.number}" if a.number else f"“{a.title}”"


def _quote_once(actions: list[Action]) -> dict[int, Action]:
    """Quote each passage in full where the document first cites it; later problems point back to it."""
    first: dict[str, Action] = {}
    out: dict[int, Action] = {}
    for a in actions:
        quoted = []
        for q in a.quoted:
            seen = first.setdefault(q.id, a)
            quoted.append(q if seen is a else replace(q, first_at=seen.anchor, first_label=_label(seen)))
        out[id(a)] = replace(a, quoted=tuple(quoted))
    return out


def _quotes(refs: tuple[str, ...], kb: KnowledgeBase) -> tuple[Quote, ...]:
    out = []
    for ref in refs:
        s = kb.get(ref)
        if s is not None:
            out.append(Quote(s.id, s.title, s.text))
    return tuple(out)


def _subject_collection(f: Finding) -> str | None:
    """The collection (partners, goals, ...) of the item a finding that fires per item is about."""
    if not f.subject or f.item_index < 0:
        return None
    colls = {e.where.collection_name for e in f.evidence if e.where.index == f.item_index and e.where.collection}
    return colls.pop() if len(colls) == 1 else None


def _action(number: int, prefix: str, problem: Any, kb: KnowledgeBase, currency: str | None) -> Action:
    group = list(problem.findings)
    lines = [_collapse([plain_evidence(e, currency=currency) for e in f.evidence]) for f in group]
    common = [ln for ln in lines[0] if all(ln in other for other in lines[1:])] if len(group) > 1 else []
    items = tuple(Item(f.subject, f.message, tuple(ln for ln in own if ln not in common), f.advice, f.rule)
                  for f, own in zip(group, lines))
    quotes = _quotes(tuple(problem.guide_refs), kb)
    quoted = tuple(q for q in quotes if not q.heading_only)[:QUOTED]
    colls = {_subject_collection(f) for f in group}
    coll = colls.pop() if len(colls) == 1 else None
    noun = COLLECTIONS[coll].noun if coll in COLLECTIONS else None
    return Action(
        number=number,
        anchor=f"{prefix}-{number}",
        problem=problem.id,
        kind=problem.kind,
        kind_label=KIND_WORDS[problem.kind][0] if problem.kind in KIND_WORDS else problem.kind,
        severity=problem.severity,
        severity_label=SEVERITY_LABELS.get(problem.severity, problem.severity),
        title=problem.title,
        message=problem.message,
        why=problem.why,
        advice=problem.advice,
        owner=problem.owner,
        refs=tuple(problem.guide_refs),
        items=items,
        common_evidence=tuple(common),
        notes=tuple(dict.fromkeys(f.note for f in group if f.note)),
        quotes=quotes,
        quoted=quoted,
        see_also=tuple(q for q in quotes if q not in quoted),
        subject_noun=f"{noun}s" if noun else "items",
        beyond=tuple(Beyond(b.id, b.kind, b.title, b.text) for b in (kb.beyond.get(r) for r in problem.beyond_refs)
                     if b is not None),
    )


def _first(actions: list[Action]) -> tuple[Action, ...]:
    """Three problems to act on first, and a fourth and fifth when they are as severe as the third."""
    count = min(BRIEF_PROBLEMS, len(actions))
    while count < min(BRIEF_PROBLEMS_MAX, len(actions)) and actions[count].severity == actions[count - 1].severity:
        count += 1
    return tuple(actions[:count])


def _area_of_refs(refs: tuple[str, ...], kb: KnowledgeBase) -> tuple[str, str]:
    """The area of the guide a finding belongs to: its first guide ref that is a step (markers of success and failure
    have no area of their own)."""
    for ref in refs:
        name = kb.area_of(ref)
        if name and name not in MARKER_AREAS:
            area = kb.area(name)
            return name, area.title if area else name_in_words(name).capitalize()
    return "other", "Other questions"


def _question_groups(questions: list[Question], kb: KnowledgeBase) -> tuple[QuestionGroup, ...]:
    """Questions grouped by area of the guide; the area of the most important question first."""
    groups: dict[tuple[str, str], list[Question]] = {}
    for q in questions:
        groups.setdefault(_area_of_refs(q.refs, kb), []).append(q)
    return tuple(QuestionGroup(name, title, tuple(qs)) for (name, title), qs in groups.items())


def _listed(findings: Any, reasons: Any = None) -> tuple[Listed, ...]:
    """Findings of the same title in one line, with their subjects (a step for later that applies to 3 partners)."""
    out: dict[str, dict[str, Any]] = {}
    for i, f in enumerate(findings):
        reason, until = reasons[i] if reasons else (None, None)
        entry = out.setdefault(f.title, {"subjects": [], "refs": f.guide_refs, "message": f.message, "reason": reason,
                                         "until": until, "rule": f.rule})
        if f.subject:
            entry["subjects"].append(f.subject)
    return tuple(Listed(title, tuple(dict.fromkeys(e["subjects"])), tuple(e["refs"]), e["message"], e["reason"],
                        e["until"], e["rule"]) for title, e in out.items())


def build(report: Report, knowledge: KnowledgeBase | None = None) -> AdviceDocument:
    """Work out the brief's and the appendices' contents (no formatting): pure, deterministic."""
    kb = knowledge or load_knowledge()
    currency = report.currency
    problems = report.problems
    ranked = [p for p in problems if p.severity != "info"]
    actions = [_action(i, "problem", p, kb, currency) for i, p in enumerate(ranked, 1)]
    notes = [_action(0, f"note-{i}", p, kb, currency) for i, p in enumerate((p for p in problems if p.severity == "info"), 1)]
    # In document order (the problems, then the notes on structure), each passage of the guide is quoted once.
    once = _quote_once(actions + notes)
    actions = [once[id(a)] for a in actions]
    notes = [once[id(a)] for a in notes]
    questions = [Question(f.title, f.message, f.severity, tuple(f.guide_refs), f.subject) for f in report.questions]
    groups = _question_groups(questions, kb)
    brief_groups = _question_groups(questions[:BRIEF_QUESTIONS], kb)
    rec = report.recommendation
    facts = {
        "formality": rec.formality,
        "agreement": AGREEMENT_LABELS.get(rec.agreement or "", rec.agreement),
        "mix": MIX_LABELS.get(rec.stakeholder_mix or "", rec.stakeholder_mix),
        "sectors": counted(report.derived["sector_count"], "sector") if "sector_count" in report.derived else None,
        "term": TERM_LABELS.get(rec.term or "", rec.term),
        "stage": STAGE_LABELS.get(report.stage or "", report.stage),
    }
    waived = sorted(report.waived, key=lambda w: w.finding.sort_key)
    expired_titles = {f.rule: f.title for f in report.findings}
    return AdviceDocument(
        report=report,
        knowledge=kb,
        verdict=verdict(report, tuple(actions), len(questions)),
        first=_first(actions),
        actions=tuple(actions),
        notes=tuple(notes),
        questions=groups,
        brief_questions=brief_groups,
        more_questions=max(0, len(questions) - BRIEF_QUESTIONS),
        strengths=_listed(report.by_kind("strength")),
        later=_listed(report.later),
        not_applicable=_listed([w.finding for w in report.not_applicable], [(w.reason, None) for w in report.not_applicable]),
        waived=_listed([w.finding for w in waived], [(w.reason, w.until) for w in waived]),
        expired=tuple(Listed(expired_titles.get(e["rule"], "A finding waived before"), (), (), e.get("note", ""),
                             e.get("reason"), e.get("until"), e["rule"]) for e in report.expired_waivers),
        coverage=tuple(area_coverage(report, kb, at_stage=True)),
        facts=facts,
        currency=currency,
    )
