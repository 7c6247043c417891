"""Proves that a change left advisor's output byte for byte as it was: runs two checkouts of advisor (this one and
an earlier one) over the same inputs and compares standard output, standard error and exit codes.

The inputs: the shipped examples (JSON, text with --all, Markdown, HTML, on both engines), `--count` generated
profiles (1,000 by default) as one portfolio (JSON Lines, both engines), and a broken copy of a tenth of them
(an unknown key, a wrong type, a duplicate key, a tab, a date written 25/12/2026, ...) whose one-line errors must
name the same file, line, column and field.

Run from the repository root:  python tests/bench_identical.py --before ../advisor-before  [--count 1000]
(`git worktree add ../advisor-before <commit>` makes the earlier checkout). Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT))

import yaml  # noqa: E402  (the script writes YAML files)

from profilegen import random_profile  # noqa: E402

AS_OF = "2026-11-25"
EXAMPLES = ROOT / "advisor" / "examples"

#: Ways to break a profile's text, each giving one located error (a replaced value keeps the old one as a comment).
BREAKS = (
    lambda t: t.replace("partners:\n", "partners:\n- nmae: Typo Partner\n", 1),
    lambda t: t.replace("name:", "sectr: police\nname:", 1),
    lambda t: t + "name: again\n",
    lambda t: t.replace("\n  ", "\n\t", 1),
    lambda t: t.replace("last_review: ", "last_review: 25/12/2026 #", 1).replace("start: ", "start: 25/12/2026 #", 1),
    lambda t: t.replace("budget_required: ", "budget_required: R450 000 #", 1),
    lambda t: t.replace("members: ", "members: 0x1F #", 1).replace("baseline: ", "baseline: 1:30 #", 1),
    lambda t: t + "waivers: [unclosed\n",
    lambda t: t.replace("members: ", "members: many #", 1).replace("priority: ", "priority: 0 #", 1),
    lambda t: t + "waivers: [{rule: governance.no-such-rule, reason: x}]\n",
    lambda t: t + "profile_version: !!python/object:os.system x\n",
    lambda t: t.replace("lead_partner: ", "lead_partner: Nobody At All #", 1),
    lambda t: t + "not_applicable: [{step: '99.9', reason: x}]\n",
    lambda t: t + "profile_version: 2\n",
    lambda t: t.replace("sector: ", "sector: polise #", 1),
)


def write_inputs(folder: Path, count: int) -> tuple[Path, Path]:
    rng = random.Random(7)
    good, bad = folder / "good", folder / "bad"
    for i in range(count):
        text = yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True)
        sub = good / f"area-{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"p{i:05d}.yaml").write_text(text, encoding="utf-8")
        if i % 10 == 0:
            bad.mkdir(exist_ok=True)
            (bad / f"p{i:05d}.yaml").write_text(BREAKS[(i // 10) % len(BREAKS)](text), encoding="utf-8")
    return good, bad


def commands(good: Path, bad: Path) -> list[list[str]]:
    base = ["evaluate", "--as-of", AS_OF, "--fail-on", "never"]
    out = []
    for engine in ("python", "durable"):
        out.append([*base, "--engine", engine, "--format", "json", "--jobs", "2", str(good)])
        out.append([*base, "--engine", engine, "--format", "json", "--jobs", "1", str(bad)])
        for example in sorted(EXAMPLES.glob("*.yaml")):
            for fmt in (["--format", "json"], ["--format", "text", "--all"], ["--format", "markdown"], ["--format", "html"]):
                out.append([*base, "--engine", engine, *fmt, str(example)])
    out.append(["validate", str(bad)])
    return out


def run(root: Path, args: list[str]) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0", "COLUMNS": "100"}
    # -P: the working folder (this checkout, which the relative paths of the inputs name) is not put on sys.path,
    # so PYTHONPATH decides which checkout runs; without it both sides ran this one.
    proc = subprocess.run([sys.executable, "-P", "-m", "advisor", *args], capture_output=True, env=env, cwd=str(ROOT))
    return proc.returncode, proc.stdout, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the earlier checkout of advisor")
    parser.add_argument("--count", type=int, default=1000, help="generated profiles (default 1,000)")
    args = parser.parse_args()
    before = Path(args.before).resolve()
    for root in (before, ROOT):  # each side must run its own checkout's code, or the check cannot fail
        env = {**os.environ, "PYTHONPATH": str(root)}
        where = subprocess.run([sys.executable, "-P", "-c", "import advisor; print(advisor.__file__)"], env=env,
                               cwd=str(ROOT), capture_output=True, text=True, check=True).stdout.strip()
        if not Path(where).resolve().is_relative_to(root):
            raise SystemExit(f"{root} runs advisor from {where}, not its own code")
        print(f"{root}: advisor from {where}")
    differences = 0
    with tempfile.TemporaryDirectory(prefix="advisor-identical-") as tmp:
        good, bad = write_inputs(Path(tmp), args.count)
        cmds = commands(good, bad)
        for cmd in cmds:
            a, b = run(before, cmd), run(ROOT, cmd)
            shown = " ".join(cmd).replace(tmp, "$TMP").replace(str(ROOT), ".")
            if a == b:
                digest = hashlib.sha256(a[1] + a[2]).hexdigest()[:12]
                print(f"same  exit {a[0]}, {len(a[1]):>10,} bytes out, {len(a[2]):>6,} bytes err, sha256 {digest}: {shown}")
            else:
                differences += 1
                print(f"DIFF  exit {a[0]} -> {b[0]}, out {len(a[1]):,} -> {len(b[1]):,} bytes, err {len(a[2]):,} -> "
                      f"{len(b[2]):,} bytes: {shown}")
                for x, y in zip((a[1] + a[2]).splitlines(), (b[1] + b[2]).splitlines()):
                    if x != y:
                        print(f"      before: {x[:300]!r}\n      after:  {y[:300]!r}")
                        break
    print(f"\n{len(cmds)} commands, {differences} with different output")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
