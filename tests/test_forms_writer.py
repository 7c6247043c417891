"""The profile init and import write: every text comes back as written, whatever YAML would make of it."""

from __future__ import annotations

import pytest

from advisor.forms.questionnaire import load_questionnaire
from advisor.forms.writer import MODELINE, profile_yaml
from advisor.profile.reading import profile_from_text

TRAPS = ["yes", "No", "null", "~", "1:30", "0x1F", "012", "1e3", "2026-02-01", "#hash", "- dash", "key: value",
         "'single'", '"double"', "a # comment", "3,000 people", "[list]", "{map}", "*alias", "&anchor", "!tag",
         "%TAG", "@at", "`tick", "|", ">", "back\\slash", "tab\there", "line\u2028separator", "next\u0085line",
         "ünïcödé Ŧ 漢字", " leading and trailing ", "=SUM(A1)"]


@pytest.mark.parametrize("text", TRAPS)
def test_any_text_comes_back_as_written(text):
    data = {"profile_version": 1, "name": "X" + text, "partners": [{"name": "P", "role": text}],
            "resources": {"skills_gaps": [text, "safety officer for 3,000 people"]}}
    written = profile_yaml(load_questionnaire(), data)
    assert written.startswith(MODELINE + "\n")
    profile = profile_from_text(written, "<written>").profile
    assert profile.name == "X" + text
    assert profile.partners[0].role == text
    assert profile.resources.skills_gaps == [text, "safety officer for 3,000 people"]


@pytest.mark.parametrize("amount", [0.5, 450000.0, 1e20, 1.5e-7, 123456789.125])
def test_numbers_come_back_as_numbers(amount):
    data = {"name": "X", "partners": [{"name": "P"}], "funding": {"budget_required": amount}}
    profile = profile_from_text(profile_yaml(load_questionnaire(), data), "<written>").profile
    assert profile.funding.budget_required == amount
