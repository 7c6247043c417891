"""The conventions people expect of a command-line tool: `-` for standard input, --color with NO_COLOR and
FORCE_COLOR, default options from a configuration file, shell completion, messages that help."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, _use_color, cli
from advisor.config import SETTINGS, find_config, load_config

from conftest import AS_OF, EXAMPLES

STRUGGLING = EXAMPLES / "struggling-business-forum.yaml"
HEALTHY = EXAMPLES / "khayelitsha-safer-schools.yaml"
ESC = "\x1b["


def run(*args, input: str | bytes | None = None, env: dict | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


# --------------------------------------------------------------------------- standard input


def test_a_dash_reads_the_profile_from_standard_input() -> None:
    from_file = run("evaluate", "--engine", "python", "--as-of", AS_OF, "--format", "json", HEALTHY)
    piped = run("evaluate", "--engine", "python", "--as-of", AS_OF, "--format", "json", "-", input=HEALTHY.read_bytes())
    assert piped.exit_code == from_file.exit_code == EXIT_OK
    assert piped.stdout.replace('"<stdin>"', f'"{HEALTHY}"') == from_file.stdout
    assert run("validate", "-", input=HEALTHY.read_text()).stdout == "ok: <stdin>\n"


def test_standard_input_errors_name_stdin_with_the_line() -> None:
    result = run("validate", "-", input="name: X\npartners: [\n")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith("error: <stdin>:3:1: invalid YAML")
    twice = run("validate", "-", "-", input=HEALTHY.read_text())
    assert twice.exit_code == EXIT_ERROR and "standard input ('-') is given twice" in twice.stderr


def test_standard_input_may_hold_several_profiles_as_documents() -> None:
    both = HEALTHY.read_text() + "\n---\n" + STRUGGLING.read_text()
    assert run("validate", "-", input=both).stdout == "ok: <stdin>#1\nok: <stdin>#2\n"


# --------------------------------------------------------------------------- colour


class _Tty:
    def isatty(self) -> bool:
        return True


class _Pipe:
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("env, when, tty, expected", [
    ({}, "auto", True, True),
    ({}, "auto", False, False),
    ({"NO_COLOR": "1"}, "auto", True, False),
    ({"FORCE_COLOR": "1"}, "auto", False, True),
    ({"FORCE_COLOR": "0"}, "auto", True, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, "auto", False, False),  # NO_COLOR wins
    ({"NO_COLOR": "1"}, "always", False, True),  # the option wins over both
    ({"FORCE_COLOR": "1"}, "never", True, False),
])
def test_colour_follows_the_option_then_NO_COLOR_then_FORCE_COLOR(monkeypatch, env, when, tty, expected) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _use_color(_Tty() if tty else _Pipe(), when) is expected


def test_color_always_colours_a_pipe_and_never_a_file(tmp_path: Path) -> None:
    args = ("evaluate", "--engine", "python", "--as-of", AS_OF)
    assert ESC in run(*args, "--color", "always", STRUGGLING).stdout
    assert ESC not in run(*args, STRUGGLING, env={"NO_COLOR": None, "FORCE_COLOR": None}).stdout
    assert ESC in run(*args, STRUGGLING, env={"FORCE_COLOR": "1", "NO_COLOR": None}).stdout
    run(*args, "--color", "always", "-o", tmp_path / "advice.txt", STRUGGLING)
    assert ESC not in (tmp_path / "advice.txt").read_text()


# --------------------------------------------------------------------------- configuration


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A folder to work in, with a sub-folder: the configuration is found from below."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def test_defaults_come_from_the_nearest_advisor_yaml(project: Path) -> None:
    (project / ".advisor.yaml").write_text("fail-on: medium\nformat: markdown\nas-of: 2026-06-01\n")
    result = run("evaluate", "--engine", "python", HEALTHY)  # one low finding: below medium
    assert result.exit_code == EXIT_OK and result.stdout.startswith("# ")
    # fail-on set by the configuration counts as asked for: a document with medium findings fails
    assert run("evaluate", "--engine", "python", STRUGGLING).exit_code == EXIT_FINDINGS
    # the command line wins
    assert run("evaluate", "--engine", "python", "--format", "text", HEALTHY).stdout.startswith("Khayelitsha")
    assert run("--no-config", "evaluate", "--engine", "python", HEALTHY).stdout.startswith("Khayelitsha")
    verbose = run("evaluate", "-v", "--engine", "python", HEALTHY)
    assert f"note: defaults from {project / '.advisor.yaml'}: fail-on=medium, format=markdown, as-of=2026-06-01" \
        in verbose.stderr


def test_defaults_from_pyproject_tool_advisor_with_rule_folders_relative_to_it(project: Path) -> None:
    rules = project / "local-rules"
    rules.mkdir()
    (rules / "extra.yaml").write_text(
        "rules:\n  - id: local.no-website\n    kind: governance_gap\n    severity: low\n    title: No website\n"
        "    refs: ['16.1']\n    when: {exists: name}\n    message: No website yet.\n"
        "    advice: Make one.\n")
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.advisor]\nrules = ["local-rules"]\n')
    assert find_config(project / "work") == project / "pyproject.toml"
    listed = run("rules", "list")
    assert listed.exit_code == EXIT_OK, listed.stderr
    assert "local.no-website" in listed.stdout
    assert "local.no-website" not in run("--no-config", "rules", "list").stdout


def test_advisor_yaml_comes_before_pyproject_in_the_same_folder(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.advisor]\nformat = "json"\n')
    (project / ".advisor.yaml").write_text("format: markdown\n")
    assert load_config(find_config()).values == {"format": "markdown"}
    assert find_config("/") is None or find_config("/").parent == Path("/")


@pytest.mark.parametrize("text, message", [
    ("fail_onn: medium\n", ".advisor.yaml:1: fail_onn: unknown setting 'fail_onn' (a configuration file sets rules, "
                           "engine, fail-on, as-of, format); did you mean 'fail-on'?"),
    ("format: html\nfail-on: hihg\n", ".advisor.yaml:2: fail-on: 'hihg' is not one of high, medium, low, never; "
                                      "did you mean 'high'?"),
    ("as-of: 01/01/2030\n", ".advisor.yaml:1: as-of: '01/01/2030' is not a date; write it as YYYY-MM-DD, for example "
                            "2027-03-31"),
    ("rules: [nowhere]\n", ".advisor.yaml:1: rules: 'nowhere' is not a folder"),
    ("- fail-on\n", ".advisor.yaml:1: a configuration file is a mapping of settings"),
])
def test_a_bad_configuration_is_one_line_naming_file_line_and_setting(project: Path, text: str, message: str) -> None:
    (project / ".advisor.yaml").write_text(text)
    result = run("validate", HEALTHY)
    assert result.exit_code == EXIT_ERROR and result.stdout == ""
    assert result.stderr.startswith(f"error: {project / message}"), result.stderr
    assert result.stderr.count("\n") == 1


def test_every_setting_is_an_option_of_the_commands_it_names() -> None:
    for key, setting in SETTINGS.items():
        for command in setting.commands:
            target = cli
            for name in command.split():
                target = target.commands[name]
            assert setting.option in {p.name for p in target.params}, (key, command)


# --------------------------------------------------------------------------- completion and messages


def _complete(words: str, cword: int) -> list[str]:
    env = {"_ADVISOR_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    return CliRunner().invoke(cli, [], env=env, prog_name="advisor").stdout.splitlines()


def test_completion_offers_rule_ids_and_leaves_profiles_to_the_shell() -> None:
    assert "plain,risk.lack-of-communication" in _complete("advisor rules show risk.lack-of-c", 3)
    assert _complete("advisor evaluate adv", 2) == ["file,adv"]  # the shell completes files and folders
    assert "plain,--fail-on" in _complete("advisor evaluate --fail", 2)
    assert {"plain,high", "plain,medium"} <= set(_complete("advisor evaluate --fail-on ", 3))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell: str) -> None:
    result = run("completion", shell)
    assert result.exit_code == EXIT_OK and "_ADVISOR_COMPLETE" in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_bash_script_completes_rule_ids_in_bash(tmp_path: Path) -> None:
    script = tmp_path / "advisor.bash"
    script.write_text(run("completion", "bash").stdout)
    shim = tmp_path / "advisor"  # the command the script calls: this checkout's advisor
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m advisor \"$@\"\n")
    shim.chmod(0o755)
    probe = (f"source {script}; COMP_WORDS=(advisor rules show risk.lack-of-co); COMP_CWORD=3; "
             "_advisor_completion advisor; printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["risk.lack-of-communication"], done.stderr


def test_a_shortened_rule_id_suggests_the_rule_it_shortens() -> None:
    result = run("rules", "show", "risk.lack-of-comms")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == "error: unknown rule 'risk.lack-of-comms'; did you mean 'risk.lack-of-communication'?\n"
    assert "did you mean 'risk.lack-of-trust'?" in run("rules", "show", "risk.lack-of-trsut").stderr


def test_as_of_in_another_format_is_answered_with_an_example() -> None:
    result = run("evaluate", "--as-of", "01/01/2030", HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert "'01/01/2030' is not a date; write it as YYYY-MM-DD, for example 2027-03-31" in result.stderr
    assert "%Y" not in result.stderr


def test_a_glob_without_matches_is_not_counted_as_a_profile() -> None:
    result = run("evaluate", "no-such-folder/*.yaml")
    assert result.exit_code == EXIT_ERROR
    assert "error: no-such-folder/*.yaml: no files match this pattern" in result.stderr
    assert "Portfolio: 0 profiles, 1 argument named no profile" in result.stdout
    assert "could not be evaluated" not in result.stdout
    both = run("evaluate", "--engine", "python", "--as-of", AS_OF, "no-such-folder/*.yaml", HEALTHY, STRUGGLING)
    assert "Portfolio: 2 profiles, 1 argument named no profile" in both.stdout


def test_documents_exit_0_once_written_unless_fail_on_is_given(tmp_path: Path) -> None:
    args = ("evaluate", "--engine", "python", "--as-of", AS_OF)
    assert run(*args, "--format", "markdown", STRUGGLING).exit_code == EXIT_OK
    assert run(*args, "--format", "markdown", "--fail-on", "high", STRUGGLING).exit_code == EXIT_FINDINGS
    assert run(*args, STRUGGLING).exit_code == EXIT_FINDINGS  # text and json are checks: they fail on findings
    assert run(*args, "--format", "json", STRUGGLING).exit_code == EXIT_FINDINGS


def test_rules_list_fits_the_width_it_is_given() -> None:
    lines = run("rules", "list").stdout.splitlines()  # not a terminal: the widest text, 100 columns
    assert max(len(line) for line in lines) <= 100
