"""The generated rule reference: conditions in words, and the committed rules/REFERENCE.md kept in step."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

import advisor
from advisor.knowledge import load_knowledge
from advisor.language.docs import condition_in_words, condition_outline, coverage, rule_reference, rule_table

from conftest import ROOT

REFERENCE = ROOT / "rules" / "REFERENCE.md"


def test_committed_reference_is_up_to_date() -> None:
    fresh = rule_reference(advisor.load_rules(), load_knowledge())
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    if committed != fresh:
        old, new = committed.splitlines(), fresh.splitlines()
        line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        pytest.fail(f"rules/REFERENCE.md is out of date (first difference at line {line + 1}): "
                    "run `advisor rules docs -o rules/REFERENCE.md`", pytrace=False)


def test_reference_is_deterministic_and_complete() -> None:
    ruleset, knowledge = advisor.load_rules(), load_knowledge()
    text = rule_reference(ruleset, knowledge)
    assert text == rule_reference(advisor.load_rules(), knowledge)
    assert text.startswith("# Rule reference\n")
    assert "advisor rules docs" in text.split("\n## ")[0]
    for rule in ruleset.rules:
        assert f"### `{rule.id}`" in text
        for line in condition_outline(rule.when):
            assert line.strip().removeprefix("- ") in text.replace("\\", ""), (rule.id, line)
        for ref in rule.refs:
            assert f"> **{ref} " in text
        for ref in [r for r in rule.refs if knowledge.is_beyond(r)] + [r for a in rule.adapt for r in a.refs]:
            if knowledge.is_beyond(ref):  # advice beyond the guide is labelled so, never quoted as the guide
                assert f"> **{ref} {knowledge.get(ref).title}**: beyond the guide" in text.replace("\\", "")
    for derived in ruleset.derived:
        assert f"### `{derived.name}`" in text
    assert text.index("## Failure risks") < text.index("## Strengths")


def _rule_file(tmp_path: Path, when: str, for_each: str | None = None) -> Path:
    lines = [
        "rules:",
        "  - id: test.words",
        "    kind: governance_gap",
        "    severity: low",
        "    title: Test",
        "    refs: ['14']",
        f"    when: {when}",
        "    message: m",
        "    advice: a",
    ]
    if for_each:
        lines.append(f"    for_each: {for_each}")
    (tmp_path / "test.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path


def _words(tmp_path: Path, when: str, for_each: str | None = None) -> str:
    ruleset = advisor.load_rules([_rule_file(tmp_path, when, for_each)], shipped=False)
    return condition_in_words(ruleset.rule("test.words").when)


@pytest.mark.parametrize("when,words", [
    ("{all: [{path: communication.frequency, in: [none, ad_hoc]}, {not_true: communication.plan}]}",
     "communication.frequency is one of none, ad_hoc and communication.plan is not true"),
    ("{all: [{any: [{missing: communication.frequency}, {path: communication.frequency, equals: ad_hoc}]},"
     " {is_true: governance.protocol}]}",
     "(communication.frequency is missing or communication.frequency is ad_hoc) and governance.protocol is true"),
    ("{any: [{all: [{exists: funding}, {path: funding.budget_required, gte: 1000}]}, {path: stage, not_equals: closing}]}",
     "(funding is set and funding.budget_required is at least 1000) or stage is not closing"),
    ("{count: partners, gte: 3}", "partners has at least 3 items"),
    ("{count: goals, equals: 1}", "goals has exactly 1 item"),
    ("{path: funding.budget_committed, lt: 0.5}", "funding.budget_committed is less than 0.5"),
    ("{path: name, equals: Test}", 'name is "Test"'),
    ("{path: communication.channels, contains: whatsapp}", 'communication.channels contains "whatsapp"'),
    ("{path: stage, not_in: [closing, reviewing]}", "stage is none of closing, reviewing"),
    ("{not: {empty: goals}}", "goals is not empty"),
    ("{not: {path: stage, equals: active}}", "stage is not active"),
    ("{not: {all: [{exists: goals}, {exists: risks}]}}", "not (goals is set and risks is set)"),
    ("{some: partners, where: {non_empty: item.competes_with}}",
     "for at least one item of partners (item.competes_with is not empty)"),
    ("{every: monitoring.kpis, where: {all: [{is_true: item.agreed_by_all}, {exists: item.target}]}}",
     "for every item of monitoring.kpis (item.agreed_by_all is true and item.target is set)"),
    ("{none: risks, where: {path: item.impact, equals: high}}", "for no item of risks (item.impact is high)"),
])
def test_condition_in_words(tmp_path: Path, when: str, words: str) -> None:
    assert _words(tmp_path, when) == words


def test_condition_in_words_reads_the_current_item(tmp_path: Path) -> None:
    assert _words(tmp_path, "{empty: item.objectives}", for_each="partners") == "item.objectives is empty"


def test_every_shipped_condition_has_words() -> None:
    ruleset = advisor.load_rules()
    for rule in ruleset.rules:
        assert condition_in_words(rule.when)
        for p in rule.proportion:
            assert condition_in_words(p.when)
    for derived in ruleset.derived:
        for case in derived.cases:
            assert condition_in_words(case.when)


def test_rule_table_and_coverage() -> None:
    ruleset, knowledge = advisor.load_rules(), load_knowledge()
    table = rule_table(ruleset, width=80)
    assert table[0].split() == ["ID", "SEVERITY", "GUIDE"]
    assert all(len(line) <= 80 for line in table), max(table, key=len)
    for rule in ruleset.rules:  # each rule: its id starts a line, its title follows indented
        at = next(i for i, line in enumerate(table) if line.split() and line.split()[0] == rule.id)
        below = " ".join(line.strip() for line in table[at + 1: at + 5] if re.match(r"    \S", line))
        assert below.startswith(rule.title), rule.id
    rows = coverage(ruleset, knowledge)
    assert [r.name for r in rows[: len(knowledge.areas)]] == [a.name for a in knowledge.areas]
    cited = {ref for rule in ruleset.rules for ref in rule.refs}
    for row in rows:
        assert set(row.cited) == set(row.actionable) & cited
        assert set(row.missing) == set(row.actionable) - cited
    assert sum(len(r.actionable) for r in rows) == len(knowledge.actionable_ids())


def test_a_long_condition_becomes_an_outline(tmp_path: Path) -> None:
    when = ("{all: [{path: communication.frequency, in: [none, ad_hoc]},"
            " {any: [{missing: communication.plan}, {path: stage, equals: active}]}]}")
    ruleset = advisor.load_rules([_rule_file(tmp_path, when)], shipped=False)
    cond = ruleset.rule("test.words").when
    assert condition_outline(cond, width=200) == [condition_in_words(cond)]
    assert condition_outline(cond, width=50) == [
        "all of:",
        "- communication.frequency is one of none, ad_hoc",
        "- communication.plan is missing or stage is active",
    ]
    assert condition_outline(cond, width=30) == [
        "all of:",
        "- communication.frequency is one of none, ad_hoc",
        "- any of:",
        "  - communication.plan is missing",
        "  - stage is active",
    ]
