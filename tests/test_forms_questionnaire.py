"""The questionnaire as data: it covers the profile model, is checked at load, reads answers in words."""

from __future__ import annotations

import pathlib
from datetime import date

import pytest

from advisor.errors import AdvisorError
from advisor.forms.questionnaire import (DONT_KNOW, NOT_APPLICABLE, AnswerError, QuestionnaireError,
                                         load_questionnaire, questionnaire_file)
from advisor.profile.schema import profile_type
from advisor.profile.validation import validate


def _leaves(node, prefix=""):
    for name, sub in node.fields.items():
        path = prefix + name
        if sub.kind == "object":
            yield from _leaves(sub, path + ".")
        elif sub.kind == "collection":
            yield path
            yield from _leaves(sub, path + "[].")
        else:
            yield path


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


def test_every_profile_field_is_asked_or_left_out_with_a_reason(qn):
    fields = set(_leaves(profile_type()))
    asked = set(qn.covered_fields())
    left_out = set(qn.not_asked)
    assert not asked & left_out
    assert fields - asked - left_out == set(), "fields neither asked nor listed under not_asked"
    assert (asked | left_out) - fields == set()
    assert all(reason.strip() for reason in qn.not_asked.values())


def test_sections_follow_the_guide_and_a_committee_recognises_them(qn):
    assert [s.title for s in qn.sections] == ["Who is involved", "Purpose and goals", "Type and level of partnership",
                                              "Roles and governance", "Communication", "Resources and risks",
                                              "Monitoring and evaluation"]
    assert set(qn.repeats) == {"partners", "goals", "risks", "kpis"}
    assert qn.repeats["kpis"].when.is_ == ("active", "reviewing", "closing")


def test_choices_are_words_never_keys(qn):
    for _repeat, q in qn.questions():
        for name, label in qn.choices(q):
            assert label != name or name in ("yes", "no"), (q.id, name)
            assert "_" not in label, (q.id, label)


def test_help_names_the_guide_section(qn):
    q = qn.by_id["screening_and_referral"]
    assert qn.help_line(q) == "Guide 21.6 Screening and referral protocols: Screening and referral protocols."


def _broken(tmp_path: pathlib.Path, old: str, new: str) -> str:
    text = pathlib.Path(questionnaire_file()).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "questionnaire.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("old, new, message", [
    ("field: purpose.statement", "field: purpose.statment", "'purpose.statment' is not a field of the profile"),
    ("    police: Police (SAPS or metro police)\n", "", "missing police"),
    ('guide: "21.6"\n', 'guide: "21.9"\n', "guide section '21.9' is not in the knowledge base"),
    ("when: {question: committee_exists, is: [\"yes\"]}", "when: {question: review_frequency, is: [\"yes\"]}",
     "not a question asked before this one"),
    ("when: {question: committee_exists, is: [\"yes\"]}", "when: {question: committee_exists, is: [\"yess\"]}",
     "did you mean 'yes'?"),
    ("        field: purpose.common_understanding\n        type: yes_no",
     "        field: purpose.common_understanding\n        type: number", "a number question cannot fill"),
    ("id: shared_vision", "id: common_understanding", "the id 'common_understanding' is used twice"),
    ("field: values.differences_acknowledged", "field: values.status_barriers", "is filled by another question too"),
])
def test_a_mistake_in_the_questionnaire_is_refused_at_load_with_its_line(tmp_path, old, new, message):
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(_broken(tmp_path, old, new))
    text = str(caught.value)
    assert message in text
    assert text.startswith(str(tmp_path / "questionnaire.yaml") + ":")
    assert isinstance(caught.value, AdvisorError)


def test_answers_in_words(qn):
    q = qn.by_id
    assert qn.parse(q["agreement"], "a memorandum of understanding (MOU)") == "mou"
    assert qn.parse(q["agreement"], "MOU") == "mou"
    assert qn.parse(q["agreement"], "4", by_number=True) == "mou"
    assert qn.parse(q["shared_vision"], "Don't know") == DONT_KNOW
    assert qn.parse(q["shared_vision"], True) == "yes"
    assert qn.parse(q["screening_and_referral"], "does not apply") == NOT_APPLICABLE
    with pytest.raises(AnswerError, match="not one of the answers"):
        qn.parse(q["shared_vision"], "does not apply")  # not offered for this question
    assert qn.parse(q["partner_contributes"], "Staff; Data and information") == ["staff", "data"]
    assert qn.parse(q["partner_contributes"], "staff data") == ["staff", "data"]
    assert qn.parse(q["committee_sectors"], "School, college or education department; Police (SAPS or metro police)") \
        == ["education", "police"]
    assert qn.parse(q["budget_required"], "R450 000") == 450000
    assert qn.parse(q["budget_required"], "450,000.50") == 450000.5
    assert qn.parse(q["start_date"], "2026-02-01") == date(2026, 2, 1)
    with pytest.raises(AnswerError, match="write 2026-12-25"):
        qn.parse(q["start_date"], "25/12/2026")
    with pytest.raises(AnswerError, match="not a number"):
        qn.parse(q["budget_required"], "lots")
    with pytest.raises(AnswerError, match="less than 1"):
        qn.parse(q["goal_priority"], "0")


def test_a_list_answer_keeps_thousands_in_one_item(qn):
    # The YAML trap of the issue: `skills_gaps: [safety officer for 3,000 people]` became two items.
    assert qn.parse(qn.by_id["skills_gaps"], "safety officer for 3,000 people; a bookkeeper") == \
        ["safety officer for 3,000 people", "a bookkeeper"]


def test_partners_exported_with_spaces_are_read_back(qn):
    names = ["SAPS Khayelitsha", "Khayelitsha CPF", "CPF"]
    q = qn.by_id["goal_partners"]
    assert qn.parse(q, "SAPS Khayelitsha Khayelitsha CPF CPF", names) == names
    assert qn.parse(q, "Khayelitsha CPF; SAPS Khayelitsha", names) == ["Khayelitsha CPF", "SAPS Khayelitsha"]
    with pytest.raises(AnswerError, match="not one of the partners"):
        qn.parse(q, "Metro Police", names)


def test_answers_make_a_valid_profile(qn):
    answers = {
        "partnership_name": "Ward 5 Safety Forum", "stage": "active",
        "partners": [{"partner_name": "SAPS Ward 5", "partner_sector": "police"},
                     {"partner_name": "Ward 5 CPF", "partner_sector": DONT_KNOW}],
        "lead_partner": "Ward 5 CPF",
        "goals": [{"goal_statement": "Fewer break-ins", "goal_partners": ["SAPS Ward 5"]}],
        "screening_and_referral": NOT_APPLICABLE, "screening_and_referral_why_not": "No referrals",
        "committee_exists": "no", "committee_members": 9,  # hidden: the committee does not exist
        "kpis": [{"kpi_name": "Break-ins per month", "kpi_target": 10}],
    }
    data = qn.profile(answers)
    assert data["partners"][1]["sector"] == "unknown"
    assert data["partners"][0]["objectives"] == ["g1"] and data["partners"][1]["objectives"] == []
    assert data["goals"] == [{"id": "g1", "statement": "Fewer break-ins"}]
    assert data["not_applicable"] == [{"step": "21.6", "reason": "No referrals"}]
    assert data["committee"] == {"exists": False}
    assert data["monitoring"]["kpis"] == [{"name": "Break-ins per month", "target": 10}]
    validate(data, "<answers>")
    data = qn.profile({**answers, "stage": "forming"})
    assert "monitoring" not in data  # KPIs are asked once the partnership is running
