"""Attacks on everything around the profiles (issue 13, "Nothing lost, nobody in"): the rules cache, output
files, signals, memory, terminals and library misuse. Each test failed before its fix."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import advisor
from advisor import cache
from advisor.cli import cli
from advisor.errors import did_you_mean
from advisor.profile import reading

from advisor.yamlio import MAX_DOCUMENTS

from conftest import AS_OF, ENGINES, EXAMPLES, ROOT
from test_hostile import IN_PROCESS_SECONDS, MEMORY_LIMIT, PROCESS_SECONDS, run_process

EXAMPLE = EXAMPLES / "khayelitsha-safer-schools.yaml"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

RULE = """rules:
  - id: custom.no-purpose
    kind: governance_gap
    severity: {severity}
    title: No purpose statement
    refs: ["3"]
    when: {{missing: purpose.statement}}
    message: The purpose is not written down.
    advice: Write the purpose down.
"""


# --------------------------------------------------------------------------- 1. the rules cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    cache._noted.clear()  # each test sees the cache's notes afresh
    return folder


@pytest.fixture
def custom_rules(tmp_path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(RULE.format(severity="high"), encoding="utf-8")
    return rules


class _Planted:
    """A pickle that, when read, creates a file: the proof that reading the cache ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("rules-"))


def _plant(folder: Path, marker: Path) -> None:
    """Replace every cache entry with a pickle that runs code (same names: what an attacker computes)."""
    entries = _entries(folder)
    assert entries
    for entry in entries:
        entry.write_bytes(pickle.dumps(_Planted(marker)))


def test_a_planted_pickle_in_a_folder_others_can_write_never_runs(cache_dir, custom_rules, tmp_path) -> None:
    advisor.load_rules([custom_rules])
    cache_dir.chmod(0o777)  # a shared folder: anyone could have put the file there
    marker = tmp_path / "ran"
    _plant(cache_dir, marker)
    rulebook = advisor.load_rules([custom_rules])
    assert not marker.exists()
    assert rulebook.rule("custom.no-purpose").severity == "high"


def test_a_planted_pickle_of_ones_own_is_not_read_unless_authentic(cache_dir, custom_rules, tmp_path) -> None:
    advisor.load_rules([custom_rules])
    marker = tmp_path / "ran"
    _plant(cache_dir, marker)
    assert isinstance(advisor.load_rules([custom_rules]), advisor.Rulebook)
    assert not marker.exists()


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give the folder to another user")
def test_a_cache_folder_of_another_user_is_not_read(cache_dir, custom_rules, tmp_path) -> None:
    advisor.load_rules([custom_rules])
    marker = tmp_path / "ran"
    _plant(cache_dir, marker)
    for path in [cache_dir, *cache_dir.iterdir()]:
        os.chown(path, 65534, 65534)  # as if user "nobody" had made the folder, planted file and all
    advisor.load_rules([custom_rules])
    assert not marker.exists()


def test_the_safety_checks_of_the_cache_folder() -> None:
    uid = os.geteuid()

    def st(mode: int, owner: int = uid) -> os.stat_result:
        return os.stat_result((mode, 0, 0, 1, owner, 0, 0, 0, 0, 0))

    assert cache.folder_problem(st(stat.S_IFDIR | 0o700)) is None
    assert cache.folder_problem(st(stat.S_IFDIR | 0o755)) is None
    assert "write" in cache.folder_problem(st(stat.S_IFDIR | 0o775))
    assert "write" in cache.folder_problem(st(stat.S_IFDIR | 0o1777))
    assert "another user" in cache.folder_problem(st(stat.S_IFDIR | 0o700, uid + 1))
    assert "not a folder" in cache.folder_problem(st(stat.S_IFREG | 0o600))


def _flip(entry: Path, old: bytes, new: bytes) -> None:
    data = entry.read_bytes()
    assert old in data
    entry.write_bytes(data.replace(old, new))


def test_a_flipped_bit_in_the_cache_never_changes_the_advice(cache_dir, custom_rules) -> None:
    advisor.load_rules([custom_rules])
    for entry in _entries(cache_dir):
        _flip(entry, b"Write the purpose down.", b"Write the purpose dowN.")
    rule = advisor.load_rules([custom_rules]).rule("custom.no-purpose")
    assert rule.advice.text == "Write the purpose down."


@pytest.mark.parametrize("damage", [b"\x80\x05\x8e\xff\xff\xff\xff\xff\xff\x00\x00", b"\x80\x05K\x01r\xff\xff\xff\x7f.",
                                    b"F1e999999\n.", b"h\x05.", b"", b"\x80\x05(" * 10],
                         ids=["MemoryError", "huge-memo", "OverflowError", "missing-memo", "empty", "unfinished"])
@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_damaged_cache_is_rebuilt_not_a_crash(cache_dir, custom_rules, damage) -> None:
    advisor.load_rules([custom_rules])
    for entry in _entries(cache_dir):
        entry.write_bytes(damage)
    assert advisor.load_rules([custom_rules]).rule("custom.no-purpose").severity == "high"
    assert advisor.load_rules([custom_rules]).rule("custom.no-purpose").severity == "high"  # and written afresh


def test_an_edit_that_keeps_size_and_mtime_is_seen(cache_dir, custom_rules) -> None:
    path = custom_rules / "custom.yaml"
    before = path.stat()
    assert advisor.load_rules([custom_rules]).rule("custom.no-purpose").severity == "high"
    path.write_text(RULE.format(severity="info"), encoding="utf-8")  # 'high' -> 'info': the same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as tar, rsync -t and cp -p keep it
    assert path.stat().st_size == before.st_size
    assert advisor.load_rules([custom_rules]).rule("custom.no-purpose").severity == "info"


def test_the_cache_deletes_no_file_it_did_not_write(cache_dir, custom_rules) -> None:
    cache_dir.mkdir(mode=0o700)
    others = [cache_dir / f"rules-{'a' * 32}.pickle", cache_dir / f"rules-{'b' * 32}.cache", cache_dir / "notes.txt"]
    for path in others:
        path.write_text("not the cache's")
        os.utime(path, (1_000_000_000, 1_000_000_000))  # years old
    advisor.load_rules([custom_rules])
    assert all(path.read_text() == "not the cache's" for path in others)


def test_the_cache_prunes_its_own_old_entries(cache_dir, custom_rules) -> None:
    advisor.load_rules([custom_rules])
    (old,) = _entries(cache_dir)
    os.utime(old, (1_000_000_000, 1_000_000_000))
    (custom_rules / "custom.yaml").write_text(RULE.format(severity="low"), encoding="utf-8")
    advisor.load_rules([custom_rules])
    assert old not in _entries(cache_dir) and len(_entries(cache_dir)) == 1


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_verbose_says_in_one_line_why_the_cache_was_not_used(cache_dir, custom_rules) -> None:
    args = ["evaluate", "--verbose", "--engine", "python", "--as-of", AS_OF, "--rules", str(custom_rules), str(EXAMPLE)]
    assert CliRunner().invoke(cli, args).exit_code in (0, 1)
    for entry in _entries(cache_dir):
        entry.write_bytes(b"damaged")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    notes = [line for line in result.stderr.splitlines() if "cache" in line]
    assert len(notes) == 1 and notes[0].startswith("note: ") and "rebuilding" in notes[0], result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- 2. -o onto a device, a FIFO or a socket


def _run(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(kwargs.pop("env", {}))
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, timeout=timeout, env=env,
                          **kwargs)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to make a device node")
def test_o_onto_a_device_writes_into_it_and_leaves_it_a_device(tmp_path) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    result = CliRunner().invoke(cli, ["evaluate", "--as-of", AS_OF, str(EXAMPLE), "-o", str(null)])
    assert result.exit_code in (0, 1), result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name != "null"]  # no temporary file left


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_o_onto_a_fifo_writes_into_it(tmp_path) -> None:
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = _run("evaluate", "--engine", "python", "--as-of", AS_OF, str(EXAMPLE), "-o", str(fifo))
    reader.join(30)
    assert result.returncode in (0, 1), result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"Khayelitsha Safer Schools Partnership")


def test_o_onto_a_socket_is_refused_in_one_line(tmp_path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        result = CliRunner().invoke(cli, ["evaluate", "--as-of", AS_OF, str(EXAMPLE), "-o", str(path)])
        assert result.exit_code == 2
        assert result.stderr == f"error: {path}: is a socket; write to a file, a folder or a device\n"
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


# --------------------------------------------------------------------------- 3. memory before refusal


def _refused(path: Path, message: str, *args: str) -> tuple[float, int]:
    """`advisor evaluate PATH` under a 1 GiB memory limit: exit 2, the one error line, within seconds."""
    code, out, err, took, rss = run_process("evaluate", "--engine", "python", *args, path)
    assert code == 2, err[-2000:]
    assert "Traceback" not in err and err.splitlines()[0] == f"error: {path}{message}", err[:500]
    assert took < PROCESS_SECONDS and rss < MEMORY_LIMIT // 4, (took, rss)
    return took, rss


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
def test_a_gibibyte_without_a_newline_is_refused_in_bounded_memory(tmp_path, suffix) -> None:
    path = tmp_path / f"big{suffix}"
    with open(path, "wb") as fh:
        fh.truncate(1 << 30)  # sparse: a gibibyte of NUL bytes that costs no disk
    message = (": file is 1,073,741,824 bytes, over the limit of 4,194,304 bytes for one file; a profile is a few KiB: "
               "split the file or remove what does not belong in it") if suffix == ".yaml" else \
        ":1: line is 1,073,741,824 bytes, over the limit of 4,194,304 bytes"
    _refused(path, message)


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_json_lines_linked_to_dev_zero_are_refused(tmp_path) -> None:
    path = tmp_path / "zero.jsonl"
    path.symlink_to("/dev/zero")
    _refused(path, ": is a device, not a regular file; a file of several profiles is read from a regular file "
                   "(save it to one first)")


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_two_million_documents_in_one_yaml_stream_are_refused_before_any_is_read(tmp_path) -> None:
    path = tmp_path / "dashes.yaml"
    path.write_text("---\n" * 2_000_000)
    _refused(path, f":{MAX_DOCUMENTS + 1}: holds more than {MAX_DOCUMENTS:,} YAML documents ('---'); split it into "
                   "several files")


def test_a_library_read_of_a_million_documents_is_refused_quickly(tmp_path) -> None:
    path = tmp_path / "dashes.yaml"
    path.write_text("---\n" * 1_000_000)  # under 4 MiB: read whole, not split
    start = time.monotonic()
    found = list(advisor.Advisor(engine="python").evaluate_many([path]))
    assert time.monotonic() - start < IN_PROCESS_SECONDS
    assert [str(e) for e in found] == [f"{path}:{MAX_DOCUMENTS + 2}:1: holds more than {MAX_DOCUMENTS:,} YAML documents "
                                       "('---'); split it into several files"]


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_json_lines_with_more_profiles_than_the_limit_are_refused(tmp_path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("{}\n" * (MAX_DOCUMENTS + 1))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {path}:{MAX_DOCUMENTS + 1}: holds more than {MAX_DOCUMENTS:,} profiles (lines); "
                             "split it into several files\n")


# --------------------------------------------------------------------------- 6. hangs and loops; 8. silently skipped


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_fifo_named_like_a_profile_in_a_folder_is_reported_not_read(tmp_path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "a.yaml").write_bytes(EXAMPLE.read_bytes())
    os.mkfifo(folder / "b.yaml")  # nobody ever writes to it
    expected = f"error: {folder / 'b.yaml'}: is a named pipe (FIFO), not a regular file; profiles are read from regular files"
    for command in (["evaluate", "--engine", "python", "--as-of", AS_OF], ["validate"]):
        result = _run(*command, str(folder), timeout=60)
        assert result.returncode == 2
        assert result.stderr.decode().splitlines() == [expected], result.stderr
        assert b"Khayelitsha" in result.stdout or b"ok: " in result.stdout


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_fifo_named_explicitly_without_a_writer_does_not_hang(tmp_path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    result = _run("validate", str(fifo), timeout=60)
    assert result.returncode == 2 and result.stderr.decode().startswith(f"error: {fifo}: the profile is empty")


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_pipe_named_explicitly_is_read_as_a_file(tmp_path) -> None:
    read, write = os.pipe()  # what `advisor evaluate <(command)` hands over
    os.write(write, EXAMPLE.read_bytes())
    os.close(write)
    try:
        result = _run("validate", f"/dev/fd/{read}", pass_fds=(read,), timeout=60)
    finally:
        os.close(read)
    assert result.returncode == 0 and result.stdout == f"ok: /dev/fd/{read}\n".encode(), result.stderr


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_glob_through_a_link_to_a_parent_folder_finds_each_file_once(tmp_path) -> None:
    folder = tmp_path / "d"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "one.yaml").write_bytes(EXAMPLE.read_bytes())
    (folder / "sub" / "up").symlink_to("..")  # a loop: d/sub/up/sub/up/...
    (folder / "sub" / "again").symlink_to(folder)
    result = _run("validate", f"{folder}/**/*.yaml", timeout=PROCESS_SECONDS)  # before: minutes and gigabytes
    assert result.returncode == 0 and result.stdout.decode() == f"ok: {folder}/sub/one.yaml\n"


def test_a_glob_matches_at_any_depth_as_before(tmp_path) -> None:
    for name in ["one.yaml", "a/two.yaml", "a/b/three.yaml", "a/.hidden/four.yaml", "a/b/five.yml", ".six.yaml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(EXAMPLE.read_bytes())
    expected = [str(tmp_path / p) for p in ["a/b/three.yaml", "a/two.yaml", "one.yaml"]]
    assert reading.glob_items(f"{tmp_path}/**/*.yaml") == expected
    assert reading.glob_items(f"{tmp_path}/**/b/*.y*ml") == [str(tmp_path / p) for p in ["a/b/five.yml", "a/b/three.yaml"]]
    assert reading.glob_items(f"{tmp_path}/*/**/t*.yaml") == expected[:2]
    assert reading.glob_items(f"{tmp_path}/**") == []


def test_an_unreadable_sub_folder_is_reported_not_skipped(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "profiles"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.yaml").write_bytes(EXAMPLE.read_bytes())
    (folder / "locked" / "b.yaml").write_bytes(EXAMPLE.read_bytes())
    real = os.scandir

    def scandir(path=".", *args):
        if os.fspath(path) == str(folder / "locked"):  # root reads any folder: refuse it as for another user
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    message = f"error: {folder / 'locked'}: cannot read this folder (permission denied); the profiles in it are not evaluated"
    for pattern in (str(folder), f"{folder}/**/*.yaml"):
        result = CliRunner().invoke(cli, ["evaluate", "--fail-on", "never", "--format", "json", "--as-of", AS_OF, pattern])
        assert result.exit_code == 2 and result.stderr.splitlines() == [message], result.stderr
        assert result.stdout.count("\n") == 1  # a.yaml is still evaluated


# --------------------------------------------------------------------------- 4. signals and broken pipes


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def many_profiles(tmp_path_factory) -> Path:
    """A JSON Lines portfolio that takes a few seconds with two workers."""
    import yaml

    line = json.dumps(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), default=str)
    path = tmp_path_factory.mktemp("portfolio") / "many.jsonl"
    path.write_text((line + "\n") * 3000, encoding="utf-8")
    return path


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_every_worker_removes_temporary_files_and_exits_128_plus_n(tmp_path, many_profiles, signum):
    out = tmp_path / "out" / "report.jsonl"
    out.parent.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "advisor", "evaluate", "--engine", "python", "--format", "json",
                             "--jobs", "2", "--as-of", AS_OF, "-o", str(out), str(many_profiles)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and not (len(workers) >= 2 and list(out.parent.iterdir())):
            workers |= _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2 and list(out.parent.iterdir()), "the run did not get going"
        proc.send_signal(signum)  # to the parent only, as `kill` and `timeout` send it
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, err
    assert b"Traceback" not in err and b"Aborted" not in err, err
    time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the command"
    assert list(out.parent.iterdir()) == [], "a temporary file was left behind"


@pytest.mark.parametrize("command", [["evaluate", "--engine", "python", "--format", "json", "--as-of", AS_OF], ["validate"]],
                         ids=["evaluate", "validate"])
@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_reader_that_goes_away_is_a_quiet_exit_141(many_profiles, command) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "advisor", *command, "--", str(many_profiles)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(60) == 141 and err == b"", err


# --------------------------------------------------------------------------- 5. quadratic work


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
@pytest.mark.parametrize("count", [4000, pytest.param(40_000, marks=pytest.mark.slow)])
def test_thousands_of_partners_naming_unknown_competitors_are_refused_in_seconds(tmp_path, count) -> None:
    path = tmp_path / "competitors.yaml"
    path.write_text("name: Big\npartners:\n" + "".join(f"  - name: Partner number {i}\n    competes_with: [Competitor {i}]\n"
                                                       for i in range(count)), encoding="utf-8")
    code, out, err, took, rss = run_process("validate", path, timeout=PROCESS_SECONDS)  # before: 57 s and over 300 s
    assert code == 2 and err == (f"error: {path}:4:21: partners[0].competes_with[0]: 'Competitor 0' is not a partner name; "
                                 f"use one of the {count} partner names defined (and {count - 1} more problems)\n")
    assert took < PROCESS_SECONDS / 2


def test_did_you_mean_over_many_names_is_quick_and_still_helps() -> None:
    names = [f"Partner number {i}" for i in range(40_000)]
    start = time.monotonic()
    assert did_you_mean("Partner numbr 17", names) == "; did you mean 'Partner number 17'?"
    assert did_you_mean("Xartner number 17", names) == "; did you mean 'Partner number 17'?"
    assert did_you_mean("Competitor 0", names) == ""
    assert time.monotonic() - start < 2.0


# --------------------------------------------------------------------------- 7. one rule folder, one error


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_a_rule_durable_rules_cannot_take_is_refused_once_at_load_on_both_engines(tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    values = ", ".join(f'"Name {i}"' for i in range(5000))
    (rules / "big.yaml").write_text(RULE.replace("custom.no-purpose", "custom.big-in").replace(
        "{{missing: purpose.statement}}", f"{{{{path: name, in: [{values}]}}}}").format(severity="high"), encoding="utf-8")
    portfolio = tmp_path / "portfolio.jsonl"
    portfolio.write_text('{"name": "X", "partners": [{"name": "SAPS"}]}\n' * 200, encoding="utf-8")
    expected = (f"error: {rules / 'big.yaml'}:2:5: rule 'custom.big-in': its condition is too large for the durable engine "
                "(it would need more than 64 durable-rules rules); split it into several rules or shorten its lists")
    for engine in ENGINES:
        result = _run("evaluate", "--engine", engine, "--jobs", "2", "--rules", str(rules), str(portfolio),
                      env={"ADVISOR_NO_CACHE": "1"})
        assert result.returncode == 2
        assert result.stderr.decode().splitlines() == [expected], result.stderr.decode()[:3000]


# --------------------------------------------------------------------------- 11. strict JSON


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_json_is_strict_whatever_the_input_numbers(tmp_path, engine) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text("name: X\npartners:\n  - name: SAPS\nfunding:\n  budget_required: 1.0e-300\n  budget_committed: 1.0e+9\n"
                    "monitoring:\n  kpis:\n    - {name: A, baseline: -1.0e+308, target: -1.0e+308, actual: 1.0e+308}\n"
                    "    - {name: B, baseline: 0, target: 1.0e-320, actual: 1.0e+308}\n"
                    "    - {name: C, baseline: -1.0e+308, target: 1.0e+308, actual: 1.0e+308}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", "--engine", engine, "--format", "json", "--as-of", AS_OF, str(path)])
    assert result.exit_code in (0, 1), result.output
    report = _strict(result.stdout)
    shares = [e["value"] for f in report["findings"] for e in f["evidence"] if e["path"] == "committed_share"]
    assert all(value > 1 for value in shares)
    summary = CliRunner().invoke(cli, ["evaluate", "--engine", engine, "--format", "json", "--summary-only", "--as-of",
                                       AS_OF, str(path)])
    _strict(summary.stdout)


# --------------------------------------------------------------------------- 12. no tracebacks


@pytest.fixture
def unicode_profile(tmp_path) -> Path:
    path = tmp_path / "ŋqaba → ward 12 ✓.yaml"  # a name cp1252 cannot write
    path.write_text("name: Ukuphepha → Ward 12 ✓ 安全\npartners:\n  - name: SAPS → Ward 12\n    sector: police\n"
                    "  - name: Ward 12 CPF ✓\n    sector: community\n", encoding="utf-8")
    return path


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_text_output_to_a_stdout_that_is_not_utf8_is_written_not_a_traceback(unicode_profile) -> None:
    env = {"PYTHONIOENCODING": "cp1252"}
    for command in (["evaluate", "--as-of", AS_OF], ["validate"]):
        result = _run(*command, str(unicode_profile), str(unicode_profile), env=env)
        assert result.returncode in (0, 1), result.stderr.decode("cp1252", "replace")
        assert b"Traceback" not in result.stderr and result.stdout
    single = _run("evaluate", "--as-of", AS_OF, str(unicode_profile), env=env)
    assert single.returncode in (0, 1) and single.stdout.decode("cp1252").startswith("Ukuphepha ? Ward 12 ? ??")


@pytest.mark.parametrize("fmt", [pytest.param("json", marks=pytest.mark.slow), "markdown",
                                 pytest.param("html", marks=pytest.mark.slow)])
@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_data_formats_to_a_stdout_that_is_not_utf8_are_utf8(unicode_profile, fmt) -> None:
    args = ["evaluate", "--engine", "python", "--format", fmt, "--as-of", AS_OF, str(unicode_profile)]
    narrow = _run(*args, env={"PYTHONIOENCODING": "cp1252"})
    wide = _run(*args, env={"PYTHONIOENCODING": "utf-8"})
    assert narrow.returncode in (0, 1), narrow.stderr.decode("cp1252", "replace")
    assert narrow.stdout == wide.stdout and "Ukuphepha → Ward 12 ✓ 安全" in narrow.stdout.decode("utf-8")


@pytest.mark.slow
def test_schema_and_rule_docs_to_a_stdout_that_is_not_utf8_are_utf8() -> None:
    for command in (["schema"], ["rules", "docs"], ["rules", "list"]):
        result = _run(*command, env={"PYTHONIOENCODING": "cp1252"})
        assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode("cp1252", "replace")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_o_dir_under_a_file_is_one_line(tmp_path, fmt) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder")
    for target in (f"{a_file}/", f"{a_file}/reports/"):
        result = CliRunner().invoke(cli, ["evaluate", "--format", fmt, "--as-of", AS_OF, "-o", target, str(EXAMPLE),
                                          str(EXAMPLES / "draft-partners-only.yaml")])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {target}: cannot create the folder: ") and result.stderr.count("\n") == 1
    assert a_file.read_text() == "a file, not a folder"


def test_o_dir_in_a_folder_one_cannot_write_is_one_line(tmp_path, monkeypatch) -> None:
    def makedirs(path, *args, **kwargs):  # root writes anywhere: refuse as the system would refuse another user
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "makedirs", makedirs)
    target = f"{tmp_path}/locked/reports/"
    result = CliRunner().invoke(cli, ["evaluate", "--format", "html", "--as-of", AS_OF, "-o", target, str(EXAMPLE),
                                      str(EXAMPLES / "draft-partners-only.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {target}: cannot create the folder: permission denied\n"


# --------------------------------------------------------------------------- 13. library misuse is an AdvisorError


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


MINIMAL = {"name": "X", "partners": [{"name": "SAPS"}]}


@pytest.mark.parametrize("call,message", [
    (lambda a: a.evaluate({**MINIMAL, "monitoring": {"last_review": "2026-01-01"}}, as_of=datetime(2026, 11, 25, 12)), None),
    (lambda a: a.evaluate(MINIMAL, as_of=20261125), "as-of date 20261125 is not a date"),
    (lambda a: a.evaluate({**MINIMAL, "goals": [{"id": "g1", "priority": 10**5000}]}).to_json(),
     "<dict>: goals[0].priority: must be 9223372036854775807 or less (1 is the highest), got a whole number of 5,001 digits"),
    (lambda a: a.evaluate({**MINIMAL, "funding": {"budget_required": 10**5000}}).to_json(),
     "<dict>: funding.budget_required: "),
    (lambda a: a.evaluate({**MINIMAL, "name": _BadRepr()}), "<dict>: name: expected text, got a _BadRepr"),
    (lambda a: a.evaluate({**MINIMAL, "partners": [{"name": "SAPS", "sector": _BadRepr()}]}), "<dict>: partners[0].sector: "),
    (lambda a: advisor.load_rules(123), "rule folders are paths"),
    (lambda a: advisor.summarize([str(EXAMPLE)], jobs="2"), "jobs must be a whole number"),
], ids=["datetime", "int-date", "huge-priority", "huge-budget", "bad-repr", "bad-repr-enum", "rules-int", "jobs-str"])
def test_library_misuse_is_an_advisor_error(py_advisor, call, message) -> None:
    if message is None:
        assert call(py_advisor).as_of == "2026-11-25"
        return
    with pytest.raises(advisor.AdvisorError) as caught:
        call(py_advisor)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_load_rules_takes_one_folder_as_a_path(tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(RULE.format(severity="high"), encoding="utf-8")
    assert advisor.load_rules(str(rules)).rule("custom.no-purpose")
    assert advisor.load_rules(rules).rule("custom.no-purpose")


def _json_line_error(tmp_path: Path, line: str) -> str:
    path = tmp_path / "p.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    return result.stderr[len(f"error: {path}:"):].rstrip("\n")


def test_a_json_lines_number_of_thousands_of_digits_is_refused_like_yaml_s(tmp_path) -> None:
    assert _json_line_error(tmp_path, '{"name": "X", "partners": [{"name": "A"}], "goals": [{"id": "g", "priority": '
                                      + "9" * 5000 + "}]}") == \
        "1:78: number '99999999999999999999...' is 5,000 characters long, over the limit of 100; put it in quotes if it is text"


def test_duplicate_keys_in_json_lines_are_refused_as_in_yaml(tmp_path) -> None:
    assert _json_line_error(tmp_path, '{"name": "X", "partners": [{"name": "A"}], "name": "Y"}') == \
        "1: duplicate key 'name'; keep one of them"


@pytest.mark.parametrize("written,meaning", [("1:30", "90"), ("0x1F", "31"), ("012", "10"), ("0b101", "5"),
                                             ("1:30.5", "90.5")])
def test_numbers_yaml_reads_in_another_base_say_what_to_write(tmp_path, written, meaning) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"name: X\npartners:\n  - name: A\nfunding:\n  budget_required: {written}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:5:20: funding.budget_required: number '{written}' is read by YAML as "
                                    f"{meaning}; write {meaning}, or put it in quotes if it is text"), result.stderr


# --------------------------------------------------------------------------- 14. bounded workers


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_jobs_is_capped_at_two_per_core_and_says_so(tmp_path, many_profiles, monkeypatch) -> None:
    from advisor import portfolio

    forty = tmp_path / "forty.jsonl"
    forty.write_text("".join(many_profiles.read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    started: list[int] = []
    real = portfolio._Pool.__init__

    def pool(self, jobs, *args):
        started.append(jobs)
        if jobs > 8:  # before the fix: 150 worker processes, about 5.8 GB; stop before they start
            raise RuntimeError(f"{jobs} workers")
        real(self, jobs, *args)

    monkeypatch.setattr(portfolio._Pool, "__init__", pool)
    summary = advisor.summarize([forty], engine="python", as_of=AS_OF, jobs=150)
    assert summary.evaluated == 40 and started == [4]
    result = CliRunner().invoke(cli, ["evaluate", "--engine", "python", "--summary-only", "--jobs", "150", "--as-of", AS_OF,
                                      str(forty)])
    assert result.exit_code in (0, 1), result.output
    assert result.stderr.splitlines()[0] == ("note: --jobs 150 is more than this machine can use; starting at most 4 "
                                             "workers (two per core, 2 cores here)")
    assert started == [4, 4]


# --------------------------------------------------------------------------- 10. no escape sequences on the terminal


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"


@pytest.mark.slow  # a process or a large input each: the slow run (CI) checks it
def test_escape_sequences_in_file_names_and_values_never_reach_the_terminal_raw(tmp_path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    bad = folder / f"x{ESCAPES}.yaml"
    bad.write_text('name: X\npartners:\n  - name: "\\e[2JSAPS"\nlead_partner: "\\e[2JSAP"\n', encoding="utf-8")
    good = folder / f"y{ESCAPES}.yaml"
    good.write_bytes(EXAMPLE.read_bytes())
    for command in (["evaluate", "--format", "json", "--as-of", AS_OF], ["validate"]):
        result = _run(*command, str(folder))
        # The text report and its portfolio lines are the advice documents' work (issue 13, item 10): here, the
        # errors and notes on stderr, and validate's lines.
        out = result.stderr.decode() + (result.stdout.decode() if command == ["validate"] else "")
        assert result.returncode == 2, out
        assert not any(c in out for c in "\x1b\x07\x9b\u202e"), repr(out)
        assert "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202e" in out
    assert "did you mean '\\x1b[2JSAPS'?" in result.stderr.decode()


def test_escape_sequences_in_a_profile_never_reach_the_terminal_or_the_markdown(tmp_path: Path) -> None:
    hostile = "Forum \x1b]0;owned\x07\x1b[2J\u202e"
    path = tmp_path / "esc\x1b[31m.yaml"
    path.write_text(f'name: "{hostile.encode("unicode_escape").decode()}"\npartners:\n  - name: "SAPS \\x1b[5m"\n'
                    '  - name: CPF\n', encoding="utf-8")
    for args in (["--all"], ["--format", "markdown"], []):
        result = CliRunner().invoke(cli, ["evaluate", "--as-of", "2026-11-25", *args, str(path)])
        assert result.exit_code in (0, 1), result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout, args
        assert "\\x1b" in result.stdout
    several = CliRunner().invoke(cli, ["evaluate", "--as-of", "2026-11-25", str(path), str(path)])
    assert "\x1b" not in several.stdout and "\x07" not in several.stdout  # the portfolio's lines too


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_a_document_for_ten_thousand_partners_takes_seconds_not_minutes(tmp_path: Path, fmt: str) -> None:
    # It took 57 s for HTML and about 15 minutes for 20,000: work per partner grew with the number of partners.
    rows = "".join(f"  - name: Partner {i}\n    sector: {'police' if i % 2 else 'community'}\n" for i in range(10_000))
    path = tmp_path / "provincial.yaml"
    path.write_text("name: Provincial forum\nstage: active\npartners:\n" + rows, encoding="utf-8")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "advisor", "evaluate", "--as-of", "2026-11-25", "--engine", "python",
                             "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"), str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    assert time.monotonic() - start < 30
