"""Realistic partnerships (tests/situations) and the bundled examples: advice a committee can act on.

A committee takes on three to five things at a meeting: the advice must be short where the
partnership is sound or only an idea, tell each problem once, never call a blank a failure, and
put first what most threatens the partnership's purpose now.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor

from conftest import AS_OF, ENGINES, EXAMPLES

SITUATIONS = Path(__file__).parent / "situations"
PROFILES = sorted(SITUATIONS.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))
#: The most problems a committee should be handed for these partnerships.
AT_MOST = {
    "near-perfect-one-weakness": 10,
    "khayelitsha-safer-schools": 10,
    "mitchells-plain-safety-walk": 10,
    "soweto-youth-day-event": 10,
    "only-an-idea": 15,
    "draft-partners-only": 15,
}


@pytest.fixture(scope="module")
def reports() -> dict[str, advisor.Report]:
    adv = advisor.Advisor(engine="python")
    return {path.stem: adv.evaluate(path, as_of=AS_OF) for path in PROFILES}


@pytest.mark.parametrize("name,limit", AT_MOST.items())
def test_a_sound_partnership_an_event_or_an_idea_gets_a_short_list(reports, name, limit) -> None:
    assert len(reports[name].problems) <= limit, [p.title for p in reports[name].problems]


@pytest.mark.parametrize("name", [p.stem for p in PROFILES])
def test_every_finding_is_told_in_exactly_one_problem(reports, name) -> None:
    report = reports[name]
    told = [(f.rule, f.subject) for p in report.problems for f in p.findings]
    assert len(told) == len(set(told))
    acted_on = [(f.rule, f.subject) for f in report.findings if f.kind not in ("strength", "question")]
    assert sorted(told) == sorted(acted_on)
    titles = [p.title for p in report.problems]
    assert len(titles) == len(set(titles)), "two problems read the same"


@pytest.mark.parametrize("name", ["only-an-idea", "draft-partners-only"])
def test_blanks_raise_questions_never_failure_risks(reports, name) -> None:
    report = reports[name]
    assert not [f.title for f in report.findings if f.kind == "failure_risk"]
    assert report.questions


def test_an_idea_is_advised_on_its_first_steps_and_the_rest_is_for_later(reports) -> None:
    idea = reports["only-an-idea"]
    assert idea.stage == "proposed"
    assert idea.later, "monitoring, reviews and the like wait until the partnership runs"
    assert not [f for f in idea.findings if any(ref.startswith("20.") for ref in f.guide_refs[:1])]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_failure_risk_fires_on_a_profile_that_records_nothing(engine) -> None:
    adv = advisor.Advisor(engine=engine)
    for stage in ("proposed", "forming", "active"):
        report = adv.evaluate({"name": "X", "stage": stage, "partners": [{"name": "A"}, {"name": "B"}]}, as_of=AS_OF)
        assert not [f.rule for f in report.findings + report.later if f.kind == "failure_risk"], stage


def test_problems_rank_what_is_already_doing_harm_first(reports) -> None:
    forum = reports["struggling-business-forum"]
    top = {f.rule for p in forum.problems[:3] for f in p.findings}
    assert top & {"risk.underinvestment", "structure.committed-share"}, "the 15% funding is among the first"
    assert top & {"monitoring.kpi-moving-away", "monitoring.review-overdue"}, "harm already happening"
    assert not top & {"governance.common-understanding", "governance.shared-values-not-stated"}


def test_a_peace_accord_between_rivals_starts_with_the_dispute_and_the_trust(reports) -> None:
    accord = reports["taxi-peace-accord"]
    top = {f.rule for p in accord.problems[:3] for f in p.findings}
    assert top & {"risk.competitors-without-ip-agreement", "structure.ip-agreement", "risk.lack-of-trust"}
