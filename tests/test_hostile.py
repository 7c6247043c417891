"""Hostile profiles through the command line: exit 2 and one line that names file, line and column and says
what to do; never a traceback, never code run from data, and bounded time and memory."""

from __future__ import annotations

import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, cli
from advisor.engine import durable_problem
from advisor.yamlio import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

from conftest import AS_OF, EXAMPLES, ROOT

BROKEN = Path(__file__).parent / "broken"
ENGINES = ["python"] + (["durable"] if durable_problem() is None else [])
#: Upper bounds that catch a hang or a blow-up (those took minutes) without failing on a busy
#: machine; the typical times (0.5-3.5 s) are in the README and come from the benchmark runs.
IN_PROCESS_SECONDS = 15.0
PROCESS_SECONDS = 30.0
#: The memory a whole advisor process may map (address space, so it also bounds RSS).
MEMORY_LIMIT = 1 << 30

PARTNERS = "".join(f"  - name: Partner {i}\n    sector: {'police' if i % 2 else 'community'}\n" for i in range(5000))
MINIMAL = "name: Ward 12 Safety Forum\npartners:\n  - name: SAPS Ward 12\n    sector: police\n  - name: Ward 12 CPF\n    sector: community\n"


#: Broken for the library (one profile per file) but a portfolio of two profiles for `advisor evaluate`.
LIBRARY_ONLY = {"two-documents.yaml"}


def _expected() -> list[tuple[str, str]]:
    rows = []
    for line in (BROKEN / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, message = line.split("\t", 1)
            if name not in LIBRARY_ONLY:
                rows.append((name, message))
    return rows


def evaluate(*args, engine: str = "python"):
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["evaluate", "--engine", engine, "--as-of", AS_OF, *map(str, args)],
                                catch_exceptions=False)
    return result, time.monotonic() - start


def assert_one_line_error(result, path: Path, located: bool = True) -> str:
    """Exit 2, nothing on stdout, and exactly one line on stderr: `error: FILE[:LINE:COL]: ...`."""
    assert result.exit_code == EXIT_ERROR, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}" + (":" if located else "")), lines[0]
    if located:
        assert lines[0][len(f"error: {path}:"):].split(":", 2)[1].isdigit(), f"no line:column in {lines[0]}"
    return lines[0]


# --------------------------------------------------------------------------- the broken corpus, through the CLI


@pytest.mark.parametrize("name,message", _expected(), ids=[n for n, _ in _expected()])
def test_every_broken_profile_is_one_line_on_stderr_and_exit_2(name: str, message: str) -> None:
    path = BROKEN / name
    result, took = evaluate(path)
    line = assert_one_line_error(result, path, located=re.match(r":\d+:\d+: ", message) is not None)
    assert line == f"error: {path}{message}"
    assert took < IN_PROCESS_SECONDS


def test_every_broken_profile_says_what_to_do() -> None:
    # After '; ' comes the advice ("write ...", "remove ...", "keep one of them", "did you mean ..."),
    # unless the message itself is the rule to follow ("must be 0 or more", "expected one of: ...").
    for name, message in _expected():
        assert "; " in message or "must be" in message or "expected one of" in message, \
            f"{name}: {message} says what is wrong but not what to do"


def test_validate_gives_the_same_one_line_errors() -> None:
    paths = [BROKEN / name for name, _ in _expected()]
    result = CliRunner().invoke(cli, ["validate", *map(str, paths)], catch_exceptions=False)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines() == [f"error: {BROKEN / name}{message}" for name, message in _expected()]


# --------------------------------------------------------------------------- accepted: BOM, CRLF, aliases, many partners


def _report(path: Path, engine: str = "python") -> dict:
    result, took = evaluate("--format", "json", path, engine=engine)
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.stderr
    assert result.stderr == ""
    assert took < IN_PROCESS_SECONDS
    report = json.loads(result.stdout)
    report["profile"].pop("source")
    return report


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf", "crlf-last-line-without-newline"])
def test_windows_line_endings_and_byte_order_mark_give_the_same_report(tmp_path: Path, variant: str) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_bytes((EXAMPLES / "khayelitsha-safer-schools.yaml").read_bytes())
    raw = plain.read_bytes()
    if "crlf" in variant:
        raw = raw.replace(b"\n", b"\r\n")
    if variant.endswith("without-newline"):
        raw = raw.rstrip(b"\r\n")
    if "bom" in variant:
        raw = b"\xef\xbb\xbf" + raw
    other = tmp_path / f"{variant}.yaml"
    other.write_bytes(raw)
    assert _report(other) == _report(plain)


def test_windows_line_endings_keep_line_numbers_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: X\r\npartners:\r\n  - name: A\r\n    sectr: police\r\n")
    line = assert_one_line_error(evaluate(path)[0], path)
    assert line == f"error: {path}:4:5: partners[0].sectr: unknown key 'sectr'; did you mean 'sector'?"


def test_anchors_and_aliases_used_sensibly_work(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "name: Ward 12 Safety Forum\n"
        "values:\n  shared: &shared [respect, ubuntu]\n"
        "partners:\n"
        "  - name: SAPS Ward 12\n    sector: police\n    values: *shared\n"
        "  - name: Ward 12 CPF\n    sector: community\n    values: *shared\n",
        encoding="utf-8",
    )
    plain = tmp_path / "plain.yaml"
    plain.write_text(path.read_text().replace("&shared ", "").replace("*shared", "[respect, ubuntu]"), encoding="utf-8")
    assert _report(path) == _report(plain)


def test_keys_that_yaml_would_read_as_booleans_or_numbers_are_named_as_written(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(MINIMAL + "on: 1\n", encoding="utf-8")
    line = assert_one_line_error(evaluate(path)[0], path)
    assert line.startswith(f"error: {path}:7:1: on: unknown key 'on'; ")


@pytest.mark.slow  # 22 MB of JSON out per engine; tests/test_profile_errors.py evaluates 3,000 partners in-process
@pytest.mark.parametrize("engine", ENGINES)
def test_thousands_of_partners_are_evaluated_not_refused(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("name: Provincial forum\npartners:\n" + PARTNERS, encoding="utf-8")
    code, out, err, took, rss = run_process("evaluate", "--engine", engine, "--format", "json", "--as-of", AS_OF, path)
    assert code in (EXIT_OK, EXIT_FINDINGS), err
    assert json.loads(out)["derived"]["sector_count"] == 2
    assert took < PROCESS_SECONDS and rss < MEMORY_LIMIT


# --------------------------------------------------------------------------- no code from data


def test_no_yaml_tag_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for i, tagged in enumerate([
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
        f"!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
    ]):
        path = tmp_path / f"tag{i}.yaml"
        path.write_text(f"name: {tagged}\npartners:\n  - name: A\n", encoding="utf-8")
        line = assert_one_line_error(evaluate(path)[0], path)
        assert "is not allowed" in line and "remove the tag" in line
    # A %TAG directive cannot smuggle the python tags in under another name either.
    path = tmp_path / "directive.yaml"
    path.write_text(f"%TAG !p! tag:yaml.org,2002:python/\n---\nname: !p!object/apply:os.system ['touch {marker}']\n"
                    "partners:\n  - name: A\n", encoding="utf-8")
    assert "is not allowed" in assert_one_line_error(evaluate(path)[0], path)
    assert not marker.exists()


def test_user_text_is_shown_as_text_in_messages(tmp_path: Path) -> None:
    # Placeholders, braces, markup and engine operators in a partner's name come out verbatim.
    name = "{funding.budget_required} {{7*7}} {0.__class__} <b>$ne</b> %s"
    path = tmp_path / "braces.yaml"
    path.write_text(
        "name: Ward 12 Safety Forum\nfunding:\n  budget_required: 1000\ngoals:\n  - id: g1\npartners:\n"
        f"  - name: {json.dumps(name)}\n    sector: police\n  - name: Ward 12 CPF\n    sector: community\n    objectives: [g1]\n",
        encoding="utf-8",
    )
    for engine in ENGINES:
        report = _report(path, engine)
        messages = [f["message"] for f in report["findings"] if f["subject"] == name and f["kind"] != "question"]
        assert messages and all(name in m for m in messages), messages
        titles = [f["title"] for f in report["findings"] if f["subject"] == name and f["kind"] == "question"]
        assert titles and all(name in t for t in titles), titles
        assert not any("1000 {" in m or "49" in m or "<class" in m for f in report["findings"] for m in (f["message"], f["advice"]))



def test_a_questions_message_names_the_partner_it_asks_about(tmp_path: Path) -> None:
    path = tmp_path / "partner.yaml"
    path.write_text("name: Ward 12 Safety Forum\npartners:\n  - name: Ward 12 CPF\n    sector: community\n"
                    "  - name: SAPS Ward 12\n    sector: police\n", encoding="utf-8")
    report = _report(path, ENGINES[0])
    asked = [f for f in report["findings"] if f["kind"] == "question" and f["subject"] == "Ward 12 CPF"]
    assert asked and all("Ward 12 CPF" in f["message"] for f in asked), [f["message"] for f in asked]


# --------------------------------------------------------------------------- bounded cost, in real processes


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


#: Runs a command as a child of this small process and writes the child's peak RSS to a file. A child of the test
#: process itself would report the test process's peak as its own: Linux keeps the largest RSS a process had
#: before exec (here, pytest's copy at fork), so a test run that grew would fail advisor's memory bounds.
_PEAK = """
import os, signal, sys
peak_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as fh:
    fh.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status))
"""


def run_process(*args, timeout: float = 60) -> tuple[int, str, str, float, int]:
    """`python -m advisor ARGS` under a 1 GiB memory limit: exit code, stdout, stderr, seconds, peak RSS in bytes."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = os.path.join(tmp, "peak")
        proc = subprocess.Popen([sys.executable, "-c", _PEAK, peak_file, sys.executable, "-m", "advisor", *map(str, args)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit_memory,
                                start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
        streams: dict[str, bytes] = {}
        readers = [threading.Thread(target=lambda n=n, f=f: streams.__setitem__(n, f.read()))
                   for n, f in (("out", proc.stdout), ("err", proc.stderr))]
        for reader in readers:
            reader.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        _, status, _ = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        for reader in readers:
            reader.join()
        try:
            with open(peak_file) as fh:
                peak = int(fh.read())  # advisor's own peak RSS, in KiB
        except (OSError, ValueError):
            peak = 0
    took = time.monotonic() - start
    if took >= timeout:
        pytest.fail(f"advisor {' '.join(map(str, args))} ran for more than {timeout} s")
    return proc.returncode, streams["out"].decode(), streams["err"].decode(), took, peak * 1024


def _random_text() -> str:
    rng = random.Random(2020)
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(MAX_FILE_BYTES - 10))


_FILLER = "# " + "x" * 97 + "\n"
_LAUGHS = "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefghi", "bcdefghij"))

#: Files at or beyond every limit: each one's text (made when its test runs) and a pattern for its message (after
#: `error: FILE`). The everyday run refuses one file of each kind of limit (size, depth, aliases); the others are slow.
HOSTILE: dict[str, tuple[Callable[[], str | bytes], str]] = {
    "huge": (lambda: MINIMAL + _FILLER * (MAX_FILE_BYTES // len(_FILLER) + 1),
             rf": file is [\d,]+ bytes, over the limit of {MAX_FILE_BYTES:,} bytes for one file; "),
    # Where the error is found depends on libyaml's read-ahead (0.2.6 stops at its own limit).
    "deep-brackets": (lambda: "name: X\npartners: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n",
                      rf":2:\d+: nested more than {MAX_DEPTH} levels deep; "),
    "deep-block": (lambda: "name: X\npartners:\n" + "".join(" " * (2 * i) + "-\n" for i in range(1000)),
                   rf":{MAX_DEPTH + 2}:{2 * MAX_DEPTH - 1}: nested more than {MAX_DEPTH} levels deep; "),
    "deep-mappings": (lambda: "name: X\npartners:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1000)),
                      rf":\d+:\d+: nested more than {MAX_DEPTH} levels deep; "),
    "many-values": (lambda: "name: X\npartners: [" + "a," * (MAX_FILE_BYTES // 2 - 20) + "a]\n",
                    rf":2:\d+: the document holds more than {MAX_NODES:,} values .*; remove repeated aliases"),
    "alias-bomb": (lambda: "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + _LAUGHS + "name: X\npartners: *j\n",
                   rf":\d+:\d+: the document holds more than {MAX_NODES:,} values"),
    "runaway-number": (lambda: "name: X\npartners:\n  - name: A\nfunding:\n  budget_required: " + ":".join(["59"] * 1_000_000) + "\n",
                       r":5:20: funding.budget_required: number '59:59.* put it in quotes if it is text"),
    "random-text": (_random_text, r"(:\d+:\d+)?: "),
    "random-bytes": (lambda: random.Random(2020).randbytes(MAX_FILE_BYTES - 10),
                     r":\d+:\d+: not UTF-8 text .*; save the file as UTF-8"),
    "control-characters": (lambda: "name: X\npartners:\n  - name: A\x00\n" + "\x01" * (MAX_FILE_BYTES - 100),
                           r":3:12: invalid YAML: control character U\+0000 is not allowed; remove it"),
    "long-lines": (lambda: "name: " + "x" * (MAX_FILE_BYTES - 100) + "\npartners:\n  - {name: A, sectr: police}\n",
                   r":3:15: partners\[0\].sectr: unknown key 'sectr'; did you mean 'sector'\?"),
    "many-keys": (lambda: "name: X\npartners:\n  - name: A\n" + "".join(f"k{i}: {i}\n" for i in range(100_000)),
                  r":4:1: k0: unknown key 'k0'; "),
}
EVERYDAY = {"huge", "deep-brackets", "alias-bomb"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in EVERYDAY else pytest.mark.slow) for n in HOSTILE])
def test_hostile_files_are_refused_within_seconds_and_well_under_a_gibibyte(tmp_path: Path, name: str) -> None:
    text, pattern = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    data = text()
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    code, out, err, took, rss = run_process("evaluate", "--engine", "python", path)
    assert code == EXIT_ERROR, (name, code, err[-2000:])
    assert out == "" and "Traceback" not in err, name
    assert err.count("\n") == 1 and err.startswith(f"error: {path}"), (name, err[:300])
    assert re.match(pattern, err[len(f"error: {path}"):]), (name, err[:300])
    assert took < PROCESS_SECONDS, (name, took)
    assert rss < MEMORY_LIMIT // 2, (name, rss)


@pytest.mark.parametrize("engine", [pytest.param(e, marks=() if e == "python" else pytest.mark.slow) for e in ENGINES])
def test_a_long_but_valid_profile_near_the_limits_is_evaluated(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "long-name.yaml"
    path.write_text("name: " + "Ward 12 " * ((MAX_FILE_BYTES - 200) // 8) + "\n" + MINIMAL.split("\n", 1)[1], encoding="utf-8")
    code, out, err, took, rss = run_process("evaluate", "--engine", engine, "--format", "json", "--as-of", AS_OF, path)
    assert code in (EXIT_OK, EXIT_FINDINGS), err[-2000:]
    assert took < PROCESS_SECONDS and rss < MEMORY_LIMIT, (engine, took, rss)
