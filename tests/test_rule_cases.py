"""Runs every rule's case file (tests/cases/<rule id>.yaml) on every engine: what must and must not fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.language.docs import focus_readers
from advisor.yamlio import load_file

from conftest import AS_OF, ENGINES, get_advisor

CASES_DIR = Path(__file__).parent / "cases"
BASE = {"name": "Case study partnership", "partners": [{"name": "SAPS Station", "sector": "police"}, {"name": "Ward CPF", "sector": "community"}]}


def _case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


def _cases():
    for path in _case_files():
        data = load_file(path).data
        for i, case in enumerate(data["cases"]):
            yield pytest.param(data["rule"], case, id=f"{data['rule']}[{case.get('name', i)}]")


def build_profile(fragment: dict) -> dict:
    profile = dict(BASE)
    profile.update(fragment or {})
    return profile


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule_id,case", list(_cases()))
def test_rule_case(rule_id: str, case: dict, engine: str) -> None:
    adv = get_advisor(engine)
    report = adv.evaluate(build_profile(case.get("profile")), as_of=str(case.get("as_of", AS_OF)))
    fired = [f for f in report.findings if f.rule == rule_id]
    waived = [w.finding for w in report.waived if w.finding.rule == rule_id]
    later = [f for f in report.later if f.rule == rule_id]
    expect = case["expect"]
    assert expect in ("fire", "silent", "waived", "question", "later"), expect
    if expect == "silent":
        assert not fired and not waived and not later, f"{rule_id} fired: {[f.message for f in fired + later]}"
        return
    if expect == "waived":
        assert waived and not fired
        return
    if expect == "later":  # a step not due yet at the partnership's stage
        assert later and not fired, f"{rule_id} is not in the later list: {[f.rule for f in report.later]}"
        return
    assert fired, f"{rule_id} did not fire; findings: {[f.rule for f in report.findings]}"
    # A question to settle (a field the rule asks about is blank) is not a finding of what is wrong.
    assert {f.kind == "question" for f in fired} == {expect == "question"}, [(f.kind, f.title) for f in fired]
    if "subjects" in case:
        assert sorted(f.subject for f in fired) == sorted(case["subjects"])
    if "severity" in case:
        assert {f.severity for f in fired} == {case["severity"]}
    if "message" in case:
        assert case["message"] in [f.message for f in fired]
    if "advice" in case:  # words the advice must hold (for this partnership's focus, say)
        assert all(case["advice"] in f.advice for f in fired), [f.advice for f in fired]
    for words in case.get("not_in_advice", []):  # a situation this partnership does not have
        assert all(words not in f.message + " " + f.advice for f in fired), [f.advice for f in fired]
    if "beyond" in case:  # advice beyond the guide it cites, never among the guide's refs
        assert {tuple(f.beyond_refs) for f in fired} == {tuple(case["beyond"])}
    for other in case.get("must_not", []):
        assert other not in {f.rule for f in report.findings}, f"{other} should not fire"


def test_every_focus_a_rule_reads_has_cases_that_fire_and_stay_silent(py_advisor) -> None:
    """A rule that reads the partnership's focus (in its condition, an adapt entry or a derived fact it reads)
    has, for each focus it reads, a case with that focus that fires and one with that focus that stays silent."""
    outcomes: dict[tuple[str, str], set] = {}
    for path in _case_files():
        data = load_file(path).data
        for case in data["cases"]:
            for focus in (case.get("profile") or {}).get("focus") or ():
                outcomes.setdefault((data["rule"], focus), set()).add(case["expect"])
    lacking = []
    for focus, rule_ids in focus_readers(py_advisor.ruleset).items():
        for rule_id in rule_ids:
            seen = outcomes.get((rule_id, focus), set())
            if not (seen & {"fire", "question"} and "silent" in seen):
                lacking.append(f"{rule_id} ({focus})")
    assert not lacking, f"rules that read a focus need a firing and a silent case with it: {lacking}"


def test_every_rule_has_a_case_file_with_both_outcomes(py_advisor) -> None:
    by_rule = {}
    for path in _case_files():
        data = load_file(path).data
        assert path.stem == data["rule"], f"{path.name} must be named after its rule"
        by_rule[data["rule"]] = {c["expect"] for c in data["cases"]}
    missing = sorted(py_advisor.ruleset.ids - set(by_rule))
    assert not missing, f"rules without a case file: {missing}"
    unknown = sorted(set(by_rule) - py_advisor.ruleset.ids)
    assert not unknown, f"case files for rules that do not exist: {unknown}"
    one_sided = sorted(r for r, outcomes in by_rule.items() if not ({"fire", "silent"} <= outcomes or
                                                                     {"question", "silent"} <= outcomes))
    assert not one_sided, f"case files need a case that fires and one that stays silent: {one_sided}"
