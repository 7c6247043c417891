"""Benchmark of a portfolio: `advisor evaluate --format json` over a folder of generated profiles, against the
time PyYAML's C loader takes merely to read and load the same files (the floor: `yaml.load(text, CSafeLoader)`,
one process), with one and two jobs.

Prints, per engine: throughput (profiles per second), its ratio to the floor, the CPU of the durable engine
against the python engine's, the speed-up of --jobs 2 over --jobs 1 and the peak memory of the run, next to the
bars of issue 16:
  --jobs 1 throughput >= 50% of the floor (python engine), >= 40% (durable engine); durable CPU <= 1.15x python
  CPU; --jobs 2 >= 1.7x --jobs 1; peak RSS <= 300 MiB.
advisor's own loader (read, parse with line marks, validate) over the same files is printed beside the floor.

Run from the repository root:  python tests/bench_portfolio.py [--count 10000] [--repeat 3] [--engine python]
[--root FOLDER] (another checkout of advisor, e.g. the commit before a change, or an unpacked wheel: the compiled build)
Other work on the machine makes the figures noisy: --repeat N runs N rounds (the floor and every configuration
back to back), takes each ratio within a round and reports the median round.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT))  # benchmark this checkout

import yaml  # noqa: E402  (the benchmark writes YAML files; advisor reads them with its own loader)

from profilegen import random_profile  # noqa: E402

AS_OF = "2026-11-25"
BARS = {"python": 0.50, "durable": 0.40}
DURABLE_CPU_BAR = 1.15
SPEEDUP_BAR = 1.7
RSS_BAR_MIB = 300

try:
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def write_profiles(folder: Path, count: int, seed: int = 1) -> None:
    """`count` generated profiles as YAML files, a hundred to a subfolder (the command recurses into them)."""
    rng = random.Random(seed)
    for i in range(count):
        sub = folder / f"area-{i // 100:03d}"
        sub.mkdir(exist_ok=True)
        text = yaml.dump(random_profile(rng), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        (sub / f"station-{i:05d}.yaml").write_text(text, encoding="utf-8")


FLOOR = """
import os, sys, time
import yaml
paths = sorted(os.path.join(top, f) for top, _, files in os.walk({folder!r}) for f in files if f.endswith(".yaml"))
start, cpu = time.perf_counter(), time.process_time()
for path in paths:
    with open(path, encoding="utf-8") as fh:
        yaml.load(fh.read(), Loader=yaml.CSafeLoader)
print(len(paths), time.perf_counter() - start, time.process_time() - cpu)
"""

LOADER = """
import sys, time
sys.path.insert(0, {root!r})
import advisor
from advisor.profile.reading import folder_profiles
rules = advisor.load_rules()
paths = folder_profiles({folder!r})
start, cpu = time.perf_counter(), time.process_time()
for path in paths:
    advisor.load_profile(path, rules)
print(len(paths), time.perf_counter() - start, time.process_time() - cpu)
"""


def floor(folder: Path, script: str = FLOOR) -> tuple[int, float, float]:
    """Profiles loaded, seconds and CPU seconds taken, one process, no evaluation: by PyYAML's C loader (the floor),
    or with script=LOADER by advisor's own loader (read, parse with line marks, validate)."""
    out = subprocess.run([sys.executable, "-c", script.format(root=str(ROOT), folder=str(folder))],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(folder: Path, engine: str, jobs: int) -> dict:
    """One `advisor evaluate --format json` over the folder, standard output to /dev/null: wall time, and the
    peak RSS of the largest process (/usr/bin/time) and of all its processes together (sampled every 20 ms)."""
    cmd = [sys.executable, "-m", "advisor", "evaluate", "--format", "json", "--engine", engine, "--jobs", str(jobs),
           "--as-of", AS_OF, "--fail-on", "never", str(folder)]
    # /usr/bin/time -f %M: the peak RSS of the largest process it waited for.
    wrapper = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    stderr_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(wrapper + cmd, stdout=subprocess.DEVNULL, stderr=stderr_file, env=env, cwd=str(ROOT))
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, sum(_rss_kib(p) for p in _descendants(proc.pid)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    sampler.join()
    stderr_file.seek(0)
    stderr = stderr_file.read().decode().strip().splitlines()
    peak_one = int(stderr.pop()) if wrapper and stderr else 0
    if proc.returncode != 0 or stderr:  # every profile is valid: any message is a failure
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(stderr[-20:]))
    return {"seconds": elapsed, "cpu": cpu, "load": load, "peak_one_mib": peak_one / 1024, "peak_all_mib": peak_tree / 1024}


def _range(values: list[float], fmt: str) -> str:
    return f"range {fmt.format(min(values))}-{fmt.format(max(values))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="profiles to generate (default 10,000)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every measurement; the median round is kept")
    parser.add_argument("--engine", action="append", choices=["python", "durable"], help="only these engines")
    parser.add_argument("--jobs", type=int, action="append", help="job counts to run (default 1 and 2)")
    parser.add_argument("--root", help="the advisor to measure: another checkout or an unpacked wheel (default: this checkout)")
    args = parser.parse_args()
    global ROOT
    if args.root:
        ROOT = Path(args.root).resolve()
    from advisor.engine import durable_problem

    engines = args.engine or (["python", "durable"] if durable_problem() is None else ["python"])
    jobs_list = sorted(set(args.jobs or [1, 2]))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="advisor-portfolio-") as tmp:
        folder = Path(tmp) / "profiles"
        folder.mkdir()
        t = time.perf_counter()
        write_profiles(folder, args.count)
        size = sum(p.stat().st_size for p in folder.rglob("*.yaml"))
        print(f"{args.count:,} generated profiles written to {folder} ({size / 2**20:.1f} MiB) in {time.perf_counter() - t:.1f} s")
        # The speed of this (shared, virtual) machine drifts by tens of percent over minutes. Each round
        # measures the floor and every configuration back to back, and the ratios are taken within a
        # round, so drift between rounds cancels; the median round is the figure.
        rounds: list[dict] = []
        for i in range(args.repeat):
            n, seconds, cpu = floor(folder)
            found = {"floor": n / seconds, "floor_cpu": n / cpu}
            print(f"\nround {i + 1}: floor (yaml.load with CSafeLoader reads {n:,} files) {seconds:.1f} s"
                  f" = {n / seconds:,.0f} profiles/s ({n / cpu:,.0f} per CPU second)")
            n, seconds, cpu = floor(folder, LOADER)
            print(f"  advisor's own loader (read, parse with line marks, validate): {n / cpu:,.0f} profiles per CPU"
                  f" second = {n / cpu / found['floor_cpu']:.0%} of the floor")
            for engine in engines:
                for jobs in jobs_list:
                    r = found[engine, jobs] = run(folder, engine, jobs)
                    r["rate"] = n / r["seconds"]
                    r["cpu_rate"] = n / r["cpu"]
                    print(f"  [{engine}] --jobs {jobs}: {r['seconds']:.1f} s = {r['rate']:,.0f} profiles/s"
                          f" = {r['rate'] / found['floor']:.0%} of the floor; {r['cpu_rate']:,.0f} per CPU second ="
                          f" {r['cpu_rate'] / found['floor_cpu']:.0%} of the floor's (CPU {r['cpu']:.1f} s, load average"
                          f" {r['load']:.1f} when it started); peak RSS {r['peak_one_mib']:.0f} MiB largest process,"
                          f" {r['peak_all_mib']:.0f} MiB all processes")
            rounds.append(found)
        verdicts = []
        print(f"\nMedian of {len(rounds)} round(s), each ratio taken within its round:")
        low = jobs_list[0]
        print("  (--jobs 1 is compared in CPU time, profiles per CPU second against the floor's, so that other work on a"
              " shared machine does not count; wall time is shown beside it)")
        for engine in engines:
            for jobs in jobs_list:
                walls = [r[engine, jobs]["rate"] / r["floor"] for r in rounds]
                print(f"  [{engine}] --jobs {jobs} / floor, wall time: {statistics.median(walls):.0%} ({_range(walls, '{:.0%}')})")
                if jobs == 1:
                    ratios = [r[engine, jobs]["cpu_rate"] / r["floor_cpu"] for r in rounds]
                    ratio = statistics.median(ratios)
                    print(f"  [{engine}] --jobs {jobs} / floor, CPU time: {ratio:.0%} ({_range(ratios, '{:.0%}')})")
                    verdicts.append((f"{engine}: --jobs {jobs} throughput >= {BARS[engine]:.0%} of the floor",
                                     ratio >= BARS[engine], f"{ratio:.0%} ({_range(ratios, '{:.0%}')})"))
            if 1 in jobs_list and 2 in jobs_list:
                speedups = [r[engine, 2]["rate"] / r[engine, 1]["rate"] for r in rounds]
                speedup = statistics.median(speedups)
                print(f"  [{engine}] --jobs 2 / --jobs 1: {speedup:.2f}x (rounds: {', '.join(f'{x:.2f}x' for x in speedups)})")
                verdicts.append((f"{engine}: --jobs 2 >= {SPEEDUP_BAR}x --jobs 1", speedup >= SPEEDUP_BAR,
                                 f"{speedup:.2f}x ({_range(speedups, '{:.2f}x')})"))
            if engine == "durable" and "python" in engines:
                cpus = [r["durable", low]["cpu"] / r["python", low]["cpu"] for r in rounds]
                cpu = statistics.median(cpus)
                print(f"  durable CPU / python CPU, --jobs {low}: {cpu:.2f}x ({_range(cpus, '{:.2f}x')})")
                verdicts.append((f"durable: CPU <= {DURABLE_CPU_BAR}x the python engine's (--jobs {low})", cpu <= DURABLE_CPU_BAR,
                                 f"{cpu:.2f}x ({_range(cpus, '{:.2f}x')})"))
            peak = max(r[engine, jobs]["peak_all_mib"] for r in rounds for jobs in jobs_list)
            verdicts.append((f"{engine}: peak RSS <= {RSS_BAR_MIB} MiB (all processes, highest of all runs)",
                             peak <= RSS_BAR_MIB, f"{peak:.0f} MiB"))
        print("\nBars:")
        for what, ok, figure in verdicts:
            print(f"  {'PASS' if ok else 'FAIL'}  {what}: {figure}")


if __name__ == "__main__":
    main()
