"""The README's section on the ways in: every command with an example, and its samples work as written."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from advisor import load_profile
from advisor.cli import cli
from advisor.forms.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Without writing YAML")[1].split("\n## ")[0]


def _commands():
    for command in COMMANDS:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            yield from (f"{command.name} {name}" for name in subcommands)
        else:
            yield command.name


def test_every_command_is_in_the_readme_with_an_example_and_in_help():
    for name in _commands():
        assert re.search(rf"^advisor {name}\b", SECTION, re.M), f"no example of advisor {name}"
        result = CliRunner().invoke(cli, [*name.split(), "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "Example:" in result.stdout
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, name


def test_the_simple_csv_sample_imports_as_the_readme_says(tmp_path):
    for name in ("partnerships.csv", "partners.csv"):
        block = re.search(rf"`{name}`:\n  ```csv\n(.*?)  ```", SECTION, re.S)
        (tmp_path / name).write_text(re.sub(r"^  ", "", block[1], flags=re.M), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "partnerships.csv"), str(tmp_path / "partners.csv"),
                                      "-o", str(tmp_path / "profiles")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "profiles").iterdir())
    assert written == ["mamelodi-east-neighbourhood-safety.yaml", "soshanguve-taxi-rank-safety.yaml"]
    assert all(f"profiles/{name}" in SECTION for name in written)
    profile = load_profile(str(tmp_path / "profiles" / written[0])).profile
    assert profile.partners[1].sector == "police" and profile.communication.frequency == "monthly"


def test_the_answers_sample_and_its_error_are_as_the_readme_says(tmp_path):
    block = re.search(r"  ```yaml\n(.*?)  ```", SECTION, re.S)[1]
    answers = re.sub(r"^  ", "", block, flags=re.M)
    (tmp_path / "answers.yaml").write_text(answers, encoding="utf-8")
    assert CliRunner().invoke(cli, ["init", "--from", str(tmp_path / "answers.yaml"), str(tmp_path / "p.yaml")]).exit_code == 0
    assert load_profile(str(tmp_path / "p.yaml")).profile.resources.skills_gaps == [
        "safety officer for 3,000 people", "a bookkeeper"]
    (tmp_path / "answers.yaml").write_text(answers.replace("partner_sector: police", "partner_sector: polise"))
    result = _in(tmp_path, ["init", "--from", "answers.yaml", "q.yaml"])
    shown = re.search(r"`(error: answers\.yaml:[^`]*?)\(\.\.\.\)`", SECTION)[1]
    assert result.stderr.startswith(shown)


def _in(folder: Path, args: list[str]):
    import os

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        os.chdir(cwd)
