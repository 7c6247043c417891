"""Instruction counts (valgrind's cachegrind) of advisor's start and of each stage a profile goes through: the same
on every run, where times on a shared machine drift by tens of percent within minutes.

Prints, per engine:
  - the start: `advisor evaluate` on one bundled example (the rules cache warm, the modules byte-compiled) against
    `python -c "import pydantic, yaml, click, jinja2"`, in millions of instructions and as a ratio (issue 16's bar
    for the wall time is 1.3x);
  - per profile (generated YAML files of 1-8 partners, each evaluated `--rounds` times in one process after a
    warm-up pass, as a portfolio meets them): reading and validating the file, deciding the report (facts, engine,
    waivers), explaining the findings, planning the problems, writing the JSON. Each figure is the difference
    between two runs that stop before and after the stage, divided by the profiles evaluated.

Run from the repository root:  python tests/bench_instructions.py [--count 40] [--rounds 2] [--engine python]
[--root FOLDER] (another checkout, e.g. the commit before a change, or an unpacked wheel: the compiled build)
Needs valgrind on the PATH (Debian: apt-get install valgrind). A run takes a few minutes per engine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT))

import yaml  # noqa: E402

from profilegen import random_profile  # noqa: E402

AS_OF = "2026-11-25"
EXAMPLE = ROOT / "advisor" / "examples" / "khayelitsha-safer-schools.yaml"
#: The stages, in the order a profile goes through them: each run stops after one of them.
STAGES = ("load", "decide", "findings", "problems", "json")
LABELS = {"load": "reading and validating the file", "decide": "deciding the report (facts, engine, waivers)",
          "findings": "explaining the findings", "problems": "planning the problems", "json": "writing the JSON"}

#: What a measured process runs: the profiles of `folder`, `rounds` times, up to the stage `upto` ("" loads them
#: and warms the caches only).
CHILD = """
import contextlib, gc, glob, sys
import advisor
from advisor.profile import validation
# profiles validated into plain records, as the command reads them (an earlier checkout: the models)
getattr(validation, "reading_records", contextlib.nullcontext)().__enter__()
adv = advisor.Advisor(engine={engine!r})
day = advisor.as_of_date({as_of!r})
files = sorted(glob.glob({folder!r} + "/*.yaml"))
loaded = [adv.load(f) for f in files]
for l in loaded:
    adv.evaluate(l, as_of=day).to_json()
gc.collect()
gc.freeze()  # as the command does once the rules are loaded
stages = {stages!r}
upto = stages.index({upto!r}) if {upto!r} else -1
for _ in range({rounds}):
    for f, l in zip(files, loaded):
        if upto == 0:
            adv.load(f)
        if upto < 1:
            continue
        r = adv.evaluate(l, as_of=day)
        if upto >= 2:
            r.findings, r.waived, r.later, r.not_applicable
        if upto >= 3:
            r.problems
        if upto >= 4:
            r.to_json()
"""


def instructions(cmd: list[str], env: dict[str, str]) -> int:
    """The instructions a command runs, as cachegrind counts them."""
    out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd],
                         capture_output=True, text=True, env=env, cwd="/", check=False)
    m = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if m is None:
        raise SystemExit(f"cachegrind gave no count for {' '.join(cmd)}:\n{out.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40, help="generated profiles (default 40)")
    parser.add_argument("--rounds", type=int, default=2, help="times each profile is evaluated per run (default 2)")
    parser.add_argument("--engine", action="append", choices=["python", "durable"], help="only these engines")
    parser.add_argument("--root", help="the advisor to measure: another checkout or an unpacked wheel (default: this checkout)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on the PATH (Debian: apt-get install valgrind)")
    root = Path(args.root).resolve() if args.root else ROOT
    import compileall

    compileall.compile_dir(str(root / "advisor"), quiet=1)  # as an install leaves it, and as the libraries are
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    engines = args.engine or ["python", "durable"]
    print(f"advisor at {root}, Python {sys.version.split()[0]}; cachegrind instruction counts")
    libs = instructions([sys.executable, "-c", "import pydantic, yaml, click, jinja2"], env)
    print(f"\nStart: `import pydantic, yaml, click, jinja2` = {libs / 1e6:,.1f}M instructions")
    for engine in engines:
        cmd = [sys.executable, "-m", "advisor", "evaluate", str(EXAMPLE), "--as-of", AS_OF, "--engine", engine]
        # the rules cache, warm: from "/", as measured (from this checkout's folder, `-m advisor` would import this
        # checkout's advisor rather than --root's and warm the wrong cache)
        subprocess.run(cmd, capture_output=True, env=env, cwd="/", check=False)
        took = instructions(cmd, env)
        print(f"  [{engine}] advisor evaluate (one example): {took / 1e6:,.1f}M = {took / libs:.3f}x")
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(1)
        for i in range(args.count):
            text = yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True)
            Path(tmp, f"p{i:03d}.yaml").write_text(text, encoding="utf-8")
        done = args.count * args.rounds
        print(f"\nPer profile, thousands of instructions ({args.count} generated profiles x {args.rounds} rounds):")
        print(f"  {'stage':<46}" + "".join(f"{e:>10}" for e in engines))
        counts: dict[str, list[int]] = {}
        for engine in engines:
            # once unmeasured: a first run may still build the rules cache the measured runs then read
            warm = CHILD.format(engine=engine, as_of=AS_OF, folder=tmp, stages=STAGES, upto="", rounds=0)
            subprocess.run([sys.executable, "-c", warm], capture_output=True, env=env, cwd="/", check=True)
            runs = []
            for upto, rounds in (("", 0), *((s, args.rounds) for s in STAGES)):
                code = CHILD.format(engine=engine, as_of=AS_OF, folder=tmp, stages=STAGES, upto=upto, rounds=rounds)
                runs.append(instructions([sys.executable, "-c", code], env))
            counts[engine] = runs
        for i, stage in enumerate(STAGES, 1):
            # "load" runs only the reading; each later stage runs everything before it but the reading
            before = 0 if stage in ("load", "decide") else i - 1
            row = [(counts[e][i] - counts[e][before]) / done / 1000 for e in engines]
            print(f"  {LABELS[stage]:<46}" + "".join(f"{v:>10,.0f}" for v in row))
        totals = [(counts[e][1] - counts[e][0] + counts[e][-1] - counts[e][0]) / done / 1000 for e in engines]
        print(f"  {'total':<46}" + "".join(f"{v:>10,.0f}" for v in totals))
        for engine, total in zip(engines, totals):
            runs = counts[engine]
            told = (runs[-1] - runs[2]) / done / 1000
            print(f"  [{engine}] explaining, problems and JSON: {told / total:.0%} of the total")


if __name__ == "__main__":
    main()
