"""The facts builder's generated functions: the measures they write out agree with the measure functions (compute),
which the explainer and the report use."""

from __future__ import annotations

import random
from datetime import date

import pytest
from profilegen import random_profile

import advisor
from advisor.engine import facts as facts_module
from advisor.engine.facts import _said, compute, number

DAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def adv() -> advisor.Advisor:
    return advisor.Advisor(engine="python")


def _profiles() -> list[dict]:
    rng = random.Random(16)
    profiles = [random_profile(rng) for _ in range(60)]
    lead = {"name": "Ward 5 Forum", "partners": [{"name": "Ward 5 CPF", "competes_with": ["Ward-5 Trust"],
                                                   "values": ["Trust", "child safety"]},
                                                  {"name": "Ward-5 Trust", "values": ["trusts"]}],
            "lead_partner": "Ward 5 CPF", "values": {"shared": ["trust", "Child-Safety"]},
            "committee": {"sectors_represented": ["community"]}}
    bare = {"name": "Bare", "partners": [{"name": "One"}]}
    return [*profiles, lead, bare]


@pytest.mark.parametrize("n", range(62))
def test_written_out_measures_agree_with_the_measure_functions(adv, n) -> None:
    profile = adv.load(_profiles()[n]).profile
    builder = adv._evaluator.builder
    facts = builder.base(profile, DAY)
    for key, acc in builder.plan.profile.items():
        d = builder.derived.get(acc.ref.path[0]) if acc.ref.scope == "derived" else None
        if d is None or not d.compute:
            continue
        expected = compute(d, profile, None, DAY)
        assert facts.measures[d.name] == expected, d.name
        assert facts.base.get(key) == (None if expected is None else number(expected)), key
    for collection, accessors in builder.plan.items.items():
        items = facts_module.get_path(profile, collection) or []
        rows = facts.items[collection]
        assert [row["idx"] for row in rows] == list(range(len(items)))
        for key, acc in accessors.items():
            if acc.ref.scope != "item" or acc.ref.path[0] not in builder.item_measures.get(collection, ()):
                continue
            d = builder.derived[acc.ref.path[0]]
            for item, row in zip(items, rows):
                expected = compute(d, profile, item, DAY)
                assert row.get(key) == (None if expected is None else number(expected)), (key, item)


@pytest.mark.parametrize(("first", "second"), [
    ("Ward 5 CPF", "ward-5 cpf"), ("Ward 5 CPF", "Ward 5 Trust"), (["a", "Trusts", "b"], "trust"), (["a"], "b"),
    ([], "b"), ("x", ["X", "y"]), (["Child Safety", "trust"], ["child-safety", "other"]), ([], []), ([1, "a"], [1]),
])
def test_overlap_counts_the_values_said_alike_in_both(first, second) -> None:
    def as_lists(value: object) -> list:
        return [value] if isinstance(value, str) else value  # type: ignore[return-value]

    assert facts_module._overlap(DAY, first, second) == len(_said(as_lists(first)) & _said(as_lists(second)))
