"""Every broken rule folder in tests/bad_rules gives its exact one-line message, from the library and from
`advisor evaluate --rules DIR` (exit 2, nothing evaluated); the contradiction check never refuses a condition
that some profile can meet."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import advisor
from advisor.profile import schema
from advisor.api import shipped_rules_dir
from advisor.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, cli
from advisor.language.contradiction import contradiction
from advisor.language.syntax import All, Check, Compare, Count, Not, Ref

from conftest import AS_OF, EXAMPLES, examples

BAD = Path(__file__).parent / "bad_rules"
PROFILE = EXAMPLES / "khayelitsha-safer-schools.yaml"


def _expected() -> list[tuple[str, str]]:
    rows = []
    for line in (BAD / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, message = line.split("\t", 1)
            rows.append((name, message.replace("{shipped}", str(shipped_rules_dir()))))
    return rows


CASES = _expected()
IDS = [name for name, _ in CASES]


def test_every_case_folder_has_an_expected_message() -> None:
    assert sorted(p.name for p in BAD.iterdir() if p.is_dir()) == sorted(IDS)
    assert all((BAD / name / "rules.yaml").is_file() for name in IDS)


@pytest.mark.parametrize("name,message", CASES, ids=IDS)
def test_bad_rule_file_message(name: str, message: str, shipped_rules: advisor.Rulebook) -> None:
    folder = BAD / name
    if message == "-":
        ruleset = advisor.load_rules([folder])
        assert ruleset.ids == shipped_rules.ids
        return
    with pytest.raises(advisor.RuleError) as info:
        advisor.load_rules([folder])
    assert str(info.value) == f"{folder / 'rules.yaml'}{message}"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name,message", CASES, ids=IDS)
def test_bad_rule_folder_stops_the_command_line_before_any_profile(name: str, message: str) -> None:
    folder = BAD / name
    result = CliRunner().invoke(cli, ["evaluate", "--engine", "python", "--as-of", AS_OF, "--rules", str(folder), str(PROFILE)],
                                catch_exceptions=False)
    if message == "-":
        assert result.exit_code in (EXIT_OK, EXIT_FINDINGS) and result.stdout
        return
    assert (result.exit_code, result.stdout) == (EXIT_ERROR, "")
    assert result.stderr == f"error: {folder / 'rules.yaml'}{message}\n"


def test_rule_commands_refuse_a_bad_folder_too() -> None:
    folder = BAD / "unknown-operator"
    for args in (["rules", "list"], ["rules", "docs"], ["validate", str(PROFILE)]):
        result = CliRunner().invoke(cli, [*args, "--rules", str(folder)], catch_exceptions=False)
        assert result.exit_code == EXIT_ERROR and result.stdout == ""
        assert result.stderr.startswith(f"error: {folder / 'rules.yaml'}:9:39: rule 'custom.unknown-operator': unknown operator")


def test_every_message_names_the_rule_or_the_yaml_problem() -> None:
    for name, message in CASES:
        if message != "-":
            assert message.startswith(":") and message.split(":")[1].isdigit(), name
            assert "rule '" in message or "derived fact '" in message or "problem '" in message or \
                "'ranking'" in message or "YAML" in message or name in (
                "alias-bomb", "duplicate-yaml-key", "file-is-a-list", "rules-not-a-list", "top-level-typo"), name


# --------------------------------------------------------------------------- satisfiable conditions load


RULE = """rules:
  - id: custom.satisfiable
    kind: governance_gap
    severity: medium
    title: Example rule
    refs: ["14"]
    {for_each}when:
      all:
{items}
    message: Example.
    advice: Example.
"""

SATISFIABLE = {
    "equals and in holding it": ["{path: stage, equals: active}", "{path: stage, in: [active, closing]}"],
    "a closed range of one value": ["{path: funding.budget_required, gte: 5}", "{path: funding.budget_required, lte: 5}"],
    "a whole number between two": ["{path: committee.members, gt: 4}", "{path: committee.members, lt: 6}"],
    "a fraction between two": ["{path: duration.months, gt: 0.5}", "{path: duration.months, lt: 0.6}"],
    "not true and missing": ["not_true: governance.protocol", "missing: governance"],
    "not true in a section that exists": ["exists: governance", "not_true: governance.protocol"],
    "two exclusions": ["{path: stage, not_equals: active}", "{path: stage, not_in: [closing]}"],
    "an exact count": ["{count: partners, gte: 2}", "{count: partners, lte: 2}"],
    "empty and missing": ["empty: goals", "missing: goals"],
    "an empty list that is set": ["{count: goals, equals: 0}", "exists: goals"],
    "one item": ["non_empty: goals", "{count: goals, lt: 2}"],
    "any of two, then one of them": ["any: [{path: stage, equals: active}, {path: stage, equals: closing}]",
                                     "{path: stage, equals: closing}"],
    "a value and not another": ["{path: stage, equals: active}", "not: {path: stage, equals: closing}"],
    "two quantifiers over different items": ["{some: partners, where: {path: item.sector, equals: police}}",
                                             "{some: partners, where: {path: item.sector, equals: faith}}"],
    "a derived fact and the field it reads": ["{path: derived.term, equals: event}", "{path: duration.months, gte: 12}"],
    "not of an any": ["not: {any: [{is_true: governance.protocol}, {missing: governance}]}", "exists: governance"],
    "contains and a count": ["{path: values.shared, contains: respect}", "{count: values.shared, equals: 1}"],
    "not contains and empty": ["not: {path: values.shared, contains: respect}", "empty: values.shared"],
    "a missing section and a missing field": ["missing: funding", "missing: funding.model"],
    "nested all": ["all: [{path: stage, in: [active, closing]}, {path: stage, not_equals: closing}]",
                   "{path: stage, equals: active}"],
}


@pytest.mark.parametrize("items", SATISFIABLE.values(), ids=SATISFIABLE.keys())
def test_conditions_some_profile_can_meet_are_not_refused(tmp_path: Path, items: list[str]) -> None:
    (tmp_path / "rules.yaml").write_text(RULE.format(for_each="", items="".join(f"        - {i}\n" for i in items)))
    assert "custom.satisfiable" in advisor.load_rules([tmp_path]).ids


def test_for_each_rules_with_item_fields_are_checked_too(tmp_path: Path) -> None:
    items = "        - {path: item.sector, equals: police}\n        - {path: item.sector, in: [faith, media]}\n"
    (tmp_path / "rules.yaml").write_text(RULE.format(for_each="for_each: partners\n    ", items=items))
    with pytest.raises(advisor.RuleError, match="item.sector cannot be 'police' and one of"):
        advisor.load_rules([tmp_path])


def test_a_proportion_that_can_never_apply_is_refused(tmp_path: Path) -> None:
    text = RULE.format(for_each="", items="        - {path: derived.term, equals: long}\n") + (
        "    proportion:\n      - when: {path: derived.term, equals: event}\n        severity: low\n        because: Events.\n")
    (tmp_path / "rules.yaml").write_text(text)
    with pytest.raises(advisor.RuleError, match="this proportion can never apply together with the rule's condition: "
                                                "derived.term cannot equal both 'long' and 'event'"):
        advisor.load_rules([tmp_path])


# --------------------------------------------------------------------------- the contradiction check is sound


_FIELDS = {
    "stage": schema.lookup(("stage",)),
    "funding.budget_required": schema.lookup(("funding", "budget_required")),
    "committee.members": schema.lookup(("committee", "members")),
    "governance.protocol": schema.lookup(("governance", "protocol")),
    "goals": schema.lookup(("goals",)),
}
_CONSTANTS = {"number": [0.0, 0.5, 1.0, 5.0, 10.0], "int": [0, 1, 2, 5], "enum": list(_FIELDS["stage"].values), "bool": [True, False]}


@st.composite
def _tests_of_one_field(draw):
    name = draw(st.sampled_from(sorted(_FIELDS)))
    ftype = _FIELDS[name]
    ref = Ref("profile", tuple(name.split(".")), ftype)

    def one():
        kind = ftype.kind
        if kind == "collection":
            return draw(st.one_of(st.builds(Count, st.just(ref), st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte"]),
                                            st.integers(0, 4)),
                                  st.builds(Check, st.just(ref), st.sampled_from(["exists", "missing", "empty", "non_empty"]))))
        consts = _CONSTANTS[kind]
        ops = ["eq", "neq", "in", "not_in"] + (["lt", "lte", "gt", "gte"] if kind in ("int", "number") else [])
        op = draw(st.sampled_from(ops))
        value = tuple(draw(st.lists(st.sampled_from(consts), min_size=1, max_size=3))) if op in ("in", "not_in") \
            else draw(st.sampled_from(consts))
        node = draw(st.sampled_from([Compare(ref, op, value), Check(ref, "exists"), Check(ref, "missing")]))
        return Not(node) if draw(st.booleans()) else node

    return ref, [one() for _ in range(draw(st.integers(2, 4)))]


def _brute_force_values(ftype) -> list:
    from advisor.language.contradiction import _MISSING

    if ftype.kind == "collection":
        return [(False, 0)] + [(True, n) for n in range(8)]
    if ftype.kind == "number":
        return [_MISSING] + [x / 4 for x in range(-8, 60)]
    if ftype.kind == "int":
        return [_MISSING] + list(range(-3, 15))
    return [_MISSING] + list(_CONSTANTS[ftype.kind])


@settings(max_examples=examples(400), deadline=None)
@given(_tests_of_one_field())
def test_a_refused_condition_really_has_no_value_that_meets_it(drawn) -> None:
    from advisor.language.contradiction import _holds

    ref, tests = drawn
    met = any(all(_holds(t, v) for t in tests) for v in _brute_force_values(ref.type))
    refused = contradiction(tests) is not None
    assert not (refused and met), "refused a condition some value meets"
    assert refused == (not met), "missed a contradiction of one field"
    assert (contradiction([All(tuple(tests))]) is not None) == refused  # nested all is flattened


def test_the_shipped_rules_have_no_contradictions(shipped_rules: advisor.Rulebook) -> None:
    for rule in shipped_rules.rules:
        for node in itertools.chain([rule.when], (p.when for p in rule.proportion)):
            assert contradiction([node]) is None, rule.id
