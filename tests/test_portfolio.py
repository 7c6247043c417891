"""A portfolio: many profiles from folders, globs, JSON Lines and multi-document YAML, evaluated in order in
worker processes, summed up in text, JSON and an HTML overview, with memory that does not grow with its size."""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import random
import re
import signal
import weakref
from pathlib import Path

import markupsafe
import pytest
import yaml
from click.testing import CliRunner

import advisor
from advisor import portfolio
from advisor.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, cli
from advisor.report.advice import area_coverage
from advisor.engine import durable_problem
from advisor.knowledge import load_knowledge
from advisor.portfolio import PortfolioSummary, evaluate_portfolio
from advisor.profile import reading
from advisor.profile.reading import Source, expand_inputs, folder_profiles, read_profiles
from advisor.report.text import summary_line

from conftest import AS_OF, EXAMPLES, get_advisor
from profilegen import random_profile

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
HEALTHY = EXAMPLES / "khayelitsha-safer-schools.yaml"
STRUGGLING = EXAMPLES / "struggling-business-forum.yaml"
BAD_YAML = "name: X\npartners: [\n"


def run(*args, env: dict | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def evaluate(*args, engine: str = "python"):
    return run("evaluate", "--engine", engine, "--as-of", AS_OF, *args)


def sources(stdout: str) -> list[str]:
    return [json.loads(line)["profile"]["source"] for line in stdout.splitlines()]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def generated(folder: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    return [write(folder / f"p{i:03d}.yaml", yaml.safe_dump(random_profile(rng), sort_keys=False)) for i in range(count)]


# --------------------------------------------------------------------------- inputs


def test_a_folder_gives_its_profiles_at_any_depth_sorted_by_path(tmp_path: Path) -> None:
    profile = HEALTHY.read_text()
    for name in ["b.yaml", "a/z.yaml", "a/b/c.yml", "a-b.yaml", "notes.txt", ".hidden.yaml", ".git/x.yaml", "a/.tmp.yml"]:
        write(tmp_path / name, profile)
    expected = [str(tmp_path / p) for p in ["a/b/c.yml", "a/z.yaml", "a-b.yaml", "b.yaml"]]
    assert folder_profiles(str(tmp_path)) == expected
    result = evaluate("--format", "json", tmp_path)
    assert sources(result.stdout) == expected


def test_globs_match_files_at_any_depth_in_path_order(tmp_path: Path) -> None:
    for name in ["x/one.yaml", "x/deeper/two.yaml", "x/three.yml", "y/four.yaml"]:
        write(tmp_path / name, HEALTHY.read_text())
    result = evaluate("--format", "json", f"{tmp_path}/x/**/*.yaml", f"{tmp_path}/y/*.yaml")
    assert sources(result.stdout) == [str(tmp_path / p) for p in ["x/deeper/two.yaml", "x/one.yaml", "y/four.yaml"]]


def test_a_glob_without_matches_is_an_error_and_the_rest_is_evaluated(tmp_path: Path) -> None:
    result = evaluate("--format", "json", f"{tmp_path}/*.yaml", HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {tmp_path}/*.yaml: no files match this pattern\n"
    assert sources(result.stdout) == [str(HEALTHY)]


def json_lines_file(tmp_path: Path) -> Path:
    good = json.dumps({"name": "Ward 5 Forum", "partners": [{"name": "SAPS Ward 5", "sector": "police"}]})
    typo = json.dumps({"name": "Typo", "partners": [{"name": "A", "sectr": "police"}]})
    return write(tmp_path / "portfolio.jsonl", f"{good}\n\n{typo}\n{{not json\n{good}\n")


def test_json_lines_hold_a_profile_per_line_named_by_line(tmp_path: Path) -> None:
    path = json_lines_file(tmp_path)
    result = evaluate("--format", "json", path)
    assert result.exit_code == EXIT_ERROR
    assert sources(result.stdout) == [f"{path}:1", f"{path}:5"]  # the blank line 2 is skipped, not counted
    assert result.stderr.splitlines() == [
        f"error: {path}:3: partners[0].sectr: unknown key 'sectr'; did you mean 'sector'?",
        f"error: {path}:4:2: invalid JSON: Expecting property name enclosed in double quotes",
    ]


def test_an_empty_json_lines_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.jsonl", "\n")
    result = evaluate(path, HEALTHY)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {path}: holds no profiles (a JSON Lines file has one profile per line)\n"


MULTI = """\
# Three partnerships of one station
---
name: First
partners:
  - name: SAPS
---
name: Second
partners:
  - name: CPF
    sectr: community
...
---
name: Third
partners: [{name: School}]
"""


def test_a_multi_document_yaml_file_holds_a_profile_per_document(tmp_path: Path) -> None:
    path = write(tmp_path / "station.yaml", MULTI)
    result = evaluate("--format", "json", path)
    assert result.exit_code == EXIT_ERROR
    assert sources(result.stdout) == [f"{path}#1", f"{path}#3"]
    # Lines are the file's own, so an editor jumps to the right place.
    assert result.stderr == f"error: {path}#2:10:5: partners[0].sectr: unknown key 'sectr'; did you mean 'sector'?\n"


def test_a_large_yaml_file_is_split_into_its_documents_with_the_same_results(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "station.yaml", MULTI + "---\n" + BAD_YAML)
    whole = list(file_profiles(path))
    monkeypatch.setattr(reading, "SPLIT_BYTES", 10)
    parts = list(reading.file_sources(str(path)))
    assert [(s.kind, s.index, s.line) for s in parts] == [("document", 1, 1), ("document", 2, 6), ("document", 3, 12),
                                                          ("document", 4, 15)]
    split = [(name, result) for src in parts for name, result in read_profiles(src)]
    assert [name for name, _ in split] == [name for name, _ in whole] == [f"{path}#{n}" for n in range(1, 5)]
    for (_, a), (_, b) in zip(whole, split):
        if isinstance(a, advisor.AdvisorError):
            assert str(a) == str(b)
        else:
            assert a.profile == b.profile and a.document.marks == b.document.marks
    assert str(split[3][1]).startswith(f"{path}#4:18:1: invalid YAML: ")


def loader_message(path: Path) -> str:
    """The message advisor's loader gives for a broken profile."""
    with pytest.raises(advisor.ProfileError) as info:
        advisor.load_profile(path)
    return str(info.value)


def file_profiles(path: Path):
    (src,) = reading.file_sources(str(path))
    return read_profiles(src)


def test_a_single_document_file_keeps_its_plain_name_and_messages(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", BAD_YAML)
    assert [(n, str(e)) for n, e in file_profiles(bad)] == [(str(bad), loader_message(bad))]
    ((name, loaded),) = file_profiles(HEALTHY)
    assert name == str(HEALTHY) and loaded.profile == advisor.load_profile(HEALTHY).profile


def test_validate_takes_the_same_inputs(tmp_path: Path) -> None:
    multi = write(tmp_path / "station.yaml", MULTI)
    lines = json_lines_file(tmp_path)
    result = run("validate", multi, lines)
    assert result.exit_code == EXIT_ERROR
    assert result.stdout.splitlines() == [f"ok: {multi}#1", f"ok: {multi}#3", f"ok: {lines}:1", f"ok: {lines}:5"]
    assert len(result.stderr.splitlines()) == 3


# --------------------------------------------------------------------------- JSON Lines, jobs, errors


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> list[Path]:
    """Thirty generated profiles, the examples, a broken file and a JSON Lines file, in a fixed order."""
    folder = tmp_path_factory.mktemp("mixed")
    generated(folder / "generated", 30)
    bad = write(folder / "broken.yaml", BAD_YAML)
    lines = json_lines_file(folder)
    return [folder / "generated", *EXAMPLE_FILES, bad, lines]


def test_json_lines_in_input_order_and_identical_with_two_jobs(mixed: list[Path]) -> None:
    one = evaluate("--format", "json", "--jobs", 1, *mixed)
    two = evaluate("--format", "json", "--jobs", 2, *mixed)
    assert (one.exit_code, one.stdout, one.stderr) == (two.exit_code, two.stdout, two.stderr)
    expected = [str(mixed[0] / f"p{i:03d}.yaml") for i in range(30)] + [str(p) for p in EXAMPLE_FILES]
    expected += [f"{mixed[-1]}:1", f"{mixed[-1]}:5"]
    assert sources(one.stdout) == expected
    for line, path in zip(one.stdout.splitlines()[30:34], EXAMPLE_FILES):
        assert line == get_advisor("python").evaluate(path, as_of=AS_OF).to_json()


def test_a_bad_profile_is_reported_with_its_file_and_the_rest_complete(mixed: list[Path]) -> None:
    for jobs in (1, 2):
        result = evaluate("--format", "json", "--jobs", jobs, *mixed)
        assert result.exit_code == EXIT_ERROR  # errors beat findings
        assert result.stderr.splitlines()[0] == f"error: {loader_message(mixed[-2])}"
        assert all(line.startswith(f"error: {mixed[-1]}:") for line in result.stderr.splitlines()[1:])
        assert len(result.stdout.splitlines()) == 30 + len(EXAMPLE_FILES) + 2


def test_exit_codes_over_a_portfolio(tmp_path: Path) -> None:
    assert evaluate("--quiet", "--jobs", 2, HEALTHY, STRUGGLING).exit_code == EXIT_FINDINGS
    assert evaluate("--quiet", "--jobs", 2, "--fail-on", "never", HEALTHY, STRUGGLING).exit_code == EXIT_OK
    bad = write(tmp_path / "bad.yaml", BAD_YAML)
    assert evaluate("--quiet", "--jobs", 2, "--fail-on", "never", HEALTHY, bad).exit_code == EXIT_ERROR


def test_jobs_must_be_a_positive_number() -> None:
    assert evaluate("--jobs", 0, HEALTHY).exit_code == EXIT_ERROR


@pytest.mark.skipif(durable_problem() is not None, reason=str(durable_problem()))
def test_the_durable_engine_in_workers_gives_the_same_lines(mixed: list[Path]) -> None:
    python = evaluate("--format", "json", "--jobs", 1, *mixed)
    durable = evaluate("--format", "json", "--jobs", 2, *mixed, engine="durable")
    assert (durable.exit_code, durable.stdout, durable.stderr) == (python.exit_code, python.stdout, python.stderr)


def crash_on_a_name(report, knowledge):
    """A renderer that kills its worker process, as a crash inside durable-rules would."""
    if report.profile_name == "Crash here":
        faulthandler.disable()  # pytest's would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    return report.profile_name


def test_a_crashing_worker_loses_only_its_profile(tmp_path: Path) -> None:
    paths = generated(tmp_path, 12)
    crash = write(tmp_path / "crash.yaml", "name: Crash here\npartners: [{name: SAPS}]\n")
    inputs = [*paths[:6], crash, *paths[6:]]
    outcomes = list(evaluate_portfolio(inputs, engine="python", as_of=AS_OF, jobs=2, render=crash_on_a_name))
    assert [o.source for o in outcomes] == [str(p) for p in inputs]
    assert outcomes[6].error == f"{crash}: the python engine crashed (its worker process was killed by SIGSEGV)"
    assert all(o.error is None and o.output == o.record.profile_name for i, o in enumerate(outcomes) if i != 6)


def json_or_name(report, knowledge):
    """A renderer giving bytes (a JSON line) for some profiles and text (the name) for the others."""
    return report.profile_name if report.summary["score"] % 2 else report.to_json_line()


def test_chunk_outputs_come_back_through_files_that_are_removed(tmp_path: Path, monkeypatch) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    paths = generated(tmp_path / "p", 40)
    one = list(evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=1, render=json_or_name))
    assert {type(o.output) for o in one} == {str, bytes}
    assert list(evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=2, render=json_or_name)) == one
    assert list(spool.iterdir()) == []
    stopped = evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=2, render=json_or_name)
    assert next(stopped) == one[0]
    assert list(spool.iterdir())  # the folder of the chunk files, while the run goes on
    stopped.close()
    assert list(spool.iterdir()) == []


def refuse_to_open(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_chunk_outputs_come_back_through_the_pipe_when_no_file_can_be_written(tmp_path: Path, monkeypatch) -> None:
    paths = generated(tmp_path, 20)
    one = list(evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=1, render=json_or_name))
    monkeypatch.setattr(portfolio, "_open_slot", refuse_to_open)  # the workers' files (forked: theirs too)
    assert list(evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=2, render=json_or_name)) == one
    monkeypatch.setattr("tempfile.mkdtemp", refuse_to_open)  # no temporary folder at all
    assert list(evaluate_portfolio(paths, engine="python", as_of=AS_OF, jobs=2, render=json_or_name)) == one


def test_a_chunk_file_that_fills_up_leaves_the_rest_of_the_chunk_its_outputs(tmp_path: Path) -> None:
    path = tmp_path / "chunk"

    class FillsUp:
        """A file that takes two writes, then half of one, then none."""

        def __init__(self) -> None:
            self.fh, self.writes = open(path, "wb", buffering=0), 0

        def write(self, data: bytes) -> int:
            self.writes += 1
            if self.writes > 3:
                raise OSError(28, "No space left on device")
            return self.fh.write(data if self.writes < 3 else data[: len(data) // 2])

    outcomes = [portfolio.Outcome("a", output=b'{"a": 1}\n'), portfolio.Outcome("b", error="b: bad"),
                portfolio.Outcome("c", output="text"), portfolio.Outcome("d", output=b"d" * 70_000),
                portfolio.Outcome("e", output=b"e" * 10), portfolio.Outcome("f", output=b"f")]
    file = FillsUp()
    spool = portfolio._Spool(file)
    kept = [spool(outcome) for outcome in outcomes]
    file.fh.close()
    assert [o.output for o in kept] == [None, None, "text", None, b"e" * 10, b"f"]
    assert spool.sizes == [9, -1, -1, 70_000, -1, -1]
    assert portfolio._unspool((kept, spool.sizes), str(path)) == outcomes


def test_json_lines_of_two_jobs_to_a_file_or_a_pipe_are_those_of_one(tmp_path: Path, mixed: list[Path]) -> None:
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(Path(advisor.__file__).parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TMPDIR=str(tmp_path))
    command = [sys.executable, "-m", "advisor", "evaluate", "--engine", "python", "--format", "json", "--as-of", AS_OF,
               *map(str, mixed)]
    one = subprocess.run([*command, "--jobs", "1"], capture_output=True, env=env, check=False)
    assert one.returncode == EXIT_ERROR and one.stdout.count(b"\n") == 30 + len(EXAMPLE_FILES) + 2
    two = subprocess.run([*command, "--jobs", "2"], capture_output=True, env=env, check=False)  # standard output a pipe
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr)
    out = tmp_path / "out" / "lines.jsonl"
    out.parent.mkdir()
    with open(tmp_path / "stdout", "wb") as fh:  # standard output a file
        to_file = subprocess.run([*command, "--jobs", "2"], stdout=fh, stderr=subprocess.PIPE, env=env, check=False)
    to_o = subprocess.run([*command, "--jobs", "2", "-o", str(out)], capture_output=True, env=env, check=False)
    assert (to_file.returncode, to_file.stderr) == (to_o.returncode, to_o.stderr) == (one.returncode, one.stderr)
    assert (tmp_path / "stdout").read_bytes() == out.read_bytes() == one.stdout
    assert list(out.parent.iterdir()) == [out]


# --------------------------------------------------------------------------- text, summary


def test_several_profiles_in_text_give_a_line_each_then_the_summary(mixed: list[Path]) -> None:
    result = evaluate("--jobs", 2, *mixed)
    lines = result.stdout.split("\n\nPortfolio: ")[0].splitlines()
    adv = get_advisor("python")
    report = adv.evaluate(EXAMPLE_FILES[0], as_of=AS_OF)
    assert lines[0].endswith(f" · {mixed[0] / 'p000.yaml'}")
    assert lines[30] == f"{summary_line(report)} · {EXAMPLE_FILES[0]}"
    assert len(lines) == 30 + len(EXAMPLE_FILES) + 2
    assert "\nPortfolio: " in result.stdout


def test_summary_only_prints_what_matters_across_the_portfolio(mixed: list[Path]) -> None:
    result = evaluate("--summary-only", *mixed)
    out = result.stdout
    assert result.exit_code == EXIT_ERROR
    evaluated = 30 + len(EXAMPLE_FILES) + 2
    assert out.startswith(f"Portfolio: {evaluated + 3} profiles (3 could not be evaluated) · ")
    reports = [get_advisor("python").evaluate(p, as_of=AS_OF) for p in sorted((mixed[0]).glob("*.yaml")) + EXAMPLE_FILES]
    with_high = sum(1 for r in reports if r.summary["by_severity"]["high"]) + 2  # both JSON lines have high findings
    assert f" {with_high} with high-severity findings ({with_high / evaluated:.0%})" in " ".join(out.split())
    for heading in ["Most common failure risks (profiles)", "Most common governance gaps (profiles)", "Most at risk",
                    "Coverage per area of the guide (steps in place, all profiles)"]:
        assert f"\n{heading}\n" in out
    for area in load_knowledge().areas:
        assert re.search(rf"^  {re.escape(area.title)} +\d+%  [█░]{{10}}  \d+ of {evaluated} profiles complete$", out, re.M)
    assert "· score" not in out.split("Most at risk")[0]  # no line per profile before the summary
    worst = max(reports, key=lambda r: (r.summary["by_severity"]["high"], -r.summary["score"]))
    assert re.search(rf"^   1\. {re.escape(worst.profile_name)}: {worst.summary['by_severity']['high']} high", out, re.M)


def test_summary_only_as_json_is_one_object(mixed: list[Path]) -> None:
    result = evaluate("--summary-only", "--format", "json", "--jobs", 2, *mixed)
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert (data["profiles"], data["failed"]) == (30 + len(EXAMPLE_FILES) + 2 + 3, 3)
    assert {"with_high", "mean_score", "worst_severity", "most_common", "most_at_risk", "coverage"} <= set(data)
    assert sum(data["worst_severity"].values()) == data["evaluated"]
    assert result.stdout == evaluate("--summary-only", "--format", "json", "--jobs", 1, *mixed).stdout


def test_summary_only_needs_a_text_format() -> None:
    result = evaluate("--summary-only", "--format", "html", HEALTHY)
    assert result.exit_code == EXIT_ERROR and "--summary-only" in result.stderr


def test_no_progress_bar_when_stderr_is_not_a_terminal(mixed: list[Path]) -> None:
    result = evaluate("--format", "json", "--fail-on", "never", mixed[0])
    assert (result.exit_code, result.stderr) == (EXIT_OK, "")


def test_quiet_prints_nothing_for_a_portfolio(mixed: list[Path]) -> None:
    result = evaluate("--quiet", "--jobs", 2, *mixed)
    assert result.stdout == ""
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())


# --------------------------------------------------------------------------- HTML overview


def test_html_overview_links_a_document_per_profile_and_escapes_user_text(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    hostile = '<script>alert("x")</script> & <b>Co</b>'
    write(inputs / "hostile.yaml", f"name: '{hostile}'\npartners:\n  - name: SAPS\n")
    write(inputs / "again" / "hostile.yaml", "name: Second\npartners:\n  - name: SAPS\n")
    write(inputs / "index.yaml", HEALTHY.read_text())
    write(inputs / "zz-broken.yaml", BAD_YAML)
    out = tmp_path / "out"
    out.mkdir()
    result = evaluate("--format", "html", "-o", out, "--jobs", 2, inputs, STRUGGLING)
    assert result.exit_code == EXIT_ERROR
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hostile-2.html", "hostile.html", "index-2.html", "index.html", "struggling-business-forum.html"]
    index = (out / "index.html").read_text()
    links = re.findall(r'<a href="([^"]+)">', index)
    assert {link.removeprefix("./") for link in links} == set(names) - {"index.html"}
    assert "<script>" not in index and "<b>" not in index
    assert str(markupsafe.escape(hostile)) in index
    assert "<svg" in index and "Failure risks across the portfolio" in index
    assert f"Could not be evaluated: {markupsafe.escape(loader_message(inputs / 'zz-broken.yaml'))}" in index
    document = (out / "hostile.html").read_text()
    assert "<script>" not in document
    assert (out / "struggling-business-forum.html").read_text() == advisor.report.document.render(
        get_advisor("python").evaluate(STRUGGLING, as_of=AS_OF), "html", load_knowledge())


def test_html_overview_never_overwrites_an_input(tmp_path: Path) -> None:
    profile = write(tmp_path / "index.html", HEALTHY.read_text())  # a profile named like the overview
    result = evaluate("--format", "html", "-o", tmp_path, profile, STRUGGLING)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: {tmp_path / 'index.html'}: refusing to overwrite the input profile {tmp_path / 'index.html'}\n"
    assert profile.read_text() == HEALTHY.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # refused before any work, nothing left behind


# --------------------------------------------------------------------------- the library


def test_the_summary_counts_what_the_reports_say() -> None:
    adv = get_advisor("python")
    rng = random.Random(11)
    reports = [adv.evaluate(random_profile(rng), as_of=AS_OF) for _ in range(40)] + [
        adv.evaluate(p, as_of=AS_OF) for p in EXAMPLE_FILES]
    summary = PortfolioSummary.for_advisor(adv, top=5, fail_on="medium")
    for report in reports:
        summary.add(report)
    summary.add_error(advisor.ProfileError("bad"))
    assert (summary.profiles, summary.evaluated, summary.failed) == (len(reports) + 1, len(reports), 1)
    assert summary.with_high == sum(1 for r in reports if r.worst("high"))
    assert summary.at_fail_on == sum(1 for r in reports if r.worst("medium"))
    assert summary.mean_score == sum(r.summary["score"] for r in reports) / len(reports)
    fired = {}
    for r in reports:
        for rule in {h.rule for h in r.hits}:
            fired[rule] = fired.get(rule, 0) + 1
    for kind in ("failure_risk", "governance_gap"):
        common = summary.most_common(kind, n=1000)
        assert {c.rule: c.profiles for c in common} == {k: v for k, v in fired.items() if adv.ruleset.rule(k).kind == kind}
        assert [c.profiles for c in common] == sorted((c.profiles for c in common), reverse=True)
    at_risk = summary.most_at_risk()
    ranked = sorted((r for r in reports if r.summary["by_severity"]["high"]),
                    key=lambda r: (-r.summary["by_severity"]["high"], r.summary["score"]))
    assert [r.source for r in at_risk] == [r.source for r in ranked[:5]]
    # The coverage from the hits alone is the advice document's, summed over the profiles.
    kb = load_knowledge()
    per_report = [area_coverage(r, kb) for r in reports]
    for i, total in enumerate(summary.coverage()):
        assert total.in_place == sum(c[i].in_place for c in per_report)
        assert total.total == sum(c[i].total for c in per_report)
        assert total.complete == sum(1 for c in per_report if c[i].in_place == c[i].total)


def test_evaluate_many_streams_and_the_summary_keeps_no_report() -> None:
    adv = get_advisor("python")
    rng = random.Random(5)
    consumed = 0

    def profiles():
        nonlocal consumed
        for _ in range(2000):
            consumed += 1
            yield random_profile(rng)

    summary = PortfolioSummary.for_advisor(adv)
    alive: list[weakref.ref] = []
    for i, report in enumerate(adv.evaluate_many(profiles(), as_of=AS_OF), 1):
        assert consumed == i  # one profile read per report: nothing is read ahead
        summary.add(report)
        alive.append(weakref.ref(report))
        del report
    gc.collect()
    assert summary.evaluated == 2000
    assert sum(1 for ref in alive if ref() is not None) == 0  # no report outlives its turn
    assert len(summary.most_at_risk()) <= summary.top


def test_summarize_from_the_library(mixed: list[Path]) -> None:
    one = portfolio.summarize(mixed, engine="python", as_of=AS_OF)
    two = portfolio.summarize(mixed, engine="python", as_of=AS_OF, jobs=2)
    assert one.to_dict() == two.to_dict()
    assert one.failed == 3 and one.evaluated == 30 + len(EXAMPLE_FILES) + 2


def test_expand_inputs_is_lazy_and_keeps_errors_in_place(tmp_path: Path) -> None:
    items = expand_inputs([HEALTHY, tmp_path, STRUGGLING])
    assert next(items) == Source(str(HEALTHY))
    error = next(items)
    assert isinstance(error, advisor.UsageError) and str(error) == f"{tmp_path}: no profiles (*.yaml, *.yml) in this folder"
    assert list(items) == [Source(str(STRUGGLING))]


def test_a_progress_bar_on_a_terminal_unless_quiet(mixed: list[Path], monkeypatch) -> None:
    import click._termui_impl

    import advisor.cli

    monkeypatch.setattr(advisor.cli, "_isatty", lambda stream: True)
    monkeypatch.setattr(click._termui_impl, "isatty", lambda stream: True)
    shown = evaluate("--format", "json", "--fail-on", "never", "--jobs", 2, mixed[0])
    assert "Evaluating" in shown.stderr and "30/30" in shown.stderr
    assert shown.stdout == evaluate("--format", "json", "--fail-on", "never", mixed[0]).stdout
    assert evaluate("--quiet", "--fail-on", "never", mixed[0]).stderr == ""
    assert "Evaluating" not in evaluate("--format", "json", *EXAMPLE_FILES).stderr  # too few to need one


def test_an_unknown_engine_is_one_usage_error_before_any_worker_starts() -> None:
    for jobs in (1, 2):
        with pytest.raises(advisor.UsageError, match=r"^unknown engine 'drools'; expected one of durable, python$"):
            list(evaluate_portfolio([str(EXAMPLES)], engine="drools", jobs=jobs))


def test_the_portfolio_is_exported_from_advisor_without_being_imported_by_it() -> None:
    import subprocess
    import sys

    code = ("import sys, advisor; loaded = 'advisor.portfolio' in sys.modules; "
            "print(loaded, advisor.summarize is advisor.portfolio.summarize, 'evaluate_portfolio' in advisor.__all__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'summarise'"):
        advisor.summarise  # noqa: B018


def test_a_file_name_never_becomes_a_link_of_another_kind(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write(inputs / "javascript:alert(document.cookie).yaml", "name: Named like a link\npartners:\n  - name: SAPS\n")
    out = tmp_path / "out"
    result = evaluate("--format", "html", "-o", out, inputs, STRUGGLING)
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.stderr
    links = re.findall(r'<a href="([^"]+)">', (out / "index.html").read_text())
    assert links and all(link.startswith("./") and ":" not in link for link in links), links
