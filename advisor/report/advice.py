"""The advice document's contents, worked out from a report and the guide: actions, structure, evidence in words, coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ..knowledge import KnowledgeBase, load_knowledge
from ..vocabulary import (ACTION_KINDS, AGREEMENT_LABELS, COLLECTIONS, KIND_LABELS, MIX_LABELS, SEVERITY_LABELS,
                          SEVERITY_ORDER, TERM_LABELS, leaves_step_open)
from ..words import first_sentence, in_words, item_in_words, name_in_words
from .findings import Evidence, Finding, Place, Report


# ---- per-area coverage -------------------------------------------------------------------------


class AreaCoverage(NamedTuple):
    """How much of one area of the guide is in place: `in_place` of its `total` actionable steps."""

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


def area_coverage(report: Report, knowledge: KnowledgeBase | None = None) -> list[AreaCoverage]:
    """For each area of the guide, in the guide's order, how many of its actionable steps are in place.

    A step (an actionable citation id) is *not* in place when a finding of the report that is
    not waived cites it: a governance gap, a failure risk, or a structure finding above `info`
    (a missing committee cites 11.1, a level above the evidence cites 9.2: both say a step of
    the guide is not done). Everything else counts as in place. Pure: same inputs, same result.
    Returns (area name, area title, in place, total) tuples.
    """
    kb = knowledge or load_knowledge()
    open_ids = _open_ids(report)
    out = []
    for area in kb.areas:
        steps = [sid for sid in area.ids if kb.sections[sid].actionable]
        done = sum(1 for sid in steps if sid not in open_ids)
        out.append(AreaCoverage(area.name, area.title, done, len(steps)))
    return out


# ---- evidence in plain words --------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence as a reader sees it: `label: value`, with an optional note."""

    label: str
    value: str
    note: str | None
    path: str
    line: int | None
    place: Place | None = field(default=None, compare=False)


def _subject_collection(f: Finding) -> str | None:
    """The collection (partners, goals, ...) of the item a finding that fires per item is about."""
    if not f.subject or f.item_index < 0:
        return None
    colls = {e.where.collection_name for e in f.evidence if e.where.index == f.item_index and e.where.collection}
    return colls.pop() if len(colls) == 1 else None


def _value_text(value: Any, label: str) -> str:
    if isinstance(value, dict):
        return "set"
    if isinstance(value, float) and not isinstance(value, bool):
        if label.endswith("share") and 0 <= value <= 1.5:
            return in_words(value, "%")
        value = round(value, 2)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10000:
        return in_words(value, ",")
    return in_words(value)


_EMPTY = ("none", "not set")


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
        value = empty[0].value if all(ln.value == empty[0].value for ln in empty) else "none or not set"
        noun = COLLECTIONS[coll].noun if coll in COLLECTIONS else name_in_words(coll)
        field_name = ".".join(map(str, rest))
        summary = EvidenceLine(
            f"the other {len(empty)} {noun}{'s' if len(empty) != 1 else ''}, {name_in_words(field_name)}",
            value,
            None,
            f"{coll}[*].{field_name}",
            None,
        )
        out[out.index(empty[0])] = summary
        for ln in empty[1:]:
            out.remove(ln)
    return out


def plain_evidence(e: Evidence, names: dict[tuple[str, int], str] | None = None) -> EvidenceLine:
    """`communication.frequency = ad_hoc` as `communication frequency: ad hoc`; items by their names.

    `names` gives item names ((collection, index) -> name) for evidence made without them.
    """
    place, note = e.where, e.note
    field_name = ".".join(map(str, place.field))
    if place.derived:
        label = name_in_words(field_name)
    elif place.collection is not None and place.index is not None:
        item = place.item if place.item is not None else (names or {}).get((place.collection_name, place.index))
        owner = item_in_words(place.collection_name, place.index, item)
        label = f"{owner}, {name_in_words(field_name)}" if place.field else owner
    else:
        label = name_in_words(e.path)
    value = _value_text(e.value, label)
    if note and len(note) > 90:
        note = first_sentence(note)
    if note == "number of items":
        label, note = f"number of {label}", None
    elif note == "section missing":
        label, value, note = f"{label} section", "not filled in", None
    return EvidenceLine(label, value, note, e.path, e.line, place)


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
        return self.text.strip().rstrip(".:") == self.title.strip().rstrip(".:")


@dataclass(frozen=True)
class Item:
    """One firing of a rule inside an action: its subject, message, own evidence and advice."""

    subject: str | None
    message: str
    evidence: tuple[EvidenceLine, ...]
    advice: str


@dataclass(frozen=True)
class Action:
    """The findings of one rule at one severity, as one numbered entry of a list."""

    number: int
    anchor: str
    rule: str
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    title: str
    refs: tuple[str, ...]
    items: tuple[Item, ...]
    common_evidence: tuple[EvidenceLine, ...]
    advice: tuple[str, ...]
    notes: tuple[str, ...]
    quotes: tuple[Quote, ...]
    quoted: tuple[Quote, ...]
    see_also: tuple[Quote, ...]
    #: What the subjects are, in the plural ("partners", "goals", "KPIs", "risks"), for "This applies to 5 partners".
    subject_noun: str = "items"

    @property
    def advice_short(self) -> str | None:
        """The first sentence of the advice when there is one piece of advice, for the verdict."""
        return first_sentence(self.advice[0]) if len(self.advice) == 1 else None

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(i.subject for i in self.items if i.subject)


@dataclass(frozen=True)
class WaivedItem:
    action: Action
    reason: str
    until: str | None


@dataclass(frozen=True)
class StructureGroup:
    heading: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class AdviceDocument:
    """Everything the templates show, worked out from a report and the knowledge base."""

    report: Report
    knowledge: KnowledgeBase
    readiness: str
    score: int
    counts: dict[str, int]
    steps_in_place: int
    steps_total: int
    first: tuple[Action, ...]
    actions: tuple[Action, ...]
    structure_groups: tuple[StructureGroup, ...]
    strengths: tuple[Action, ...]
    waived: tuple[WaivedItem, ...]
    expired: tuple[dict[str, Any], ...]
    coverage: tuple[AreaCoverage, ...]
    facts: dict[str, str | None] = field(default_factory=dict)


#: How many of the guide's passages an action quotes; the others are listed by id and title.
QUOTED = 2


def _label(a: Action) -> str:
    return f"action {a.number}" if a.kind in ACTION_KINDS else f"“{a.title}”"


def _quote_once(actions: list[Action]) -> dict[int, Action]:
    """Quote each passage in full where the document first cites it; later actions point back to it."""
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


def _group(findings: list[Finding]) -> list[list[Finding]]:
    """Findings of the same rule and severity together, in report order (severity, guide order, rule)."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.sort_key):
        groups.setdefault((f.rule, f.severity), []).append(f)
    return list(groups.values())


def _action(number: int, prefix: str, group: list[Finding], kb: KnowledgeBase) -> Action:
    first = group[0]
    lines = [_collapse([plain_evidence(e) for e in f.evidence]) for f in group]
    if len(group) > 1:
        common = [ln for ln in lines[0] if all(ln in other for other in lines[1:])]
    else:
        common = []
    items = tuple(
        Item(f.subject, f.message, tuple(ln for ln in own if ln not in common), f.advice)
        for f, own in zip(group, lines)
    )
    advice: list[str] = []
    for f in group:
        text = f.advice
        if len(group) > 1 and len({g.advice for g in group}) > 1 and f.subject and f.subject not in text:
            text = f"{f.subject}: {text}"
        if text not in advice:
            advice.append(text)
    notes = tuple(dict.fromkeys(f.note for f in group if f.note))
    quotes = _quotes(tuple(first.guide_refs), kb)
    quoted = tuple(q for q in quotes if not q.heading_only)[:QUOTED]
    colls = {_subject_collection(f) for f in group}
    coll = colls.pop() if len(colls) == 1 else None
    noun = COLLECTIONS[coll].noun if coll in COLLECTIONS else None
    return Action(
        number=number,
        anchor=f"{prefix}-{number}",
        rule=first.rule,
        kind=first.kind,
        kind_label=KIND_LABELS.get(first.kind, first.kind),
        severity=first.severity,
        severity_label=SEVERITY_LABELS.get(first.severity, first.severity),
        title=first.title,
        refs=tuple(first.guide_refs),
        items=items,
        common_evidence=tuple(common),
        advice=tuple(advice),
        notes=notes,
        quotes=quotes,
        quoted=quoted,
        see_also=tuple(q for q in quotes if q not in quoted),
        subject_noun=f"{noun}s" if noun else "items",
    )


def _readiness(report: Report, actions: list[Action], structure: list[Finding]) -> str:
    """Ready, nearly ready, partly ready or not ready: from what is open and the report's readiness score."""
    high = any(a.severity == "high" for a in actions) or any(f.severity == "high" for f in structure)
    to_fix = bool(actions) or any(f.severity != "info" for f in structure)
    score = report.summary["score"]
    if not to_fix:
        return "ready"
    if not high and score >= 80:
        return "nearly ready"
    return "partly ready" if score >= 50 else "not ready"


AGREEMENTS = "Formality and agreements"
LEVEL = "Partnership level"
COMMITTEE = "Committee and partners"
_GROUP_HEADINGS = ((LEVEL, ("level",)), (AGREEMENTS, ("type",)), (COMMITTEE, ("composition", "leadership")))


def _heading(f: Finding, kb: KnowledgeBase) -> str:
    """Where a structure finding belongs: its main (first) guide reference decides, agreements stay together."""
    area = kb.area_of(f.guide_refs[0]) if f.guide_refs else None
    if "agreement" in f.rule or area == "type":
        return AGREEMENTS
    for heading, areas in _GROUP_HEADINGS:
        if area in areas:
            return heading
    a = kb.area(area) if area else None
    return a.title if a else "Other arrangements"


def _structure_groups(structure: list[Finding], kb: KnowledgeBase) -> tuple[StructureGroup, ...]:
    by_heading: dict[str, list[list[Finding]]] = {}
    for group in _group(structure):
        by_heading.setdefault(_heading(group[0], kb), []).append(group)
    order = [h for h, _ in _GROUP_HEADINGS]
    headings = order + sorted(h for h in by_heading if h not in order)
    out = []
    n = 0
    for h in headings:
        acts = []
        for group in by_heading.get(h, []):
            n += 1
            acts.append(_action(n, "structure", group, kb))
        out.append(StructureGroup(h, tuple(acts)))
    return tuple(out)


def build(report: Report, knowledge: KnowledgeBase | None = None) -> AdviceDocument:
    """Work out the advice document's contents (no formatting): pure, deterministic."""
    kb = knowledge or load_knowledge()
    gaps = [f for f in report.findings if f.kind in ACTION_KINDS]
    structure = [f for f in report.findings if f.kind == "structure"]
    strengths = [f for f in report.findings if f.kind == "strength"]

    def order(group: list[Finding]) -> tuple:
        return group[0].sort_key[:2] + (kb.order(group[0].guide_refs[0]) if group[0].guide_refs else 10**6,)

    actions = [_action(i, "action", g, kb) for i, g in enumerate(sorted(_group(gaps), key=order), 1)]
    groups = _structure_groups(structure, kb)
    # In document order (structure, then the action plan), each passage of the guide is quoted once.
    once = _quote_once([a for g in groups for a in g.actions] + actions)
    groups = tuple(StructureGroup(g.heading, tuple(once[id(a)] for a in g.actions)) for g in groups)
    actions = [once[id(a)] for a in actions]
    structure_actions = [a for g in groups for a in g.actions]
    # The three things to do first: the most severe of the action plan and of the structure, in guide order.
    candidates = actions + [a for a in structure_actions if a.severity != "info"]
    candidates.sort(key=lambda a: (SEVERITY_ORDER[a.severity], 0 if a.kind in ACTION_KINDS else 1, a.number))
    coverage = area_coverage(report, kb)
    counts = {
        "high": sum(len(a.items) for a in candidates if a.severity == "high"),
        "other": sum(len(a.items) for a in candidates if a.severity != "high"),
        "actions": len(actions),
        "findings": sum(len(a.items) for a in actions),
        "structure": len(structure_actions),
        "strengths": len(strengths),
    }
    rec = report.recommendation
    facts = {
        "formality": rec.formality,
        "agreement": AGREEMENT_LABELS.get(rec.agreement or "", rec.agreement),
        "mix": MIX_LABELS.get(rec.stakeholder_mix or "", rec.stakeholder_mix),
        "sectors": str(report.derived["sector_count"]) if "sector_count" in report.derived else None,
        "term": TERM_LABELS.get(rec.term or "", rec.term),
    }
    return AdviceDocument(
        report=report,
        knowledge=kb,
        readiness=_readiness(report, actions, structure),
        score=report.summary["score"],
        counts=counts,
        steps_in_place=sum(c.in_place for c in coverage),
        steps_total=sum(c.total for c in coverage),
        first=tuple(candidates[:3]),
        actions=tuple(actions),
        structure_groups=groups,
        strengths=tuple(_action(i, "strength", g, kb) for i, g in enumerate(_group(strengths), 1)),
        waived=tuple(
            WaivedItem(_action(i, "waived", [w.finding], kb), w.reason, w.until)
            for i, w in enumerate(sorted(report.waived, key=lambda w: w.finding.sort_key), 1)
        ),
        expired=tuple(report.expired_waivers),
        coverage=tuple(coverage),
        facts=facts,
    )
