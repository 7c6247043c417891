"""The advice a committee can act on, measured on realistic situations (tests/situations/) and the bundled
examples: few problems, each told once, failure risks only from what the partners recorded, and the
problems a facilitator would put first ranked first."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import AS_OF, ENGINES, EXAMPLES, get_advisor

SITUATIONS = Path(__file__).parent / "situations"
PROFILES = sorted(SITUATIONS.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))


def _report(path: Path, engine: str = "python"):
    return get_advisor(engine).evaluate(path, as_of=AS_OF)


def _top(report, n: int = 3) -> list[str]:
    return [p.id for p in report.problems[:n]]


@pytest.mark.parametrize("path,most", [
    (SITUATIONS / "near-perfect-one-weakness.yaml", 10),
    (SITUATIONS / "mitchells-plain-safety-walk.yaml", 10),
    (EXAMPLES / "soweto-youth-day-event.yaml", 10),
    (SITUATIONS / "only-an-idea.yaml", 15),
    (EXAMPLES / "draft-partners-only.yaml", 15),
    (EXAMPLES / "khayelitsha-safer-schools.yaml", 10),
], ids=lambda v: v.stem if isinstance(v, Path) else str(v))
def test_a_committee_gets_few_problems(path: Path, most: int) -> None:
    assert len(_report(path).problems) <= most


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_no_problem_is_told_twice(path: Path) -> None:
    problems = _report(path).problems
    assert len({p.id for p in problems}) == len(problems)
    assert len({p.title for p in problems}) == len(problems), [p.title for p in problems]
    rules = [f.rule for p in problems for f in p.findings]
    owners = {f.rule: p.id for p in problems for f in p.findings}
    assert len(owners) == len(set(rules)), "a rule's findings are split over problems"


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_every_finding_to_act_on_is_in_exactly_one_problem(path: Path) -> None:
    report = _report(path)
    told = [(f.rule, f.subject) for p in report.problems for f in p.findings]
    acted_on = [(f.rule, f.subject) for f in report.findings if f.kind not in ("strength", "question")]
    assert sorted(told) == sorted(acted_on) and len(told) == len(set(told))


@pytest.mark.parametrize("engine", ENGINES)
def test_no_failure_risk_fires_on_a_profile_that_records_nothing(engine: str) -> None:
    for stage in ("proposed", "forming", "active"):
        report = get_advisor(engine).evaluate({"name": "X", "stage": stage, "partners": [{"name": "A"}, {"name": "B"}]},
                                              as_of=AS_OF)
        assert not [f.rule for f in report.findings + report.later if f.kind == "failure_risk"], stage


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_failure_risks_come_from_recorded_facts(path: Path) -> None:
    for finding in _report(path).findings:
        if finding.kind == "failure_risk":
            recorded = [e for e in finding.evidence if e.value not in (None, "", [])]
            assert recorded, f"{finding.rule} raised from blanks alone"


@pytest.mark.parametrize("path", [EXAMPLES / "draft-partners-only.yaml", SITUATIONS / "only-an-idea.yaml"],
                         ids=lambda p: p.stem)
def test_a_profile_of_blanks_has_questions_not_failure_risks(path: Path) -> None:
    report = _report(path)
    assert not report.by_kind("failure_risk")
    assert report.questions
    assert all(f.kind == "question" for f in report.questions)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_struggling_forum_hears_first_of_money_competitors_and_crime(engine: str) -> None:
    report = _report(EXAMPLES / "struggling-business-forum.yaml", engine)
    top = _top(report)
    assert set(top) <= {"problem.money", "problem.co-opetition", "problem.off-track", "problem.review"}, top
    assert "problem.money" in top and "problem.co-opetition" in top
    assert "already doing harm" in report.problems[0].why


@pytest.mark.parametrize("engine", ENGINES)
def test_the_taxi_accord_hears_first_of_the_route_dispute_trust_and_the_walk_out(engine: str) -> None:
    report = _report(SITUATIONS / "taxi-peace-accord.yaml", engine)
    assert set(_top(report)) == {"problem.co-opetition", "problem.trust", "problem.risks-unhandled"}
    walk_out = next(p for p in report.problems if p.id == "problem.risks-unhandled")
    assert walk_out.subjects == ("The Philippi association walks out of the accord after a shooting",)


def test_an_idea_starts_with_its_purpose_and_leaves_the_rest_for_later() -> None:
    report = _report(SITUATIONS / "only-an-idea.yaml")
    assert report.stage == "proposed"
    assert _top(report, 2) == ["problem.purpose", "problem.goals"]
    assert "other steps wait on it" in report.problems[0].why
    assert report.later


def test_a_near_perfect_partnership_hears_of_its_one_weakness_first() -> None:
    report = _report(SITUATIONS / "near-perfect-one-weakness.yaml")
    assert _top(report, 1) == ["problem.data-rules"]
    assert not report.questions
