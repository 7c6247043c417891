"""Benchmark: prints where a profile's time goes in the pipeline (per stage, per engine), evaluations per second for
both engines, scaling, memory over 100,000 runs and CLI start-up against importing its libraries.

Run from the repository root:  python tests/benchmark.py  [--quick] [--engine python] [--only stages|rates|memory|startup]
[--root FOLDER] (another checkout, or an unpacked wheel to measure the compiled build: see README, Benchmarks)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path



def _root() -> Path:
    """The advisor to measure: --root FOLDER (read before advisor is imported, since this process imports the
    advisor it measures), else this checkout."""
    for i, arg in enumerate(sys.argv):
        if arg == "--root" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if arg.startswith("--root="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path(__file__).resolve().parents[1]


ROOT = _root()
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT))  # benchmark this checkout, or --root

import yaml  # noqa: E402  (the benchmark writes YAML files; advisor reads them with its own loader)

import advisor  # noqa: E402
from advisor.engine import durable_problem  # noqa: E402
from profilegen import random_profile  # noqa: E402

AS_OF = "2026-11-25"
EXAMPLE = ROOT / "advisor" / "examples" / "khayelitsha-safer-schools.yaml"


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rate(fn, items, repeat: int = 5) -> float:
    """Best-of-repeat throughput of fn over items, in items per second of this process's CPU time.

    CPU time rather than wall time, so that other work on a shared machine does not count.
    """
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - t)
    return len(items) / best


def profiles(n: int, partners: int | None = None, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [random_profile(rng, partners) for _ in range(n)]


def yaml_files(folder: Path, n: int, seed: int) -> list[Path]:
    """n generated profiles written as YAML files in folder (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, p in enumerate(profiles(n, seed=seed)):
        path = folder / f"p{i:05d}.yaml"
        path.write_text(yaml.safe_dump(p, sort_keys=False, allow_unicode=True), encoding="utf-8")
        files.append(path)
    return files


def bench_engine(engine: str, n: int) -> dict:
    adv = advisor.Advisor(engine=engine)
    loaded = [adv.load(p) for p in profiles(n)]
    # The durable backend packs each stage into rulesets of at most 50 rules; the python engine has none.
    out = {"rules": len(adv.ruleset.rules), "stages": len(adv.compiled.stages),
           "rulesets": sum(len(s.chunks) for s in getattr(adv.backend, "_stages", ()))}
    out["parsed"] = rate(lambda p: adv.evaluate(p, as_of=AS_OF), loaded)
    # The same, with every finding's message and evidence written out and the report as JSON.
    out["parsed_json"] = rate(lambda p: adv.evaluate(p, as_of=AS_OF).to_json(), loaded)
    with tempfile.TemporaryDirectory() as tmp:
        files = yaml_files(Path(tmp), n, seed=2)
        out["yaml"] = rate(lambda f: adv.evaluate(f, as_of=AS_OF), files)
        out["load_only"] = rate(lambda f: adv.load(f), files)
    for size in (2, 20, 200):
        batch = [adv.load(p) for p in profiles(max(20, n // (size // 2 + 1)), partners=size, seed=3)]
        out[f"partners_{size}"] = rate(lambda p: adv.evaluate(p, as_of=AS_OF), batch)
    return out


STAGES = ("read file", "YAML to data with line marks", "validation + reference checks", "fact building", "engine",
          "deciding the report", "explanation of findings", "JSON encoding")


def bench_stages(engine: str, passes: list[list[Path]]) -> dict[str, float]:
    """CPU microseconds per profile in each stage of the pipeline `advisor evaluate --format json` runs, over YAML
    files, one profile after another in one process (not a tight loop per stage: every stage sees the caches and
    memory the others leave). Also the floor: reading the same files and loading them with yaml.load(CSafeLoader).
    Each pass reads files of its own, so that every profile is new to the process, as in a portfolio (a profile
    seen before finds its partners' names, messages and questions already written in the explainer's caches: its
    explanation costs about an eighth less).

    The figures are the best of the passes per stage."""
    from advisor.errors import ProfileError
    from advisor.profile import validation
    from advisor.profile.validation import validate
    from advisor.yamlio import load_document, read_text

    adv = advisor.Advisor(engine=engine)
    gc.collect()
    gc.freeze()  # as `advisor evaluate` does once the rules are loaded: collections no longer walk them
    evaluator = adv._evaluator
    known = adv.rulebook.known
    day = advisor.as_of_date(AS_OF)
    clock = time.process_time_ns
    spent = {stage: 0 for stage in STAGES}
    # The engine and fact building are timed from inside decide(): wrap the backend's run and the facts' stage.
    backend_run = adv.backend.run
    builder_base = evaluator.builder.base

    def run(stage, facts):
        t = clock()
        out = list(backend_run(stage, facts))
        spent["engine"] += clock() - t
        return out

    def base(profile, as_of):
        t = clock()
        facts = builder_base(profile, as_of)
        stage = facts.stage

        def timed_stage(derived):
            t = clock()
            out = stage(derived)
            spent["fact building"] += clock() - t
            return out

        facts.stage = timed_stage
        spent["fact building"] += clock() - t
        return facts

    evaluator.backend = type("Timed", (), {"run": staticmethod(run), "name": adv.backend.name})()
    evaluator.builder = type("TimedBuilder", (), {"base": staticmethod(base)})()
    best = {stage: float("inf") for stage in STAGES}
    floor = float("inf")
    # The command validates profiles into plain records, not the library's models (an earlier checkout: models).
    with getattr(validation, "reading_records", contextlib.nullcontext)():
        for files in passes:
            gc.collect()
            for stage in STAGES:
                spent[stage] = 0
            for f in files:
                t0 = clock()
                text = read_text(f, str(f), error=ProfileError)
                t1 = clock()
                doc = load_document(text, str(f), ProfileError)
                t2 = clock()
                loaded = validate(doc.data, str(f), doc, known)
                t3 = clock()
                before = spent["engine"] + spent["fact building"]
                report = adv.report(loaded, day)
                t4 = clock()
                report.findings, report.waived, report.later, report.not_applicable, report.problems  # noqa: B018
                t5 = clock()
                report.to_json()
                t6 = clock()
                spent["read file"] += t1 - t0
                spent["YAML to data with line marks"] += t2 - t1
                spent["validation + reference checks"] += t3 - t2
                spent["deciding the report"] += (t4 - t3) - (spent["engine"] + spent["fact building"] - before)
                spent["explanation of findings"] += t5 - t4
                spent["JSON encoding"] += t6 - t5
            for stage in STAGES:
                best[stage] = min(best[stage], spent[stage] / len(files) / 1000)
            gc.collect()
            t = clock()
            for f in files:
                with open(f, encoding="utf-8") as fh:
                    yaml.load(fh.read(), Loader=yaml.CSafeLoader)
            floor = min(floor, (clock() - t) / len(files) / 1000)
    best["total"] = sum(best[stage] for stage in STAGES)
    best["floor"] = floor
    adv.close()
    gc.unfreeze()
    return best


def bench_memory(engine: str, runs: int) -> tuple[float, float, float]:
    """RSS after a warm-up and after `runs` further evaluations, in one process."""
    adv = advisor.Advisor(engine=engine)
    loaded = [adv.load(p) for p in profiles(200)]
    for p in loaded:
        adv.evaluate(p, as_of=AS_OF)
    gc.collect()
    before = rss_mib()
    t = time.perf_counter()
    for i in range(runs):
        adv.evaluate(loaded[i % len(loaded)], as_of=AS_OF)
    elapsed = time.perf_counter() - t
    gc.collect()
    return before, rss_mib(), runs / elapsed


def wall(cmd: list[str], repeat: int = 11, env: dict | None = None) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", check=False, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _build() -> str:
    """Whether the advisor measured runs compiled modules (`advisor --version`'s build line; an earlier checkout
    has none and is pure Python)."""
    try:
        from advisor.cli import build_words
    except ImportError:
        return "pure Python"
    return build_words(Path(advisor.__file__).parent).split(" (")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts (memory over 10,000 runs)")
    parser.add_argument("--engine", action="append", choices=["durable", "python"], help="only these engines")
    parser.add_argument("--only", action="append", choices=["stages", "rates", "memory", "startup"], help="only these parts")
    parser.add_argument("--root", help="the advisor to measure: another checkout, or an unpacked wheel (README, Benchmarks)")
    args = parser.parse_args()
    parts = set(args.only or ["stages", "rates", "memory", "startup"])
    n = 300 if args.quick else 1000
    runs = 10_000 if args.quick else 100_000
    engines = args.engine or (["durable", "python"] if durable_problem() is None else ["python"])
    print(f"advisor {advisor.__version__} at {ROOT} ({_build()}), Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if durable_problem():
        print(f"durable engine unavailable: {durable_problem()}")
    if "stages" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            passes = [yaml_files(Path(tmp, str(seed)), n, seed=seed) for seed in (4, 5, 6)]
            stages = {engine: bench_stages(engine, passes) for engine in engines}
        print(f"\nIn the pipeline: CPU microseconds per profile ({n:,} generated YAML files of 1-8 partners, "
              "best of 3 passes over files of their own), as `advisor evaluate --format json` spends them")
        print(f"  {'stage':<34}" + "".join(f"{e:>10}" for e in engines))
        for stage in (*STAGES, "total"):
            print(f"  {stage:<34}" + "".join(f"{stages[e][stage]:>10,.0f}" for e in engines))
        for e in engines:
            r = stages[e]
            share = (r["explanation of findings"] + r["JSON encoding"]) / r["total"]
            print(f"  [{e}] explanation + JSON: {share:.0%} of the total; {1e6 / r['total']:,.0f} profiles/s = "
                  f"{r['floor'] / r['total']:.0%} of the floor (reading and yaml.load with CSafeLoader: "
                  f"{r['floor']:,.0f} us, {1e6 / r['floor']:,.0f}/s)")
        if len(engines) == 2:
            print(f"  durable / python, total: {stages['durable']['total'] / stages['python']['total']:.2f}x")
    results = {}
    for engine in engines if "rates" in parts else ():
        r = results[engine] = bench_engine(engine, n)
        print(f"\n[{engine}] {r['rules']} rules in {r['stages']} stages, {r['rulesets']} rulesets")
        print(f"  evaluations/s, profiles already parsed (1-8 partners): {r['parsed']:,.0f}")
        print(f"  ... with every finding explained and the report as JSON: {r['parsed_json']:,.0f}")
        print(f"  evaluations/s, end to end from YAML files:          {r['yaml']:,.0f}  (load and validate alone: {r['load_only']:,.0f}/s)")
        for size in (2, 20, 200):
            v = r[f"partners_{size}"]
            print(f"  {size:>3} partners: {v:,.0f} evaluations/s ({1000 / v:.2f} ms each)")
    if {"durable", "python"} <= results.keys():
        print(f"\npython engine / durable engine (parsed): {results['python']['parsed'] / results['durable']['parsed']:.1f}x")
    for engine in engines if "memory" in parts else ():
        # A fresh process per engine so one engine's memory does not hide the other's.
        code = ("import sys; sys.path.insert(0, %r); import benchmark as b; "
                "before, after, r = b.bench_memory(%r, %d); print(before, after, r)") % (str(Path(__file__).parent), engine, runs)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        before, after, r = map(float, out)
        print(f"[{engine}] RSS over {runs:,} evaluations: {before:.1f} MiB -> {after:.1f} MiB (growth {after - before:+.1f} MiB, {r:,.0f}/s)")
    if "startup" in parts:
        print()
        bench_startup()


def bench_startup(pairs: int = 11) -> None:
    """Wall time of `advisor evaluate` on one example (this checkout, text output) against importing the libraries it
    stands on, `python -c "import pydantic, yaml, click, jinja2"`: the ratio within each pair, median and range.

    advisor's modules are byte-compiled first, as an install (or any first run) leaves them, and as the libraries
    are; where PYTHONDONTWRITEBYTECODE is set and nothing was compiled, every run would compile every module."""
    import compileall

    compileall.compile_dir(str(ROOT / "advisor"), quiet=1)
    libs = [sys.executable, "-c", "import pydantic, yaml, click, jinja2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for engine in ("durable", "python") if durable_problem() is None else ("python",):
        cmd = [sys.executable, "-m", "advisor", "evaluate", str(EXAMPLE), "--as-of", AS_OF, "--engine", engine]
        ratios, evals, bases = [], [], []
        for _ in range(pairs):
            base = wall(libs, 1)
            took = wall(cmd, 1, env)
            bases.append(base)
            evals.append(took)
            ratios.append(took / base)
        print(f"[{engine}] advisor evaluate (one example): median {statistics.median(evals) * 1000:.0f} ms = "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}x, {pairs} pairs) the "
              f"{statistics.median(bases) * 1000:.0f} ms of importing pydantic, yaml, click and jinja2")


if __name__ == "__main__":
    main()
