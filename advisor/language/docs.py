"""Rule documentation generated from the rule files: conditions in words, the Markdown reference, guide coverage."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..knowledge import KnowledgeBase
from ..resources import data_path
from ..vocabulary import (FOCUS_LABELS, FOCUSES, KIND_ORDER, KIND_TITLES, KIND_WORDS, MARKER_AREAS, MARKER_TITLES, SEVERITY_ORDER, STAGE_LABELS,
                          STAGES)
from ..words import literal
from .syntax import All, AnyOf, Check, Compare, Count, Derived, Not, ProblemDef, Quantifier, Ranking, Ref, Rule, RuleSet

if TYPE_CHECKING:
    from ..rulebook import Rulebook

#: The command that writes the committed reference, named in its introduction.
DOCS_COMMAND = "advisor rules docs -o rules/REFERENCE.md"

_COMPARE_WORDS = {
    "eq": "is",
    "neq": "is not",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is more than",
    "gte": "is at least",
}
_COUNT_WORDS = {
    "eq": "exactly",
    "neq": "other than",
    "lt": "fewer than",
    "lte": "at most",
    "gt": "more than",
    "gte": "at least",
}
_CHECK_WORDS = {"exists": "is set", "missing": "is missing", "empty": "is empty", "non_empty": "is not empty"}
_CHECK_OPPOSITE = {"exists": "missing", "missing": "exists", "empty": "non_empty", "non_empty": "empty"}
_QUANTIFIER_WORDS = {"some": "for at least one item of", "every": "for every item of", "none": "for no item of"}


# --------------------------------------------------------------------------- conditions in words


def _literal(ref: Ref, value: Any) -> str:
    if isinstance(value, str) and ref.type.kind == "str":
        return f'"{value}"'
    if isinstance(value, str) and ref.type.kind == "list" and ref.type.item is not None and ref.type.item.kind == "str":
        return f'"{value}"'
    return literal(value)


def _compare(node: Compare, negate: bool = False) -> str:
    name = node.ref.text
    if node.op == "eq" and isinstance(node.value, bool):
        return f"{name} is {'not ' if negate else ''}{literal(node.value)}"
    if node.op in ("in", "not_in"):
        inside = (node.op == "in") != negate
        values = ", ".join(_literal(node.ref, v) for v in node.value)
        return f"{name} is {'one' if inside else 'none'} of {values}"
    if node.op == "contains":
        return f"{name} {'does not contain' if negate else 'contains'} {_literal(node.ref, node.value)}"
    if negate:
        opposite = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt"}[node.op]
        return f"{name} {_COMPARE_WORDS[opposite]} {_literal(node.ref, node.value)}"
    return f"{name} {_COMPARE_WORDS[node.op]} {_literal(node.ref, node.value)}"


def _count(node: Count) -> str:
    noun = "item" if node.value == 1 else "items"
    return f"{node.ref.text} has {_COUNT_WORDS[node.op]} {node.value} {noun}"


def condition_in_words(cond: Any, *, _nested: bool = False) -> str:
    """A parsed condition (advisor.language AST) in readable English.

    >>> condition_in_words(rule.when)  # doctest: +SKIP
    '(communication.frequency is missing or communication.frequency is one of none, ad_hoc) and communication.plan is not true'
    """
    if isinstance(cond, (All, AnyOf)):
        joiner = " and " if isinstance(cond, All) else " or "
        if len(cond.items) == 1:
            return condition_in_words(cond.items[0], _nested=_nested)
        text = joiner.join(condition_in_words(c, _nested=True) for c in cond.items)
        return f"({text})" if _nested else text
    if isinstance(cond, Not):
        inner = cond.item
        if isinstance(inner, Compare):
            return _compare(inner, negate=True)
        if isinstance(inner, Check):
            return f"{inner.ref.text} {_CHECK_WORDS[_CHECK_OPPOSITE[inner.op]]}"
        if isinstance(inner, Not):
            return condition_in_words(inner.item, _nested=_nested)
        return f"not ({condition_in_words(inner)})"
    if isinstance(cond, Compare):
        return _compare(cond)
    if isinstance(cond, Check):
        return f"{cond.ref.text} {_CHECK_WORDS[cond.op]}"
    if isinstance(cond, Count):
        return _count(cond)
    if isinstance(cond, Quantifier):
        return f"{_QUANTIFIER_WORDS[cond.mode]} {cond.ref.text} ({condition_in_words(cond.where)})"
    raise TypeError(f"not a condition: {cond!r}")


#: A condition longer than this in words is shown as an outline ("all of:" with one line per item).
OUTLINE_AFTER = 100


def condition_outline(cond: Any, width: int = OUTLINE_AFTER) -> list[str]:
    """A condition as an outline: the words when they fit in width, else "all of:"/"any of:" and its items.

    Items are indented by two spaces under their header, each starting with "- ".
    """
    words = condition_in_words(cond)
    if len(words) <= width or not isinstance(cond, (All, AnyOf)) or len(cond.items) < 2:
        return [words]
    lines = ["all of:" if isinstance(cond, All) else "any of:"]
    for item in cond.items:
        sub = condition_outline(item, width)
        lines.append("- " + sub[0])
        lines.extend("  " + line for line in sub[1:])
    return lines


def _collection_field(ref: Ref) -> str:
    return ".".join((ref.collection or ()) + ref.path)


def computation_in_words(derived: Derived) -> str:
    """How a computed derived fact is worked out, in words."""
    if derived.compute is None:
        raise ValueError(f"derived fact '{derived.name}' is decided by cases, not computed")
    func, args = derived.compute
    a = [r.text for r in args]
    words = {
        "count": lambda: f"the number of items in {a[0]} (0 when absent)",
        "distinct": lambda: f"the number of distinct values of {_collection_field(args[0])}",
        "count_set": lambda: f"the number of items of {'.'.join(args[0].collection or ())} whose "
                             f"{'.'.join(args[0].path)} is set and not empty",
        "common": lambda: f"the number of values that every item of {'.'.join(args[0].collection or ())} lists "
                          f"in {'.'.join(args[0].path)}",
        "overlap": lambda: f"the number of values {a[0]} and {a[1]} share",
        "ratio": lambda: f"{a[0]} divided by {a[1]}",
        "difference": lambda: f"{a[0]} minus {a[1]}",
        "days_since": lambda: f"the days from {a[0]} to the evaluation date (--as-of)",
        "progress": lambda: f"the share of the way from {a[0]} to {a[1]} that {a[2]} has come",
    }
    return words[func]() if func in words else f"{func}({', '.join(a)})"


# --------------------------------------------------------------------------- where rules come from


def source_name(source: str) -> str:
    """A rule file's path for people: `rules/...` for the shipped rules, else relative to the current folder."""
    path = Path(source)
    shipped = data_path("rules").resolve()
    try:
        return (Path("rules") / path.resolve().relative_to(shipped)).as_posix()
    except ValueError:
        pass
    try:
        return Path(os.path.relpath(path)).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:  # another drive on Windows
        return str(path)


def rule_location(rule: Rule) -> str:
    """`rules/risks/communication.yaml:2`: where a rule is defined."""
    line = f":{rule.source.line}" if rule.source.line is not None else ""
    return f"{source_name(rule.source.source)}{line}"


def sorted_rules(ruleset: RuleSet) -> list[Rule]:
    """Rules grouped by kind (failure risks first, as in reports), then by id."""
    return sorted(ruleset.rules, key=lambda r: (KIND_ORDER.get(r.kind, len(KIND_ORDER)), r.id))


def problem_table(ruleset: RuleSet | Rulebook) -> list[str]:
    """A line per declared problem: its id, how many rules are part of it, and its title."""
    rules, problems = ruleset.rules, ruleset.problems
    width = max((len(pid) for pid in problems), default=0)
    return [f"{pid:<{width}}  {sum(1 for r in rules if r.part_of == pid):>2} rules  {p.title}" for pid, p in problems.items()]


def rule_table(ruleset: RuleSet, width: int = 80) -> list[str]:
    """A plain-text list of every rule under a heading per kind, no line wider than `width` when the guide refs
    fit: the id, severity and guide refs in columns (an id too long for its column on a line of its own), then
    the title indented and wrapped below it."""
    rules = sorted_rules(ruleset)
    severity_w = max(len("SEVERITY"), *(len(r.severity) for r in rules)) if rules else len("SEVERITY")
    refs_w = max((len(", ".join(r.refs)) for r in rules), default=0)
    id_w = max(16, min(max((len(r.id) for r in rules), default=0), width - severity_w - refs_w - 4))
    out = [f"{'ID':<{id_w}}  {'SEVERITY':<{severity_w}}  GUIDE"]
    kind = None
    for rule in rules:
        if rule.kind != kind:
            kind = rule.kind
            out += ["", KIND_TITLES.get(kind, kind)]
        columns = f"{rule.severity:<{severity_w}}  {', '.join(rule.refs)}"
        if len(rule.id) <= id_w:
            out.append(f"{rule.id:<{id_w}}  {columns}".rstrip())
        else:
            out += [rule.id, f"{'':<{id_w}}  {columns}".rstrip()]
        out += textwrap.wrap(rule.title, width=max(20, width - 4), initial_indent="    ", subsequent_indent="    ")
    return out


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class RuleCoverage:
    """How many of an area's actionable guide ids some rule cites."""

    name: str
    title: str
    actionable: tuple[str, ...]
    cited: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(i for i in self.actionable if i not in self.cited)


def cited_ids(ruleset: RuleSet) -> set[str]:
    """Every guide id some rule cites."""
    return {ref for rule in ruleset.rules for ref in rule.refs}


def coverage(ruleset: RuleSet | Rulebook, knowledge: KnowledgeBase | None = None) -> list[RuleCoverage]:
    """Per area of the guide (then the success and failure markers): its actionable ids and those rules cite."""
    knowledge = knowledge if knowledge is not None else ruleset.knowledge
    cited = cited_ids(ruleset)
    rows = []
    groups = [(a.name, a.title, a.ids) for a in knowledge.areas]
    groups += [(m, MARKER_TITLES.get(m, m), tuple(s.id for s in knowledge if s.area == m)) for m in MARKER_AREAS]
    for name, title, ids in groups:
        actionable = tuple(i for i in ids if knowledge.sections[i].actionable)
        rows.append(RuleCoverage(name, title, actionable, tuple(i for i in actionable if i in cited)))
    return rows


def _focus_values(node: Any, derived: Mapping[str, Any], seen: frozenset = frozenset()) -> set[str]:
    """The focus values a condition tests, directly or through the derived facts it reads."""
    if isinstance(node, (All, AnyOf)):
        return {v for item in node.items for v in _focus_values(item, derived, seen)}
    if isinstance(node, Not):
        return _focus_values(node.item, derived, seen)
    if isinstance(node, Quantifier):
        return _focus_values(node.where, derived, seen)
    ref = getattr(node, "ref", None)
    if ref is None:
        return set()
    if ref.scope == "derived" and ref.path[0] not in seen and ref.path[0] in derived:
        d = derived[ref.path[0]]
        return {v for case in d.cases for v in _focus_values(case.when, derived, seen | {ref.path[0]})}
    if ref.scope == "profile" and ref.path == ("focus",) and isinstance(node, Compare):
        values = node.value if isinstance(node.value, (list, tuple)) else (node.value,)
        return {str(v) for v in values}
    return set()


def focus_readers(ruleset: RuleSet | Rulebook) -> dict[str, list[str]]:
    """For each focus of the profile model, the ids of the rules that read it (in their condition, an `adapt` or
    `proportion` entry, or a derived fact they read)."""
    derived = {d.name: d for d in ruleset.derived}
    out: dict[str, list[str]] = {f: [] for f in FOCUSES}
    for rule in ruleset.rules:
        values = _focus_values(rule.when, derived)
        for case in (*rule.adapt, *rule.proportion):
            values |= _focus_values(case.when, derived)
        for v in sorted(values):
            out.setdefault(v, []).append(rule.id)
    return out


def focus_lines(ruleset: RuleSet | Rulebook) -> list[str]:
    """`victim_support   4 rules  (victim support and gender-based violence)` per focus."""
    readers = focus_readers(ruleset)
    width = max(len(f) for f in readers)
    return [f"{f:<{width}}  {len(ids):>2} rule{'' if len(ids) == 1 else 's'}  ({FOCUS_LABELS.get(f, f)})"
            for f, ids in readers.items()]


def coverage_lines(ruleset: RuleSet | Rulebook, knowledge: KnowledgeBase | None = None) -> list[str]:
    """`governance     2/3  missing: 21.6` per area, then `coverage: 12/68 actionable guide ids cited (18%)`."""
    knowledge = knowledge if knowledge is not None else ruleset.knowledge
    rows = coverage(ruleset, knowledge)
    width = max(len(r.name) for r in rows)
    lines = []
    for r in rows:
        missing = f"  missing: {', '.join(r.missing)}" if r.missing else ""
        lines.append(f"{r.name:<{width}}  {len(r.cited):>2}/{len(r.actionable):<2}{missing}".rstrip())
    actionable = set(knowledge.actionable_ids())
    cited = len(actionable & cited_ids(ruleset))
    share = f" ({100 * cited / len(actionable):.0f}%)" if actionable else ""
    lines.append(f"coverage: {cited}/{len(actionable)} actionable guide ids cited by a rule{share}")
    return lines


# --------------------------------------------------------------------------- what a rule adds to the advice


def due_stage(rule: Rule, knowledge: Any) -> tuple[str, str]:
    """The stage from which a rule's step is due, and where that comes from: the rule's own `due`, else its main
    guide ref's (a marker of success or failure, or an id that is not a step, is due from the start)."""
    if rule.due:
        return rule.due, "the rule's own due"
    section = knowledge.get(rule.refs[0])
    if section is not None and section.due:
        return section.due, f"guide {rule.refs[0]}"
    return STAGES[0], f"guide {rule.refs[0]} is not a step, so from the start"


def _stage_words(stage: str) -> str:
    return f"{stage} ({STAGE_LABELS.get(stage, stage)})"


def advice_lines(rule: Rule, knowledge: Any, problems: Mapping[str, ProblemDef] | None = None) -> list[tuple[str, str]]:
    """(label, text) for what a rule adds to the advice: what it asks, the problem it is part of, when it is due,
    the harm it says is happening and the steps that wait on it."""
    out = []
    if rule.ask:
        fields = ", ".join(r.text for r in rule.ask)
        out.append(("asks", f"{fields} (left blank or unknown, the finding is a question to settle, not a step undone)"))
    if rule.part_of:
        problem = (problems or {}).get(rule.part_of)
        out.append(("part of", f"{rule.part_of}: {problem.title}" if problem is not None else rule.part_of))
    stage, source = due_stage(rule, knowledge)
    out.append(("due from", f"{_stage_words(stage)}; {source}"))
    if rule.harm:
        out.append(("harm", rule.harm))
    if rule.blocks:
        out.append(("blocks", rule.blocks))
    return out


# --------------------------------------------------------------------------- one rule as text


def rule_text(rule: Rule, knowledge: Any, width: int = 100, problems: Mapping[str, ProblemDef] | None = None) -> str:
    """Everything about one rule, for `advisor rules show`; `problems` (the rule set's) names the problem a rule is
    part of by its title."""
    lines: list[str] = []

    def field(label: str, value: str) -> None:
        lines.extend(textwrap.wrap(value, width=width, initial_indent=f"{label:<12}", subsequent_indent=" " * 12,
                                   break_long_words=False, break_on_hyphens=False) or [label])

    lines.append(f"{rule.id}: {rule.title}")
    lines.append("")
    field("kind", rule.kind)
    field("severity", rule.severity)
    field("defined in", rule_location(rule))
    if rule.description:
        field("description", rule.description)
    if rule.for_each:
        field("for each", f"item of {'.'.join(rule.for_each)} (one finding per item)")
    outline = condition_outline(rule.when, width - 12)
    field("fires when", outline[0])
    for line in outline[1:]:
        stripped = line.lstrip(" ")
        lines.extend(textwrap.wrap(stripped, width=width, initial_indent=" " * (12 + len(line) - len(stripped)),
                                   subsequent_indent=" " * (14 + len(line) - len(stripped)),
                                   break_long_words=False, break_on_hyphens=False))
    field("message", rule.message.text)
    field("advice", rule.advice.text)
    for p in rule.adapt:
        field("adapt", adaptation_in_words(p, knowledge, rule.severity))
    for p in rule.proportion:
        field("proportion", f"severity {p.severity} when {condition_in_words(p.when)}: {p.because}")
    for label, text in advice_lines(rule, knowledge, problems):
        field(label, text)
    beyond = [r for r in rule.refs if knowledge.is_beyond(r)] + [r for p in rule.adapt for r in p.refs if knowledge.is_beyond(r)]
    for ref in dict.fromkeys(beyond):
        entry = knowledge.get(ref)
        field("beyond", f"{ref}: {entry.title} (beyond the guide, {entry.kind}). {entry.text}")
    lines.append("")
    lines.append("guide")
    for ref in (r for r in rule.refs if not knowledge.is_beyond(r)):
        section = knowledge.get(ref)
        if section is None:
            field(f"  {ref}", "(not in the knowledge base)")
            continue
        field(f"  {ref}", section.title)
        lines.extend(textwrap.wrap(f"“{section.text}”", width=width, initial_indent=" " * 12,
                                   subsequent_indent=" " * 13, break_long_words=False))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the Markdown reference


def _md(text: str) -> str:
    """Text safe inside Markdown: characters that would start emphasis or HTML are escaped."""
    out = text.replace("\\", "\\\\")
    for ch in "*<>`[]":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def _quote(section: Any) -> list[str]:
    lines = [f"> **{section.id} {_md(section.title)}**", ">"]
    lines += ["> " + _md(par) if par.strip() else ">" for par in section.text.splitlines()]
    return lines


def _guide_block(refs: Iterable[str], knowledge: Any) -> list[str]:
    out: list[str] = []
    for ref in refs:
        section = knowledge.get(ref)
        if section is None:
            out += [f"> **{ref}** (not in the knowledge base)", ""]
            continue
        out += _quote(section) + [""]
    return out


def _derived_section(d: Derived, knowledge: Any) -> list[str]:
    out = [f"### `{d.name}`", "", _md(d.description if d.description.endswith(".") else d.description + "."), ""]
    if d.compute is not None:
        each = f" for each item of `{'.'.join(d.for_each)}`" if d.for_each else ""
        out.append(f"- **Computed{each}:** {_md(computation_in_words(d))}.")
    else:
        out.append(f"- **Values:** {', '.join(d.values)}")
        out.append("- **Decided by cases** (the first that holds wins):")
        for case in d.cases:
            out += ["  " + line for line in _outline(case.value, case.when, case=True)]
        out.append(f"  - otherwise **{d.default}**" if d.default else "  - otherwise not set")
    if d.refs:
        out.append(f"- **Guide:** {', '.join(_ref_title(r, knowledge) for r in d.refs)}")
    out.append("")
    return out


def _outline(label: str, cond: Any, case: bool = False) -> list[str]:
    """A Markdown list item `- **label:** words`, or `- **label:** all of:` with the items nested below."""
    lines = condition_outline(cond)
    out = [(f"- **{label}** when " if case else f"- **{label}:** ") + _md(lines[0])]
    for line in lines[1:]:
        item = line.lstrip(" ")
        out.append("  " + line[: len(line) - len(item)] + "- " + _md(item[2:]))
    return out


def _ref_title(ref: str, knowledge: Any) -> str:
    section = knowledge.get(ref)
    if section is not None and knowledge.is_beyond(ref):
        return f"{ref} {_md(section.title)} (beyond the guide)"
    return f"{ref} {_md(section.title)}" if section is not None else ref


def adaptation_in_words(case: Any, knowledge: Any, severity: str) -> str:
    """One `adapt` entry in words: when it applies, what it changes, why; advice beyond the guide labelled so."""
    changes = []
    if case.severity != severity:
        changes.append(f"severity {case.severity}")
    if case.message is not None:
        changes.append(f"message “{case.message.text}”")
    if case.advice is not None:
        changes.append(f"advice “{case.advice.text}”")
    guide = [r for r in case.refs if not knowledge.is_beyond(r)]
    beyond = [r for r in case.refs if knowledge.is_beyond(r)]
    if guide:
        changes.append(f"also cites the guide's {', '.join(guide)}")
    if beyond:
        changes.append("cites beyond the guide " + ", ".join(f"{r} ({knowledge.get(r).title})" for r in beyond))
    return f"when {condition_in_words(case.when)}: {'; '.join(changes)}. Because: {case.because}"


def _rule_section(rule: Rule, knowledge: Any, problems: Mapping[str, ProblemDef]) -> list[str]:
    out = [f"### `{rule.id}`", "", f"**{_md(rule.title)}**", ""]
    out.append(f"- **Kind:** {rule.kind} · **Severity:** {rule.severity} · **File:** `{source_name(rule.source.source)}`")
    if rule.description:
        out.append(f"- **Description:** {_md(rule.description)}")
    if rule.for_each:
        out.append(f"- **For each:** item of `{'.'.join(rule.for_each)}` (one finding per item)")
    out += _outline("Fires when", rule.when)
    out.append(f"- **Message:** {_md(rule.message.text)}")
    out.append(f"- **Advice:** {_md(rule.advice.text)}")
    if rule.adapt:
        out.append("- **Adapted** to the partnership (the first case that holds wins, before any proportion):")
        for p in rule.adapt:
            out.append(f"  - {_md(adaptation_in_words(p, knowledge, rule.severity))}")
    if rule.proportion:
        out.append("- **Proportion** (severity lowered for a smaller partnership):")
        for p in rule.proportion:
            out.append(f"  - **{p.severity}** when {_md(condition_in_words(p.when))}: {_md(p.because)}")
    if rule.ask:
        fields = ", ".join(f"`{r.text}`" for r in rule.ask)
        out.append(f"- **Asks:** {fields}; left blank or unknown, the finding is a question to settle")
    if rule.part_of:
        problem = problems.get(rule.part_of)
        title = f": {_md(problem.title)}" if problem is not None else ""
        out.append(f"- **Part of:** [`{rule.part_of}`](#{_anchor(rule.part_of)}){title}")
    stage, source = due_stage(rule, knowledge)
    out.append(f"- **Due from:** {_md(_stage_words(stage))}; {_md(source)}")
    if rule.harm:
        out.append(f"- **Harm:** {_md(rule.harm)}")
    if rule.blocks:
        out.append(f"- **Blocks:** {_md(rule.blocks)}")
    out.append(f"- **Guide:** {', '.join(_ref_title(r, knowledge) for r in rule.refs if not knowledge.is_beyond(r))}")
    beyond = dict.fromkeys([r for r in rule.refs if knowledge.is_beyond(r)]
                           + [r for p in rule.adapt for r in p.refs if knowledge.is_beyond(r)])
    if beyond:
        out.append(f"- **Beyond the guide:** {', '.join(_ref_title(r, knowledge) for r in beyond)}")
    out.append("")
    out += _guide_block([r for r in rule.refs if not knowledge.is_beyond(r)], knowledge)
    for ref in beyond:
        entry = knowledge.get(ref)
        out += [f"> **{ref} {_md(entry.title)}**: beyond the guide ({entry.kind}), not the guide's words", ">",
                "> " + _md(entry.text), ""]
    return out


def _anchor(text: str) -> str:
    """The anchor GitHub gives a heading made of `text` in code: lower case, dots and other punctuation dropped."""
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


def _problems_section(ruleset: RuleSet, problems: Mapping[str, ProblemDef]) -> list[str]:
    out = ["## Problems", "",
           "Findings that share a cause or a remedy are one problem, told to the committee once in the words below "
           "(a rule joins one with `part_of`; a rule without it is a problem of its own). `{subjects}` lists the "
           "partners, goals, KPIs or risks of its findings.", ""]
    members: dict[str, list[str]] = {}
    for rule in ruleset.rules:
        if rule.part_of:
            members.setdefault(rule.part_of, []).append(rule.id)
    for pid, problem in problems.items():
        out += [f"### `{pid}`", "", f"**{_md(problem.title)}**", ""]
        out.append(f"- **Message:** {_md(problem.message)}")
        out.append(f"- **Advice:** {_md(problem.advice)}")
        out.append(f"- **Rules:** {', '.join(f'`{r}`' for r in sorted(members.get(pid, []))) or 'none yet'}")
        out.append("")
    return out


def _ranking_section(ranking: Ranking | None) -> list[str]:
    if ranking is None:
        return []
    severities = sorted(ranking.severity, key=SEVERITY_ORDER.get)
    out = ["## Ranking", "",
           "What comes first in the advice. A problem's points are the weight of its most severe finding and of its "
           "kind, plus the weight for harm when one of its rules says harm is already happening (`harm`), plus the "
           "weight for blocking when one of its rules says other steps wait on it (`blocks`). Most points first; "
           "equal points in the guide's order.", "",
           "| weighs | points |", "|---|---|"]
    out += [f"| severity {s} | {ranking.severity[s]} |" for s in severities]
    out += [f"| kind {k} | {w} |" for k, w in sorted(ranking.kind.items(), key=lambda kw: KIND_ORDER.get(kw[0], 99))]
    out += [f"| harm already happening | {ranking.harm} |", f"| other steps wait on it | {ranking.blocks} |", ""]
    out += ["A question to settle is at most as severe as its stage allows:", "",
            "| stage | most severe question |", "|---|---|"]
    out += [f"| {_md(_stage_words(stage))} | {ranking.question_severity[stage]} |" for stage in STAGES
            if stage in ranking.question_severity]
    out.append("")
    return out


def rule_reference(ruleset: RuleSet | Rulebook, knowledge: KnowledgeBase | None = None) -> str:
    """The Markdown rule reference: derived facts, then every rule by kind with the guide text it cites."""
    knowledge = knowledge if knowledge is not None else ruleset.knowledge
    rules = sorted_rules(ruleset)
    rule_set = ruleset if isinstance(ruleset, RuleSet) else ruleset.ruleset
    problems = rule_set.problems
    guide = knowledge.guide
    counts = {kind: sum(1 for r in rules if r.kind == kind) for kind in KIND_ORDER}
    out = [
        "# Rule reference",
        "",
        f"Generated by `advisor rules docs` from the rule files and the knowledge base of *{_md(guide.title)}* "
        f"({_md(guide.publisher)}, {_md(guide.date)}). Do not edit it by hand: change the rules, then run "
        f"`{DOCS_COMMAND}`.",
        "",
        f"{len(rules)} rules ("
        + ", ".join(f"{n} {KIND_WORDS.get(k, (k, k))[n != 1]}" for k, n in counts.items() if n)
        + f"), {len(problems)} problems and {len(ruleset.derived)} derived facts. A rule fires when its condition "
        "holds; its severity is one of " + ", ".join(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.get)) + ". A rule "
        "that asks about a field makes a question to settle when that field is blank; a step not yet due at the "
        "partnership's stage is advice for later.",
        "",
        "## Derived facts",
        "",
        "Worked out from the profile before the rules read them (as `derived.NAME`).",
        "",
    ]
    for d in ruleset.derived:
        out += _derived_section(d, knowledge)
    for kind in sorted(KIND_ORDER, key=KIND_ORDER.get):
        of_kind = [r for r in rules if r.kind == kind]
        if not of_kind:
            continue
        out += [f"## {KIND_TITLES[kind]} (`{kind}`)", ""]
        for rule in of_kind:
            out += _rule_section(rule, knowledge, problems)
    out += _problems_section(rule_set, problems)
    out += _ranking_section(rule_set.ranking)
    out += ["## Coverage of the guide", "", "Actionable guide ids per area, and those no rule cites yet.", "", "```"]
    out += coverage_lines(ruleset, knowledge)
    out += ["```", ""]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
