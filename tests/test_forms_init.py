"""`advisor init`: the questionnaire in a terminal, and from an answers file."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from click.testing import CliRunner

from advisor import load_profile
from advisor.cli import cli
from advisor.forms.writer import MODELINE

ANSWERS = """\
partnership_name: Khayelitsha Safer Schools Partnership
stage: Running
focus: Schools and children; Youth and gangs
partners:
  - partner_name: Khayelitsha CPF
    partner_sector: Community structure (CPF, ward committee, residents)
    partner_commitment: Signed an agreement
    partner_contributes: Volunteers' time; Networks and contacts
  - partner_name: SAPS Khayelitsha
    partner_sector: police
    partner_leader_engaged: yes
lead_partner: Khayelitsha CPF
skills_gaps: safety officer for 3,000 people
goals:
  - goal_statement: Cut bullying incidents by 30% in 12 months
    goal_partners: Khayelitsha CPF; SAPS Khayelitsha
screening_and_referral: does not apply
screening_and_referral_why_not: "No referrals: the schools refer learners themselves"
"""


def _run(args, input=None, cwd=None):
    return CliRunner().invoke(cli, args, input=input, catch_exceptions=False)


def test_init_from_answers_writes_a_commented_profile_that_validates(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    target = tmp_path / "profile.yaml"
    result = _run(["init", "--from", str(answers), str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith(MODELINE + "\n")
    assert "# Which sector is this partner from?\n    sector: \"community\"  # Community structure" in text
    assert '  - "safety officer for 3,000 people"' in text  # one item, quoted: the YAML trap cannot bite
    profile = load_profile(str(target)).profile
    assert profile.resources.skills_gaps == ["safety officer for 3,000 people"]
    assert profile.not_applicable[0].step == "21.6"
    assert [p.objectives for p in profile.partners] == [["g1"], ["g1"]]
    assert _run(["evaluate", "--fail-on", "never", str(target)]).exit_code == 0


def test_init_from_json_answers(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"partnership_name": "Ward 5", "partners": [{"partner_name": "Ward 5 CPF"}]}))
    target = tmp_path / "p.yaml"
    assert _run(["init", "--from", str(answers), str(target)]).exit_code == 0
    assert load_profile(str(target)).profile.name == "Ward 5"


@pytest.mark.parametrize("text, expected", [
    ("partnership_name: X\npartners:\n  - partner_name: A\n    partner_sector: polise\n",
     "answers.yaml:4:5: partners[1].partner_sector: 'polise' is not one of the answers"),
    ("partnership_name: X\nstag: active\npartners:\n  - partner_name: A\n",
     "answers.yaml:2:1: stag: no question has the id 'stag'; did you mean 'stage'?"),
    ("partnership_name: X\n", "answers.yaml:1:1: partners: give at least 1 partner"),
    ("partnership_name: X\npartners:\n  - partner_name: A\nlead_partner: B\n",
     "answers.yaml:4:1: lead_partner: 'B' is not one of the partners (A)"),
    ("partnership_name: X\npartners:\n  - partner_name: A\nstart_date: 2027-01-01\nend_date: 2026-01-01\n",
     "answers.yaml:5:1: end_date: 2026-01-01 is before 2027-01-01"),
    ("partnership_name: X\npartners:\n  - partner_name: A\n    partner_competes_with: B Security\n  - partner_name: C\n",
     "answers.yaml:4:5: partners[1].partner_competes_with: 'B Security' is not one of the partners (C)"),
])
def test_a_wrong_answer_names_the_file_line_and_question(tmp_path, monkeypatch, text, expected):
    answers = tmp_path / "answers.yaml"
    answers.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "--from", "answers.yaml", "p.yaml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: " + expected), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "p.yaml").exists()


def test_init_never_replaces_a_file_without_force(tmp_path):
    target = tmp_path / "p.yaml"
    target.write_text("mine", encoding="utf-8")
    answers = tmp_path / "a.yaml"
    answers.write_text("partnership_name: X\npartners:\n  - partner_name: A\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", "--from", str(answers), str(target)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine"
    assert CliRunner().invoke(cli, ["init", "--force", "--from", str(answers), str(target)]).exit_code == 0


def _interactive_input() -> str:
    lines = [
        "Ward 5 Safety Forum",     # name
        "runing",                  # stage: a typo is asked again
        "3",                       # stage: Running, by number
        "", "",                    # focus, affected
        "SAPS Ward 5", "police", "", "", "2; 3", "", "", "", "yes", "", "", "Ward 5 CP",  # partner 1
        "y",                       # add another partner
        "SAPS Ward 5",             # the same name again: refused
        "Ward 5 CPF", "7", "", "", "", "", "", "", "", "", "", "",  # partner 2
        "n",                       # no more partners
        "Ward 5 CPF",              # the competitor's name again: "Ward 5 CP" is no partner's
        "2",                       # lead partner: Ward 5 CPF
    ]
    return "\n".join(lines) + "\n" * 200


def test_init_asks_in_the_terminal_shows_a_summary_and_writes_on_yes(tmp_path):
    target = tmp_path / "ward5.yaml"
    result = CliRunner().invoke(cli, ["init", str(target)], input=_interactive_input())
    assert result.exit_code == 0, result.output[-2000:]
    out = result.output
    assert "== Who is involved (guide 8.6, 9.3, 21) ==" in out
    assert "Guide 21 Conclusion - Steps to build effective community partnerships:" in out
    assert "'runing' is not one of the answers" in out and "did you mean 'Running'?" in out
    assert "is listed already" in out
    assert "   3. Running" in out
    assert "== Your answers ==" in out and "  How far has the partnership come? Running" in out
    profile = load_profile(str(target)).profile
    assert profile.stage == "active"
    assert [(p.name, p.sector) for p in profile.partners] == [("SAPS Ward 5", "police"), ("Ward 5 CPF", "community")]
    assert profile.partners[0].contributes == ["staff", "skills"]
    assert profile.partners[0].leader_engaged is True
    assert profile.lead_partner == "Ward 5 CPF"
    assert "Name them as the partners were named: Ward 5 CPF" in out
    assert profile.partners[0].competes_with == ["Ward 5 CPF"]


def test_init_writes_nothing_when_the_answers_stop_or_the_person_says_no(tmp_path, monkeypatch):
    target = tmp_path / "ward5.yaml"
    result = CliRunner().invoke(cli, ["init", str(target)], input="Ward 5\n3\n")
    assert result.exit_code == 2 and "nothing was written" in result.stderr
    import advisor.forms.commands as commands

    confirm = commands.click.confirm
    monkeypatch.setattr(commands.click, "confirm", lambda text, default: False if text.startswith("\nWrite") else
                        confirm(text, default=default))
    result = CliRunner().invoke(cli, ["init", str(target)], input=_interactive_input())
    assert result.exit_code == 0 and "Nothing was written." in result.output
    assert list(pathlib.Path(tmp_path).iterdir()) == []  # no profile, and no temporary file either


def test_ctrl_c_in_the_middle_of_the_questions_leaves_no_file(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "advisor", "init", "p.yaml"], cwd=tmp_path, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(b"Ward 5\n3\n\n\nSAPS Ward 5\n")
    process.stdin.flush()
    deadline = time.monotonic() + 30
    seen = b""
    while b"Which sector is SAPS Ward 5 from?" not in seen and time.monotonic() < deadline:
        seen += process.stdout.read1(4096)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130
    assert list(tmp_path.iterdir()) == []


def test_init_from_answers_to_standard_output(tmp_path):
    answers = tmp_path / "a.json"
    answers.write_text('{"partnership_name": "Ward 5", "partners": [{"partner_name": "Ward 5 CPF"}]}')
    result = CliRunner().invoke(cli, ["init", "--from", str(answers), "-"])
    assert result.exit_code == 0 and result.stdout.startswith(MODELINE)
    assert 'name: "Ward 5"' in result.stdout and list(tmp_path.iterdir()) == [answers]
    asked = CliRunner().invoke(cli, ["init", "-"])
    assert asked.exit_code == 2 and "give a file name for the profile" in asked.stderr
