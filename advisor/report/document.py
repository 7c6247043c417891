"""The advice document: a report rendered as Markdown, HTML or PDF from the Jinja2 templates in reports/."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup, escape

from ..errors import UsageError
from ..words import in_words as show
from ..knowledge import KnowledgeBase, load_knowledge
from ..vocabulary import (ACTION_KINDS, AGREEMENT_LABELS, KIND_LABELS, LEVELS, MIX_LABELS, SEVERITY_LABELS,
                          SEVERITY_ORDER, TERM_LABELS, leaves_step_open)
from .findings import Evidence, Finding, Report
from ..resources import data_path

#: The formats render() knows, and the template each one is made from (PDF is printed from the HTML).
FORMATS = ("markdown", "html", "pdf")
_TEMPLATES = {"markdown": "advice.md.j2", "html": "advice.html", "pdf": "advice.html"}

PDF_HINT = "PDF output needs WeasyPrint: pip install 'advisor[pdf]'"


# Words that read better in capitals or spelled out when a field path is turned into words.
_WORDS = {"kpis": "KPIs", "kpi": "KPI", "ip": "IP", "mou": "MOU", "id": "id", "cpf": "CPF"}
# How an item of a collection is named when the report does not tell its name.
_ITEM_NOUNS = {"partners": "partner", "goals": "goal", "monitoring.kpis": "KPI", "risks": "risk", "waivers": "waiver"}
_INDEXED = re.compile(r"^(?P<coll>[a-z_.]+?)\[(?P<idx>\d+)\](?:\.(?P<rest>.+))?$")


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


def _words(path: str) -> str:
    return " ".join(_WORDS.get(w, w) for w in re.split(r"[._]+", path) if w)


def _subject_collection(f: Finding) -> str | None:
    """The collection (partners, goals, ...) a finding that fires per item names its subject from, when clear."""
    if not f.subject or f.item_index < 0:
        return None
    colls = set()
    for e in f.evidence:
        m = _INDEXED.match(e.path)
        if m and int(m["idx"]) == f.item_index:
            colls.add(m["coll"])
    return colls.pop() if len(colls) == 1 else None


def _item_names(findings: list[Finding]) -> dict[tuple[str, int], str]:
    """Names of collection items (partners[2] -> its name) learnt from the findings that fire per item."""
    names: dict[tuple[str, int], str] = {}
    for f in findings:
        coll = _subject_collection(f)
        if coll is not None and f.subject:
            names.setdefault((coll, f.item_index), f.subject)
    return names


def _item_label(coll: str, idx: int, names: dict[tuple[str, int], str]) -> str:
    name = names.get((coll, idx))
    noun = _ITEM_NOUNS.get(coll, _words(coll))
    if name is None:
        return f"{noun} #{idx + 1}"
    return f"goal {name}" if coll == "goals" else name


def _value_text(value: Any, label: str) -> str:
    if isinstance(value, dict):
        return "set"
    if isinstance(value, float) and not isinstance(value, bool):
        if label.endswith("share") and 0 <= value <= 1.5:
            return show(value, "%")
        value = round(value, 2)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10000:
        return show(value, ",")
    return show(value)


_EMPTY = ("none", "not set")


def _collapse(lines: list[EvidenceLine]) -> list[EvidenceLine]:
    """One field read on every item of a collection: keep the items that made the difference, sum up the rest."""
    fields: dict[tuple[str, str], list[EvidenceLine]] = {}
    for ln in lines:
        m = _INDEXED.match(ln.path)
        if m and m["rest"]:
            fields.setdefault((m["coll"], m["rest"]), []).append(ln)
    out = list(lines)
    for (coll, rest), group in fields.items():
        empty = [ln for ln in group if ln.value in _EMPTY]
        if len(empty) < 3 or len(empty) == len(group):
            continue
        value = empty[0].value if all(ln.value == empty[0].value for ln in empty) else "none or not set"
        noun = _ITEM_NOUNS.get(coll, _words(coll))
        summary = EvidenceLine(
            f"the other {len(empty)} {noun}{'s' if len(empty) != 1 else ''}, {_words(rest)}",
            value,
            None,
            f"{coll}[*].{rest}",
            None,
        )
        out[out.index(empty[0])] = summary
        for ln in empty[1:]:
            out.remove(ln)
    return out


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text


def plain_evidence(e: Evidence, names: dict[tuple[str, int], str] | None = None) -> EvidenceLine:
    """`communication.frequency = ad_hoc` as `communication frequency: ad hoc`; items by their names."""
    names = names or {}
    path, note = e.path, e.note
    if path.startswith("derived."):
        label = _words(path[len("derived.") :])
    else:
        m = _INDEXED.match(path)
        if m:
            owner = _item_label(m["coll"], int(m["idx"]), names)
            label = f"{owner}, {_words(m['rest'])}" if m["rest"] else owner
        else:
            label = _words(path)
    value = _value_text(e.value, label)
    if note and len(note) > 90:
        note = _first_sentence(note)
    if note == "number of items":
        label, note = f"number of {label}", None
    elif note == "section missing":
        label, value, note = f"{label} section", "not filled in", None
    return EvidenceLine(label, value, note, path, e.line)


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
        return _first_sentence(self.advice[0]) if len(self.advice) == 1 else None

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
class Document:
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


def _action(number: int, prefix: str, group: list[Finding], kb: KnowledgeBase, names) -> Action:
    first = group[0]
    lines = [_collapse([plain_evidence(e, names) for e in f.evidence]) for f in group]
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
    noun = _ITEM_NOUNS.get(colls.pop() or "") if len(colls) == 1 else None
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


def _structure_groups(structure: list[Finding], kb: KnowledgeBase, names) -> tuple[StructureGroup, ...]:
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
            acts.append(_action(n, "structure", group, kb, names))
        out.append(StructureGroup(h, tuple(acts)))
    return tuple(out)


def build(report: Report, knowledge: KnowledgeBase | None = None) -> Document:
    """Work out the advice document's contents (no formatting): pure, deterministic."""
    kb = knowledge or load_knowledge()
    names = _item_names(list(report.findings) + [w.finding for w in report.waived])
    gaps = [f for f in report.findings if f.kind in ACTION_KINDS]
    structure = [f for f in report.findings if f.kind == "structure"]
    strengths = [f for f in report.findings if f.kind == "strength"]

    def order(group: list[Finding]) -> tuple:
        return group[0].sort_key[:2] + (kb.order(group[0].guide_refs[0]) if group[0].guide_refs else 10**6,)

    actions = [_action(i, "action", g, kb, names) for i, g in enumerate(sorted(_group(gaps), key=order), 1)]
    groups = _structure_groups(structure, kb, names)
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
    return Document(
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
        strengths=tuple(_action(i, "strength", g, kb, names) for i, g in enumerate(_group(strengths), 1)),
        waived=tuple(
            WaivedItem(_action(i, "waived", [w.finding], kb, names), w.reason, w.until)
            for i, w in enumerate(sorted(report.waived, key=lambda w: w.finding.sort_key), 1)
        ),
        expired=tuple(report.expired_waivers),
        coverage=tuple(coverage),
        facts=facts,
    )


# ---- pictures (inline SVG, no script, no fonts fetched) -------------------------------------------

_SVG_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, Liberation Sans, Arial, sans-serif"'


def _fill(share: float) -> str:
    if share >= 0.8:
        return "#1f7a4d"
    if share >= 0.5:
        return "#b7791f"
    return "#c0392b"


def coverage_svg(coverage: list[AreaCoverage] | tuple[AreaCoverage, ...]) -> Markup:
    """A horizontal bar chart: one bar per area of the guide, the share of its steps in place."""
    width, label_w, bar_w, row, top = 400, 116, 236, 24, 4
    height = top + row * len(coverage) + 6
    parts = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="chart-title chart-desc" {_SVG_FONT} font-size="14">'
        ),
        '<title id="chart-title">How much of each area of the guide is in place</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{c.title}: {c.in_place} of {c.total} steps in place" for c in coverage))
        + "</desc>",
    ]
    for i, c in enumerate(coverage):
        y = top + i * row
        filled = round(bar_w * c.share, 1)
        label = escape(c.area.replace("_", " ").capitalize())
        parts.append(f"<g><title>{escape(c.title)}: {c.in_place} of {c.total} in place</title>")
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" fill="#222">{label}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="15" rx="3" fill="#e6e8eb"/>')
        if filled > 0:
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="{filled}" height="15" rx="3" fill="{_fill(c.share)}"/>'
            )
        parts.append(f'<text x="{label_w + bar_w + 5}" y="{y + 17}" fill="#222">{c.in_place}/{c.total}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def level_svg(declared: str | None, evidenced: str | None, recommended: str | None) -> Markup:
    """The four levels of 9.1 as rising steps, marking the declared, evidenced and recommended level."""
    width, col, base = 420, 105, 92
    marks = (
        ("declared", declared, "#4a5568"),
        ("evidenced", evidenced, "#2b6cb0"),
        ("recommended", recommended, "#1f7a4d"),
    )
    used = [m for m in marks if m[1] in LEVELS]
    height = base + 22 + 16 * max((sum(1 for m in used if m[1] == lv) for lv in LEVELS), default=0) + 4
    parts = [
        (
            f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="ladder-title" {_SVG_FONT} font-size="12">'
        ),
        '<title id="ladder-title">'
        + escape(
            "Partnership levels, lowest to highest: "
            + ", ".join(LEVELS)
            + ". "
            + "; ".join(f"{name}: {value}" for name, value, _ in used)
        )
        + "</title>",
    ]
    for i, lv in enumerate(LEVELS):
        x = i * col
        h = 26 + i * 18
        highlight = lv == recommended
        parts.append(
            f'<rect x="{x + 3}" y="{base - h}" width="{col - 6}" height="{h}" rx="3" '
            f'fill="{"#d7efe2" if highlight else "#eef0f3"}" stroke="{"#1f7a4d" if highlight else "#c5cad1"}"/>'
        )
        parts.append(f'<text x="{x + col / 2}" y="{base - h + 16}" text-anchor="middle" fill="#222">{i + 1}</text>')
        parts.append(
            f'<text x="{x + col / 2}" y="{base + 15}" text-anchor="middle" fill="#222" font-weight="600">{lv}</text>'
        )
        y = base + 32
        for name, value, colour in used:
            if value == lv:
                parts.append(f'<circle cx="{x + 12}" cy="{y - 4}" r="4" fill="{colour}"/>')
                parts.append(f'<text x="{x + 20}" y="{y}" fill="{colour}" font-size="11">{name}</text>')
                y += 16
    parts.append("</svg>")
    return Markup("".join(parts))


# ---- escaping for Markdown ---------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~^$@&#])")
# Only at the start of a text: a list marker ("- ", "+ ", "1. ") followed by a space or the end.
_MD_LINE_START = re.compile(r"^([-+]|\d{1,9}(?=[.)]))(?=[.)]?(\s|$))")


def md_escape(value: Any) -> str:
    """Text that Markdown (GitHub and pandoc) shows as typed: no HTML, links, emphasis or tables."""
    if isinstance(value, Markup):
        return str(value)
    text = " ".join(str(value).split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    m = _MD_LINE_START.match(text)
    if m:
        lead = m.group(1)
        text = (lead + "\\" if lead[0].isdigit() else "\\" + lead) + text[m.end() :]
    return text


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    return md_escape(value)


def _bar(share: float, width: int = 10) -> Markup:
    full = round(share * width)
    return Markup("█" * full + "░" * (width - full))


# ---- rendering --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _environment(folder: str, markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=False if markdown else jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_md_finalize if markdown else None,
    )
    env.filters["md"] = md_escape
    env.filters["bar"] = _bar
    env.filters["upper_first"] = lambda text: text[:1].upper() + text[1:] if text else text
    env.filters["pct"] = lambda share: f"{share * 100:.0f}%"
    env.globals.update(
        coverage_svg=coverage_svg,
        level_svg=level_svg,
        show=show,
        SEVERITY_LABELS=SEVERITY_LABELS,
    )
    return env


def _html(doc: Document) -> str:
    env = _environment(str(data_path("reports")), False)
    return env.get_template(_TEMPLATES["html"]).render(doc=doc, r=doc.report, kb=doc.knowledge)


def render(report: Report, fmt: str, knowledge: KnowledgeBase | None = None) -> str | bytes:
    """The advice document for a report: text for "markdown" and "html", bytes for "pdf".

    The same report gives the same bytes; the date shown is the report's as_of.
    Raises UsageError for an unknown format, or for "pdf" when WeasyPrint is not installed.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown document format {fmt!r}; choose one of {', '.join(FORMATS)}")
    doc = build(report, knowledge)
    if fmt == "markdown":
        env = _environment(str(data_path("reports")), True)
        return env.get_template(_TEMPLATES["markdown"]).render(doc=doc, r=doc.report, kb=doc.knowledge)
    html = _html(doc)
    if fmt == "html":
        return html
    return _pdf(html)


def render_portfolio(summary: Any, rows: Any, knowledge: KnowledgeBase | None = None) -> str:
    """The portfolio overview page (HTML) from reports/portfolio.html.j2: the summary, charts of the
    findings across profiles, and a table with a row per profile linking its advice document.

    `summary` is an advisor.portfolio.PortfolioSummary, `rows` its OverviewRows in input order.
    The template escapes every piece of text itself (autoescape on, whatever its file name).
    """
    from .. import __version__

    rows = list(rows)
    links = {row.source: row.document for row in rows if row.document}
    env = _environment(str(data_path("reports")), False)
    return env.get_template("portfolio.html.j2").render(
        s=summary, rows=rows, links=links, kb=knowledge or load_knowledge(), version=__version__
    )


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    raise ValueError(f"the advice document fetches nothing: {url}")


def _pdf(html: str) -> bytes:
    try:
        import weasyprint  # optional extra advisor[pdf]: imported only here
    except ImportError:
        raise UsageError(PDF_HINT) from None
    except OSError as exc:  # WeasyPrint is there but the system's Pango is not
        raise UsageError(f"{PDF_HINT} (and the Pango library: {str(exc).splitlines()[0]})") from None
    return weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf()
