"""From findings to advice: unknown is not no, what is due at the stage, problems told once and ranked by consequence."""

from __future__ import annotations


import pytest

import advisor
from advisor.vocabulary import STAGES

from conftest import AS_OF, ENGINES

BASE = {"name": "Ward 12 Safety Forum", "partners": [{"name": "SAPS Ward 12", "sector": "police"},
                                                     {"name": "Ward 12 CPF", "sector": "community"}]}

RULES = """
problems:
  - id: problem.test-governance
    title: Nobody has agreed how the forum is run
    message: Neither a protocol nor a way to settle disputes is agreed.
    advice: Agree both at the next meeting.
rules:
  - id: custom.vision
    kind: governance_gap
    severity: high
    title: No shared vision
    refs: ["3"]
    when: {not_true: purpose.shared_vision}
    ask: [purpose.shared_vision]
    message: The partners have not agreed a shared vision.
    advice: Agree a shared vision. Then write it down.
  - id: custom.protocol
    kind: governance_gap
    severity: high
    title: No protocol
    refs: ["14"]
    when: {path: governance.protocol, equals: false}
    part_of: problem.test-governance
    message: No protocol.
    advice: Agree a protocol.
  - id: custom.disputes
    kind: governance_gap
    severity: medium
    title: No way to settle disputes
    refs: ["14"]
    when: {path: governance.conflict_resolution, equals: false}
    part_of: problem.test-governance
    message: No way to settle disputes.
    advice: Agree how to settle disputes.
  - id: custom.falling
    kind: failure_risk
    severity: medium
    title: A KPI is falling
    refs: ["20.5"]
    for_each: monitoring.kpis
    when: {path: item.kpi_progress, lt: 0}
    harm: the measure is getting worse
    message: "{item.name} is moving away from its target."
    advice: Find out why.
  - id: custom.referral
    kind: governance_gap
    severity: medium
    title: No referral protocol
    refs: ["21.6"]
    when: {path: governance.screening_and_referral_protocol, equals: false}
    message: There is no protocol for referring people between partners.
    advice: Agree how partners refer people to each other.
    adapt:
      - when: {path: focus, contains: victim_support}
        severity: high
        because: Referring survivors safely is this partnership's core service.
        advice: Agree how a survivor is screened and referred, by whom and within how many hours.
        refs: [law.domestic-violence]
      - when: {path: focus, contains: surveillance}
        severity: low
        because: Few people are referred between partners in a camera network.
  - id: custom.reports
    kind: governance_gap
    severity: medium
    title: No progress reports
    refs: ["20.5"]
    when: {path: monitoring.reports_progress, equals: false}
    message: Progress is not reported.
    advice: Report progress.
"""


@pytest.fixture(scope="module")
def custom(tmp_path_factory) -> dict[str, advisor.Advisor]:
    folder = tmp_path_factory.mktemp("rules")
    (folder / "custom.yaml").write_text(RULES, encoding="utf-8")
    rules = advisor.load_rules([folder])
    return {engine: advisor.Advisor(rules, engine=engine) for engine in ENGINES}


def run(adv: advisor.Advisor, **sections) -> advisor.Report:
    return adv.evaluate({**BASE, **sections}, as_of=AS_OF)


def mine(findings) -> list:
    return [f for f in findings if f.rule.startswith("custom.")]


# --------------------------------------------------------------------------- unknown is not no


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("written", [None, "unknown"], ids=["blank", "unknown"])
def test_a_blank_or_unknown_answer_is_a_question_to_settle_not_a_finding(custom, engine, written) -> None:
    purpose = {} if written is None else {"shared_vision": written}
    report = run(custom[engine], stage="active", purpose=purpose)
    (finding,) = [f for f in report.findings if f.rule == "custom.vision"]
    assert finding.kind == "question"
    assert finding.title == "Has every partner agreed the shared vision?"
    assert finding.message == "Not recorded yet: shared vision agreed by all partners."
    assert finding in report.questions


@pytest.mark.parametrize("engine", ENGINES)
def test_a_recorded_no_is_a_finding_and_a_yes_is_silent(custom, engine) -> None:
    no = run(custom[engine], stage="active", purpose={"shared_vision": False})
    (finding,) = [f for f in no.findings if f.rule == "custom.vision"]
    assert (finding.kind, finding.title, finding.severity) == ("governance_gap", "No shared vision", "high")
    yes = run(custom[engine], stage="active", purpose={"shared_vision": True})
    assert not [f for f in yes.findings if f.rule == "custom.vision"]


@pytest.mark.parametrize("stage,severity", [("proposed", "low"), ("forming", "medium"), ("active", "medium")])
def test_a_question_is_at_most_as_pressing_as_the_stage_makes_it(custom, stage, severity) -> None:
    report = run(custom["python"], stage=stage)
    (question,) = [f for f in report.findings if f.rule == "custom.vision"]
    assert question.severity == severity  # the rule itself is high


# --------------------------------------------------------------------------- what is due at the stage


@pytest.mark.parametrize("engine", ENGINES)
def test_a_step_not_yet_due_is_told_for_later(custom, engine) -> None:
    forming = run(custom[engine], stage="forming", monitoring={"reports_progress": False})
    assert not [f for f in forming.findings if f.rule == "custom.reports"]
    assert [f.rule for f in mine(forming.later)] == ["custom.reports"]  # 20.5 is due once active
    active = run(custom[engine], stage="active", monitoring={"reports_progress": False})
    assert [f.rule for f in mine(active.findings) if f.rule == "custom.reports"] == ["custom.reports"]
    assert not mine(active.later)


def test_without_a_stage_the_facts_say_whether_the_partnership_has_started(custom) -> None:
    idea = run(custom["python"])
    started = run(custom["python"], duration={"start": "2025-01-01"})
    assert (idea.stage, started.stage) == ("forming", "active")
    assert run(custom["python"], stage="reviewing").stage == "reviewing"


def test_readiness_counts_the_steps_due_at_the_stage(custom) -> None:
    proposed = run(custom["python"], stage="proposed").summary["readiness"]
    active = run(custom["python"], stage="active").summary["readiness"]
    assert proposed["stage"] == "proposed" and active["stage"] == "active"
    assert 0 < proposed["due"] < active["due"]
    report = run(custom["python"], stage="active")
    readiness = report.summary["readiness"]
    assert report.summary["score"] == round(100 * readiness["in_place"] / readiness["due"])


# --------------------------------------------------------------------------- not applicable


@pytest.mark.parametrize("engine", ENGINES)
def test_a_step_that_does_not_apply_is_set_aside_with_its_reason(engine) -> None:
    adv = advisor.Advisor(engine=engine)
    profile = {**BASE, "stage": "active", "governance": {"screening_and_referral_protocol": False},
               "not_applicable": [{"step": "21.6", "reason": "No victims are referred through this forum"}]}
    report = adv.evaluate(profile, as_of=AS_OF)
    assert "governance.screening-referral-protocol" not in {f.rule for f in report.findings}
    (aside,) = [w for w in report.not_applicable if w.finding.rule == "governance.screening-referral-protocol"]
    assert aside.reason == "No victims are referred through this forum"
    assert report.summary["not_applicable"] == len(report.not_applicable)


def test_a_step_that_is_not_in_the_guide_is_refused_with_a_suggestion() -> None:
    with pytest.raises(advisor.ProfileError, match=r"not_applicable\[0\]\.step: '21\.66' is not a step of the guide; "
                                                   r"did you mean '21\.6'\?"):
        advisor.load_profile({**BASE, "not_applicable": [{"step": "21.66", "reason": "x"}]}, advisor.load_rules())


# --------------------------------------------------------------------------- problems, told once and ranked


@pytest.mark.parametrize("engine", ENGINES)
def test_findings_that_share_a_remedy_are_one_problem(custom, engine) -> None:
    report = run(custom[engine], stage="active", governance={"protocol": False, "conflict_resolution": False})
    (problem,) = [p for p in report.problems if p.id == "problem.test-governance"]
    assert [f.rule for f in problem.findings] == ["custom.protocol", "custom.disputes"]
    assert (problem.title, problem.severity, problem.kind) == ("Nobody has agreed how the forum is run", "high",
                                                               "governance_gap")
    assert problem.message == "Neither a protocol nor a way to settle disputes is agreed."
    assert problem.advice == "Agree both at the next meeting."
    assert not [p for p in report.problems if p.id in ("custom.protocol", "custom.disputes")]
    told = [f.rule for p in report.problems for f in p.findings]
    assert len(told) == len(set((f.rule, f.subject) for p in report.problems for f in p.findings))


@pytest.mark.parametrize("engine", ENGINES)
def test_harm_already_happening_ranks_above_severity_alone_and_says_why(custom, engine) -> None:
    kpis = [{"name": "Robberies reported", "baseline": 48, "target": 30, "actual": 61}]
    report = run(custom[engine], stage="active", purpose={"shared_vision": False}, monitoring={"kpis": kpis})
    ranked = [p.id for p in report.problems]
    assert ranked.index("custom.falling") < ranked.index("custom.vision")  # medium with harm before high
    falling = next(p for p in report.problems if p.id == "custom.falling")
    assert "already doing harm: the measure is getting worse" in falling.why
    assert falling.why.startswith("A medium failure risk")
    assert [p.rank for p in report.problems] == list(range(1, len(report.problems) + 1))


def test_a_problem_names_who_owns_it_where_the_profile_says() -> None:
    adv = advisor.Advisor(engine="python")
    risks = [{"description": "Key champion transferred", "likelihood": "high", "impact": "high",
              "owner": "Ward 12 CPF"}]
    report = adv.evaluate({**BASE, "stage": "active", "risks": risks}, as_of=AS_OF)
    owned = [p for p in report.problems if any(f.rule == "risk.unmitigated-risk" for f in p.findings)]
    assert owned and owned[0].owner == "Ward 12 CPF"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_json_report_lists_the_problems_in_rank_order(custom, engine) -> None:
    import json

    report = run(custom[engine], stage="active", governance={"protocol": False, "conflict_resolution": False})
    data = json.loads(report.to_json())
    assert [p["rank"] for p in data["problems"]] == list(range(1, len(data["problems"]) + 1))
    first = data["problems"][0]
    assert set(first) == {"rank", "id", "title", "kind", "severity", "guide_refs", "message", "advice", "why", "owner",
                          "findings", "evidence"}
    assert data["stage"] == "active" and "later" in data and "not_applicable" in data
    assert json.loads(report.to_json()) == json.loads(json.dumps(report.to_dict(), default=str))


def test_every_stage_of_the_vocabulary_is_a_stage_of_the_profile() -> None:
    from typing import get_args

    from advisor.profile.models import StageName

    assert get_args(StageName) == STAGES


def test_values_written_differently_are_the_same_value() -> None:
    partners = [{"name": "SAPS Ward 12", "values": ["Accountability", "survivor-first", "Respect"]},
                {"name": "Ward 12 CPF", "values": ["accountability", "Survivor First", "respects"]}]
    report = advisor.Advisor(engine="python").evaluate({**BASE, "partners": partners}, as_of=AS_OF)
    assert report.derived["shared_partner_values"] == 3


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("focus,severity,advice,beyond", [
    ([], "medium", "Agree how partners refer people to each other.", ()),
    (["victim_support"], "high", "Agree how a survivor is screened and referred, by whom and within how many hours.",
     ("law.domestic-violence",)),
    (["surveillance"], "low", "Agree how partners refer people to each other.", ()),
], ids=["no focus", "victim support", "cctv"])
def test_a_rule_adapts_its_severity_and_advice_to_the_focus(custom, engine, focus, severity, advice, beyond) -> None:
    report = run(custom[engine], stage="active", focus=focus, governance={"screening_and_referral_protocol": False})
    (finding,) = [f for f in report.findings if f.rule == "custom.referral"]
    # advice beyond the guide is cited apart from the guide's sections, never among them
    assert (finding.severity, finding.advice, finding.guide_refs, finding.beyond_refs) == (severity, advice, ("21.6",), beyond)
    assert ("beyond_guide" in finding.to_dict()) == bool(beyond)
    assert (finding.note is None) == (not focus)
