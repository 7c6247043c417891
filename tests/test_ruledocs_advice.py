"""The rule documentation shows what a rule adds to the advice: what it asks, the problem it is part of, when it
is due, the harm it says is happening and the steps that wait on it; the reference lists the problems and the
ranking."""

from __future__ import annotations

import advisor
from advisor.knowledge import load_knowledge
from advisor.language.docs import rule_reference, rule_text


def test_rule_text_shows_ask_problem_due_harm_and_blocks() -> None:
    rules, knowledge = advisor.load_rules(), load_knowledge()
    problems = rules.ruleset.problems
    text = " ".join(rule_text(rules.rule("risk.lack-of-communication"), knowledge, problems=problems).split())
    assert "asks communication.frequency, communication.plan (left blank or unknown" in text
    assert "part of problem.keeping-in-touch: Partners do not keep in touch regularly" in text
    assert "due from forming (being formed); the rule's own due" in text
    text = " ".join(rule_text(rules.rule("monitoring.kpi-moving-away"), knowledge, problems=problems).split())
    assert "harm results are getting worse" in text
    assert "due from active (running); guide 20.5" in text
    text = " ".join(rule_text(rules.rule("governance.purpose-statement"), knowledge).split())
    assert "blocks goals, roles and the plan" in text
    assert "part of problem.purpose" in text  # without the rule set's problems, the id alone


def test_reference_lists_every_problem_with_its_rules_and_the_ranking() -> None:
    rules, knowledge = advisor.load_rules(), load_knowledge()
    text = rule_reference(rules, knowledge)
    assert text.index("## Strengths") < text.index("## Problems") < text.index("## Ranking") < text.index("## Coverage")
    for pid, problem in rules.ruleset.problems.items():
        assert f"### `{pid}`" in text and f"**{problem.title}**" in text
    assert "- **Part of:** [`problem.money`](#problemmoney): The money and resources are not all secured" in text
    assert "- **Harm:** the work is starting or running without the money it needs" in text
    assert "| harm already happening | " in text and "| proposed (an idea being explored) | low |" in text
