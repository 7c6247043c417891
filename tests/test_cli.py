"""The command line through click's CliRunner: output, exit codes and one-line errors on stderr."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import advisor
import advisor.engine
from advisor.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, _use_color, cli
from advisor.knowledge import load_knowledge
from advisor.report.text import format_text

from conftest import AS_OF, EXAMPLES, get_advisor

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
STRUGGLING = EXAMPLES / "struggling-business-forum.yaml"
HEALTHY = EXAMPLES / "khayelitsha-safer-schools.yaml"


def run(*args, env: dict | None = None):
    """Invoke the CLI; exceptions other than exits propagate (they are bugs)."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def evaluate(*args, engine: str = "python", env: dict | None = None):
    return run("evaluate", "--engine", engine, "--as-of", AS_OF, *args, env=env)


def library_report(path: Path) -> advisor.Report:
    return get_advisor("python").evaluate(path, as_of=AS_OF)


@pytest.fixture
def bad_profiles(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken profiles and the exact one-line message each gives (after the file's path)."""
    syntax = tmp_path / "syntax-error.yaml"
    syntax.write_text("name: X\npartners: [\n")
    typo = tmp_path / "unknown-key.yaml"
    typo.write_text("name: X\npartners:\n  - name: A\n    sectr: police\n")
    missing = tmp_path / "no-such-profile.yaml"
    return {
        "syntax": (syntax, ":3:1: invalid YAML: did not find expected node content; check the indentation and the brackets here"),
        "typo": (typo, ":4:5: partners[0].sectr: unknown key 'sectr'; did you mean 'sector'?"),
        "missing": (missing, ": file not found"),
    }


# --------------------------------------------------------------------------- evaluate


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_evaluate_text(path: Path) -> None:
    report = library_report(path)
    result = evaluate(path)
    assert result.exit_code == (EXIT_FINDINGS if report.worst("high") else EXIT_OK), result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == report.profile_name
    readiness = report.summary["readiness"]
    assert f", {readiness['in_place']} " in lines[1] and f"({report.summary['score']}%)" in lines[1]
    assert ": --all shows everything\n" in result.stdout
    everything = evaluate("--all", path)
    assert everything.exit_code == result.exit_code and everything.stderr == ""
    assert "Recommended structure" in everything.stdout.splitlines()
    for problem in report.problems:
        assert problem.title in everything.stdout
    assert "\x1b[" not in result.stdout + everything.stdout  # no colour when not a terminal


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_evaluate_json(path: Path) -> None:
    result = evaluate("--format", "json", path)
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS)
    assert result.stdout.count("\n") == 1
    data = json.loads(result.stdout)
    # docs/REPORT.md: these keys may grow but never go away.
    assert {"schema_version", "advisor_version", "profile", "recommendation", "findings", "summary"} <= set(data)
    assert data["schema_version"] == 1
    assert data["profile"] == {"name": library_report(path).profile_name, "source": str(path)}
    assert {"formality", "level", "stakeholder_mix", "term", "structure"} <= set(data["recommendation"])
    assert set(data["recommendation"]["level"]) == {"declared", "evidenced", "recommended"}
    assert {"by_kind", "by_severity", "score"} <= set(data["summary"])
    for finding in data["findings"]:
        assert {"rule", "kind", "severity", "title", "message", "advice", "guide_refs", "evidence", "subject"} <= set(finding)
    assert result.stdout == library_report(path).to_json() + "\n"


def test_several_profiles_give_json_lines_in_input_order() -> None:
    order = list(reversed(EXAMPLE_FILES))
    result = evaluate("--format", "json", *order)
    lines = result.stdout.splitlines()
    assert [json.loads(line)["profile"]["source"] for line in lines] == [str(p) for p in order]
    assert result.exit_code == EXIT_FINDINGS  # the struggling forum has high findings


def test_several_profiles_in_text_give_a_line_each_then_the_portfolio_summary() -> None:
    result = evaluate(HEALTHY, STRUGGLING)
    names = [library_report(p).profile_name for p in (HEALTHY, STRUGGLING)]
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{names[0]}: ") and lines[1].startswith(f"{names[1]}: ")
    assert lines[3].startswith("Portfolio: 2 profiles · 1 with high-severity findings")


def test_a_folder_stands_for_its_profiles() -> None:
    result = evaluate("--format", "json", EXAMPLES)
    sources = [json.loads(line)["profile"]["source"] for line in result.stdout.splitlines()]
    assert sources == [str(p) for p in EXAMPLE_FILES]


@pytest.mark.parametrize("fail_on", ["high", "medium", "low", "never"])
@pytest.mark.parametrize("path", [HEALTHY, STRUGGLING], ids=lambda p: p.stem)
def test_fail_on_sets_the_exit_code(path: Path, fail_on: str) -> None:
    expected = EXIT_FINDINGS if library_report(path).worst(fail_on) else EXIT_OK
    assert evaluate("--fail-on", fail_on, "--format", "json", path).exit_code == expected


def test_fail_on_defaults_to_high_and_never_always_passes() -> None:
    assert library_report(STRUGGLING).worst("high")
    assert evaluate("--quiet", STRUGGLING).exit_code == EXIT_FINDINGS
    assert evaluate("--quiet", "--fail-on", "never", *EXAMPLE_FILES).exit_code == EXIT_OK


def test_quiet_prints_no_report() -> None:
    result = evaluate("--quiet", STRUGGLING)
    assert (result.stdout, result.stderr) == ("", "")


def test_as_of_is_the_evaluation_date() -> None:
    result = run("evaluate", "--engine", "python", "--format", "json", "--as-of", "2027-03-31", HEALTHY)
    assert json.loads(result.stdout)["as_of"] == "2027-03-31"


def test_as_of_defaults_to_source_date_epoch() -> None:
    result = run("evaluate", "--engine", "python", "--format", "json", HEALTHY, env={"SOURCE_DATE_EPOCH": "1800000000"})
    assert json.loads(result.stdout)["as_of"] == "2027-01-15"


def test_a_bad_as_of_date_is_a_usage_error() -> None:
    result = run("evaluate", "--engine", "python", "--as-of", "2026-13-01", HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert "--as-of" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("engine", advisor.engine.ENGINES)
def test_each_engine_gives_the_same_report(engine: str) -> None:
    if engine == "durable" and advisor.engine.durable_problem():
        pytest.skip(advisor.engine.durable_problem())
    result = evaluate("--format", "json", *EXAMPLE_FILES, engine=engine)
    assert result.stderr == ""
    assert result.stdout == "".join(library_report(p).to_json() + "\n" for p in EXAMPLE_FILES)


def test_verbose_says_why_the_python_engine_is_used(monkeypatch) -> None:
    monkeypatch.setattr(advisor.engine, "durable_problem", lambda: "durable-rules cannot be imported (test)")
    result = run("evaluate", "--verbose", "--as-of", AS_OF, "--format", "json", HEALTHY)
    assert result.stderr == "note: using the python engine because durable-rules cannot be imported (test)\n"
    assert json.loads(result.stdout)["profile"]["source"] == str(HEALTHY)


def test_verbose_says_nothing_when_an_engine_is_asked_for(monkeypatch) -> None:
    monkeypatch.setattr(advisor.engine, "durable_problem", lambda: "durable-rules cannot be imported (test)")
    assert evaluate("--verbose", "--format", "json", HEALTHY).stderr == ""


# --------------------------------------------------------------------------- output files


def test_output_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "advice.json"
    result = evaluate("--format", "json", "-o", target, HEALTHY, STRUGGLING)
    assert result.exit_code == EXIT_FINDINGS
    assert result.stdout == ""
    assert target.read_text() == evaluate("--format", "json", HEALTHY, STRUGGLING).stdout
    assert [p.name for p in tmp_path.iterdir()] == ["advice.json"]  # no temporary file left behind


def test_output_text_file_has_no_colour(tmp_path: Path) -> None:
    target = tmp_path / "advice.txt"
    evaluate("-o", target, STRUGGLING)
    text = target.read_text()
    assert text.startswith(library_report(STRUGGLING).profile_name) and "\x1b[" not in text


def test_output_folder_gets_one_file_per_profile(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    evaluate("--format", "json", "-o", out, *EXAMPLE_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.stem + ".json" for p in EXAMPLE_FILES)
    assert json.loads((out / "struggling-business-forum.json").read_text())["profile"]["source"] == str(STRUGGLING)


def test_output_refuses_to_overwrite_an_input_profile(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(HEALTHY.read_text())
    result = evaluate("-o", profile, profile)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {profile}: refusing to overwrite the input profile {profile}\n"
    assert profile.read_text() == HEALTHY.read_text()


# --------------------------------------------------------------------------- bad input


def test_bad_profiles_give_one_line_errors_and_the_good_one_is_still_evaluated(bad_profiles) -> None:
    paths = [bad_profiles["syntax"][0], HEALTHY, bad_profiles["typo"][0], bad_profiles["missing"][0]]
    result = evaluate("--format", "json", *paths)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == [f"error: {path}{message}" for path, message in bad_profiles.values()]
    assert [json.loads(line)["profile"]["source"] for line in result.stdout.splitlines()] == [str(HEALTHY)]


@pytest.mark.parametrize("name", ["syntax", "typo", "missing"])
def test_each_bad_profile_alone(bad_profiles, name: str) -> None:
    path, message = bad_profiles[name]
    result = evaluate(path)
    assert (result.exit_code, result.stdout, result.stderr) == (EXIT_ERROR, "", f"error: {path}{message}\n")


def test_errors_beat_findings_in_the_exit_code(bad_profiles) -> None:
    assert evaluate(STRUGGLING, bad_profiles["typo"][0]).exit_code == EXIT_ERROR


def test_a_folder_without_profiles_is_an_error(tmp_path: Path) -> None:
    result = evaluate(tmp_path, HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {tmp_path}: no profiles (*.yaml, *.yml) in this folder\n"
    assert library_report(HEALTHY).profile_name in result.stdout


def test_a_missing_rule_folder_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = evaluate("--rules", tmp_path / "nowhere", HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {tmp_path / 'nowhere'}: rule folder not found\n"


def test_an_extra_rule_folder_adds_its_rules(tmp_path: Path) -> None:
    (tmp_path / "local.yaml").write_text(
        "rules:\n"
        "  - id: local.always\n"
        "    kind: governance_gap\n"
        "    severity: low\n"
        "    title: Always fires\n"
        "    refs: ['14']\n"
        "    when: {exists: name}\n"
        "    message: It fires for {name}.\n"
        "    advice: Nothing to do.\n"
    )
    result = evaluate("--format", "json", "--rules", tmp_path, HEALTHY)
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert "local.always" in rules


def test_usage_errors_exit_with_2() -> None:
    assert run("evaluate").exit_code == EXIT_ERROR
    assert run("evaluate", "--fail-on", "sometimes", HEALTHY).exit_code == EXIT_ERROR
    assert run("evaluate", "--format", "docx", HEALTHY).exit_code == EXIT_ERROR
    assert run("no-such-command").exit_code == EXIT_ERROR


def test_several_documents_need_an_output_folder() -> None:
    result = evaluate("--format", "html", HEALTHY, STRUGGLING)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == ("error: --format html writes one document per profile; give -o DIR for several profiles"
                             " (a folder, created if missing)\n")
    # Named like one document, a missing path is not taken for a folder.
    result = evaluate("--format", "html", "-o", "report.html", HEALTHY, STRUGGLING)
    assert result.exit_code == EXIT_ERROR and "give -o DIR" in result.stderr


def test_a_missing_output_folder_is_created_for_several_documents(tmp_path: Path) -> None:
    out = tmp_path / "advice" / "2026"
    result = evaluate("--format", "markdown", "-o", out, HEALTHY, STRUGGLING)
    assert result.exit_code == EXIT_OK, result.stderr  # documents written: 0, though one has high findings
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(p).stem + ".md" for p in (HEALTHY, STRUGGLING))
    # One profile with a missing path writes that file, as before.
    single = tmp_path / "one"
    assert evaluate("--format", "markdown", "-o", single, HEALTHY).exit_code == EXIT_OK
    assert single.is_file() and single.read_text().startswith("#")
    # One file holding several profiles: known only once it is read, and the folder is made then.
    both = tmp_path / "both.yaml"
    both.write_text(HEALTHY.read_text() + "\n---\n" + STRUGGLING.read_text())
    result = evaluate("--format", "html", "--fail-on", "high", "-o", tmp_path / "docs", both)
    assert result.exit_code == EXIT_FINDINGS, result.stderr  # --fail-on given: documents fail on findings too
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["both-1.html", "both-2.html", "index.html"]


# --------------------------------------------------------------------------- validate, schema


def test_validate_good_profiles() -> None:
    result = run("validate", *EXAMPLE_FILES)
    assert result.exit_code == EXIT_OK
    assert result.stdout.splitlines() == [f"ok: {p}" for p in EXAMPLE_FILES]


def test_validate_reports_each_bad_profile(bad_profiles) -> None:
    result = run("validate", HEALTHY, *(p for p, _ in bad_profiles.values()))
    assert result.exit_code == EXIT_ERROR
    assert result.stdout == f"ok: {HEALTHY}\n"
    assert result.stderr.splitlines() == [f"error: {path}{message}" for path, message in bad_profiles.values()]


def test_validate_checks_waivers_against_the_rule_ids(tmp_path: Path) -> None:
    profile = tmp_path / "waiver.yaml"
    profile.write_text("name: X\npartners:\n  - name: A\nwaivers:\n  - rule: risk.lack-of-comunication\n    reason: r\n")
    result = run("validate", profile)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == (f"error: {profile}:5:5: waivers[0].rule: 'risk.lack-of-comunication' is not a known rule id;"
                             " did you mean 'risk.lack-of-communication'?\n")


def test_schema_is_json_schema_for_editors() -> None:
    result = run("schema")
    assert result.exit_code == EXIT_OK
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] and schema["description"]
    assert "partners" in schema["properties"]
    assert {"name", "partners"} <= set(schema["required"])


# --------------------------------------------------------------------------- rules


def test_rules_list_shows_every_rule_and_the_coverage() -> None:
    result = run("rules", "list")
    assert result.exit_code == EXIT_OK
    ruleset = advisor.load_rules()
    listed = {line.split()[0] for line in result.stdout.splitlines() if line and not line.startswith(" ")}
    assert ruleset.ids <= listed
    for area in load_knowledge().areas:
        assert re.search(rf"^  {re.escape(area.name)} +\d+/\d+", result.stdout, re.M), area.name
    assert re.search(r"^coverage: \d+/\d+ ", result.stdout, re.M)


def test_rules_show_a_known_rule() -> None:
    rule = advisor.load_rules().rule("risk.lack-of-communication")
    knowledge = load_knowledge()
    result = run("rules", "show", rule.id)
    assert result.exit_code == EXIT_OK
    out = result.stdout
    assert out.startswith(f"{rule.id}: {rule.title}\n")
    assert re.search(r"defined in +rules/risks/communication\.yaml:\d+", out)
    assert "fires when" in out and rule.kind in out and rule.severity in out
    for ref in rule.refs:
        assert knowledge.get(ref).title in out
        assert " ".join(knowledge.get(ref).text.split()[:4]) in " ".join(out.split())


def test_rules_show_an_unknown_rule_suggests_the_closest() -> None:
    result = run("rules", "show", "risk.lack-of-comunication")
    assert (result.exit_code, result.stdout) == (EXIT_ERROR, "")
    assert result.stderr == "error: unknown rule 'risk.lack-of-comunication'; did you mean 'risk.lack-of-communication'?\n"


def test_rules_docs_writes_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "REFERENCE.md"
    assert run("rules", "docs", "-o", target).exit_code == EXIT_OK
    assert target.read_text() == run("rules", "docs").stdout


# --------------------------------------------------------------------------- help


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))
        else:
            yield path + (name,), command


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=lambda p: " ".join(p) or "advisor")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = run(*path, "--help", env={"COLUMNS": "200"})  # however wide the terminal, help fits 80 columns
    assert result.exit_code == EXIT_OK
    assert "Example" in result.stdout
    assert dict(_commands(cli))[path].help
    too_wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not too_wide, too_wide


def test_version() -> None:
    lines = run("--version").stdout.splitlines()
    assert lines[0] == f"advisor {advisor.__version__} (partnership-advisor)"
    assert lines[1].startswith(f"rules {advisor.__version__}+") and lines[2].startswith("guide: A Guide to Strategic")
    assert lines[3].startswith("engine: ")


# --------------------------------------------------------------------------- text report


def test_text_report_colour_only_when_asked() -> None:
    report = library_report(STRUGGLING)
    plain = format_text(report, load_knowledge(), color=False, width=100)
    coloured = format_text(report, load_knowledge(), color=True, width=100)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


@pytest.mark.parametrize("width", [60, 100])
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_text_report_wraps_to_the_width(path: Path, width: int) -> None:
    text = format_text(library_report(path), load_knowledge(), color=False, width=width)
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert all(len(line.split()) <= 2 for line in too_wide), too_wide  # only a word too long to break


def test_text_report_shows_problems_with_why_advice_and_evidence_in_words() -> None:
    report = library_report(STRUGGLING)
    text = format_text(report, load_knowledge(), color=False, width=100, everything=True)
    first = report.problems[0]
    assert re.search(rf"^  1\. +{re.escape(first.title)} · {first.severity} ", text, re.MULTILINE)
    assert f"why first: {first.why}"[:60] in " ".join(text.split())
    assert "because: " in text and "→ " in text
    assert "Shared values: none (line 18)" in text
    assert "SAPS Pietermaritzburg's goals signed up to: none (line 77)" in text


def test_text_report_shows_waived_findings_and_expired_waivers(tmp_path: Path) -> None:
    base = "name: Waiver test\npartners:\n  - name: SAPS\n    sector: police\n"
    fired = [f.rule for f in get_advisor("python").evaluate({"name": "W", "partners": [{"name": "SAPS", "sector": "police"}]},
                                                            as_of=AS_OF).findings if f.kind != "strength"]
    profile = tmp_path / "waived.yaml"
    profile.write_text(base + f"waivers:\n  - rule: {fired[0]}\n    reason: Accepted by the committee\n"
                              f"  - rule: {fired[1]}\n    reason: Was accepted\n    until: 2026-01-31\n")
    result = evaluate(profile)
    assert "1 waived" in result.stdout and "Accepted by the committee" not in result.stdout  # folded
    result = evaluate("--all", profile)
    assert "Waived (1)\n" in result.stdout
    assert "waived: Accepted by the committee" in result.stdout
    assert "Waivers ended (1)\n" in result.stdout
    assert "reason given: Was accepted" in result.stdout and fired[1] not in result.stdout
    assert "ended on 31 January 2026; the finding applies again" in result.stdout


def test_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _use_color(Tty())
    assert not _use_color(open(os.devnull, "w"))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _use_color(Tty())
