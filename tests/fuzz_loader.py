"""A long fuzz session for the profile loader (not part of the test suite): mutated YAML in, never a crash out.

Mutates the YAML text (and bytes) of the example profiles and of generated profiles, then
loads each input and, when it loads, evaluates it with the python engine and with durable
(where it imports) and compares the two reports. Anything but a report or an AdvisorError is
a finding: the input is saved under --out with the traceback. Inputs slower than --slow
seconds are saved too. The input under evaluation is kept in OUT/current.yaml, so a crash of
the process itself (a segfault in a C extension) leaves it behind.

    python tests/fuzz_loader.py                       # 200,000 inputs
    python tests/fuzz_loader.py -n 20000 --seed 7 --no-durable
    python tests/fuzz_loader.py --rules -n 5000       # mutated rule files instead of profiles

With --rules, each input is a shipped rule file (or a case of tests/bad_rules) after the same
edits, loaded with the shipped derived facts, compiled, and run on the example profiles with
the python engine: a finding is anything but a RuleError/AdvisorError or a report.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import yaml  # noqa: E402  (the fuzzer writes YAML seeds; advisor reads them with its own loader)

import advisor  # noqa: E402
from advisor.engine import durable_problem  # noqa: E402
from advisor.errors import AdvisorError  # noqa: E402
from advisor.profile.reading import profile_from_text  # noqa: E402
from advisor.yamlio import YamlError, decode  # noqa: E402
from profilegen import random_profile  # noqa: E402

AS_OF = "2026-11-25"

#: Pieces that mean something to YAML, to dates and numbers, or to the rule engines.
TOKENS = [
    ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "&a ", "*a", "!!", "!!python/object:os.system ", "!!binary ",
    "!!str ", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!null ", "!!map ", "!!seq ", "!!set ", "!!omap ",
    "!local ", "<<: ", "<<", "=", "~", "null", "true", "yes", "no", "on", "off", ".inf", "-.inf", ".nan", "1e6",
    "1.0e+309", "-0", "0x1F", "0o17", "0b101", "1_000", "1:30", "1:2:3:4:5:6", "2026-02-30", "2026-13-01",
    "25/12/2026", "2026-02-01 10:00:00", "2026-02-01T10:00:00Z", "9999-12-31", "0001-01-01", "'", '"', "'x'",
    '"\\u0000"', '"\\ud800"', "\\", "|", "|-", ">", ">-", "#", " #", "%YAML 1.1\n---\n", "---\n", "...\n", "?", "? ",
    "@", "`", "\t", "\r\n", "\r", "\n", "  ", "\ufeff", "\u00a0", "\u2028", "\x00", "\x07", "\x85", "é", "€", "🙂",
    "{x: 1}", "[1, 2]", "[]", "{}", "''", "$ne", "$lt", "{{7*7}}", "{name}", "<script>", "%", "99999999999999999999",
    "-1", "0", "1", "0.5", "3.14159", "12345678901234567890.5", "1e-310",
]
#: Valid-looking values to put where another value was (right and wrong types).
VALUES = [
    "police", "community", "polce", "signed", "monthly", "ad_hoc", "collaboration", "formal", "mou", "mixed",
    "true", "false", "yes", "0", "-3", "2.5", "450000", "R450 000", "[]", "[g1]", "[police, faith]", "{}", "~",
    "2026-02-01", "'2026-02-01'", "g1", "g9", "SAPS", "'123'", "123", "long_standing", "quarterly", "high",
]



def crash_site(exc: BaseException, stage: str) -> str:
    """Where an unexpected exception came from, so the same crash is counted once, not per input."""
    tb = traceback.extract_tb(exc.__traceback__)
    return f"{type(exc).__name__} in {stage} at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}"


class Findings:
    """What a fuzz run found: inputs saved to a folder (a few per crash site), crash sites counted."""

    def __init__(self, out: Path):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.seen: dict[str, int] = {}

    def save(self, kind: str, data: str | bytes, detail: str) -> None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        digest = hashlib.sha1(raw).hexdigest()[:12]
        (self.out / f"{kind}-{digest}.yaml").write_bytes(raw)
        (self.out / f"{kind}-{digest}.txt").write_text(detail, encoding="utf-8")

    def crash(self, kind: str, exc: BaseException, stage: str, data: str | bytes) -> None:
        """An unexpected exception (call inside its except block): counted by site, the first three saved."""
        where = crash_site(exc, stage)
        self.seen[where] = self.seen.get(where, 0) + 1
        if self.seen[where] <= 3:
            self.save(kind, data, f"{where}\n{exc}\n\n{traceback.format_exc()}")

    def print_sites(self) -> None:
        for where, n in sorted(self.seen.items(), key=lambda kv: -kv[1]):
            print(f"  {n:>6,} x {where}")

def seeds(rng: random.Random) -> list[str]:
    """The example profiles and a few hundred generated ones, as YAML text."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((HERE.parent / "advisor" / "examples").glob("*.yaml"))]
    for _ in range(300):
        texts.append(yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True))
    return texts


def mutate(rng: random.Random, text: str, pool: list[str]) -> str | bytes:
    """One to four random edits of the text (or of its bytes)."""
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        op = rng.randrange(13)
        n = len(text)
        at = rng.randrange(n + 1) if n else 0
        if op == 0:  # insert a token
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif op == 1 and n:  # delete a span
            text = text[:at] + text[at + rng.randint(1, 20):]
        elif op == 2 and n:  # replace a character
            text = text[:at] + chr(rng.choice((rng.randrange(32, 127), rng.randrange(0, 0x3000)))) + text[at + 1:]
        elif op == 3:  # truncate
            text = text[:at]
        elif op == 4:  # change the indentation of a line
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            stripped = lines[i].lstrip(" ")
            lines[i] = " " * max(0, len(lines[i]) - len(stripped) + rng.choice((-4, -2, -1, 1, 2, 4))) + stripped
            text = "\n".join(lines)
        elif op == 5:  # duplicate a line (a duplicate key, or one more list item)
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif op == 6:  # swap two lines
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == 7:  # replace a value after a colon
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            if ": " in lines[i]:
                lines[i] = lines[i].split(": ", 1)[0] + ": " + rng.choice(VALUES)
            text = "\n".join(lines)
        elif op == 8:  # delete a line (a key and its value)
            lines = text.split("\n")
            del lines[rng.randrange(len(lines))]
            text = "\n".join(lines)
        elif op == 9:  # splice in a piece of another seed
            other = rng.choice(pool)
            a = rng.randrange(len(other) + 1)
            text = text[:at] + other[a:a + rng.randint(1, 200)] + text[at:]
        elif op == 10:  # repeat a span many times (a long value, many items)
            span = text[at:at + rng.randint(1, 40)]
            text = text[:at] + span * rng.choice((2, 10, 100, 1000)) + text[at:]
        elif op == 11:  # Windows line endings, a byte-order mark, tabs
            text = rng.choice((lambda t: t.replace("\n", "\r\n"), lambda t: "\ufeff" + t,
                               lambda t: t.replace("  ", "\t", 1)))(text)
        elif op == 12:  # flip bytes of the UTF-8 encoding
            raw = bytearray(text.encode("utf-8"))
            for _ in range(rng.randint(1, 4)):
                if raw:
                    raw[rng.randrange(len(raw))] = rng.randrange(256)
            return bytes(raw)
    return text


def fuzz_rules(args: argparse.Namespace) -> int:
    """Mutated rule files: load, compile, evaluate the examples; anything but an AdvisorError is a finding."""
    import shutil
    import tempfile

    from advisor.api import shipped_rules_dir
    from advisor.knowledge import load_knowledge

    rng = random.Random(args.seed)
    found = Findings(Path(args.out))
    shipped = shipped_rules_dir()
    derived_files = [p for p in sorted(shipped.rglob("*.yaml")) if "derived" in p.name]
    pool = [p.read_text(encoding="utf-8") for p in sorted(shipped.rglob("*.yaml")) if p not in derived_files]
    pool += [p.read_text(encoding="utf-8") for p in sorted((HERE / "bad_rules").glob("*/rules.yaml"))]
    examples = sorted((HERE.parent / "advisor" / "examples").glob("*.yaml"))
    knowledge = load_knowledge()
    profiles = [advisor.load_profile(p) for p in examples]
    counts = {"inputs": 0, "loaded": 0, "rejected": 0, "unexpected": 0, "slow": 0}
    start = last = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, path in enumerate(derived_files):
            shutil.copy(path, folder / f"derived-{i}.yaml")
        target = folder / "fuzzed.yaml"
        for i in range(args.iterations):
            data = mutate(rng, rng.choice(pool), pool)
            target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
            counts["inputs"] += 1
            t0 = time.monotonic()
            stage = "load"
            try:
                ruleset = advisor.load_rules([folder], shipped=False, knowledge=knowledge)
                counts["loaded"] += 1
                stage = "compile and evaluate"
                engine = advisor.Advisor(ruleset, engine="python")
                for profile in profiles:
                    engine.evaluate(profile, as_of=AS_OF).to_json()
            except AdvisorError:
                counts["rejected"] += 1
            except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
                counts["unexpected"] += 1
                found.crash("rules-crash", exc, stage, data)
            if time.monotonic() - t0 > args.slow:
                counts["slow"] += 1
            now = time.monotonic()
            if now - last > 30 or i + 1 == args.iterations:
                last = now
                print(f"{counts['inputs']:>9,} rule files  {counts['inputs'] / (now - start):5.1f}/s  "
                      + "  ".join(f"{k} {v:,}" for k, v in counts.items() if k != "inputs"), flush=True)
    found.print_sites()
    return 1 if counts["unexpected"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--iterations", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--out", default="/tmp/advisor-fuzz", help="folder for the inputs that found something")
    parser.add_argument("--no-durable", action="store_true", help="evaluate with the python engine only")
    parser.add_argument("--slow", type=float, default=2.0, help="save inputs that take longer than this (seconds)")
    parser.add_argument("--rules", action="store_true", help="fuzz rule files instead of profiles")
    args = parser.parse_args(argv)
    if args.rules:
        return fuzz_rules(args)

    rng = random.Random(args.seed)
    found = Findings(Path(args.out))
    current = found.out / "current.yaml"
    pool = seeds(rng)
    rules = advisor.load_rules()
    rule_ids = rules.ids
    python = advisor.Advisor(rules, engine="python")
    durable = None if args.no_durable or durable_problem() else advisor.Advisor(rules, engine="durable")

    counts = {"inputs": 0, "loaded": 0, "rejected": 0, "evaluated_durable": 0, "unexpected": 0, "disagree": 0, "slow": 0}
    slowest = (0.0, "")
    start = last = time.monotonic()

    for i in range(args.iterations):
        if rng.random() < 0.1:  # a fresh valid profile keeps the engines busy (and compared)
            data = yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True)
        else:
            data = mutate(rng, rng.choice(pool), pool)
        if rng.random() < 0.02:  # now and then keep a mutant as a seed, so edits pile up
            if isinstance(data, str) and len(data) < 20_000:
                pool.append(data)
        counts["inputs"] += 1
        t0 = time.monotonic()
        stage = "load"
        try:
            text = decode(data, "<fuzz>") if isinstance(data, bytes) else data
            loaded = profile_from_text(text, "<fuzz>", rule_ids)
            counts["loaded"] += 1
            stage = "python engine"
            report = python.evaluate(loaded, as_of=AS_OF).to_json()
            if durable is not None:
                stage = "durable engine"
                current.write_text(text, encoding="utf-8", errors="surrogatepass")
                other = durable.evaluate(loaded, as_of=AS_OF).to_json()
                counts["evaluated_durable"] += 1
                if other.replace('"engine": "durable"', '"engine": "python"') != report:
                    counts["disagree"] += 1
                    found.save("disagree", data, "python and durable reports differ\n")
        except (AdvisorError, YamlError):
            counts["rejected"] += 1
        except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
            counts["unexpected"] += 1
            found.crash("crash", exc, stage, data)
        took = time.monotonic() - t0
        if took > slowest[0]:
            slowest = (took, stage)
        if took > args.slow:
            counts["slow"] += 1
            found.save("slow", data, f"{took:.2f} s in {stage}\n")
        now = time.monotonic()
        if now - last > 30 or i + 1 == args.iterations:
            last = now
            rate = counts["inputs"] / (now - start)
            print(f"{counts['inputs']:>9,} inputs  {rate:7.0f}/s  " + "  ".join(f"{k} {v:,}" for k, v in counts.items() if k != "inputs"),
                  flush=True)
    current.unlink(missing_ok=True)
    elapsed = time.monotonic() - start
    print(f"\n{counts['inputs']:,} inputs in {elapsed:.0f} s ({counts['inputs'] / elapsed:.0f}/s); "
          f"slowest input {slowest[0]:.3f} s ({slowest[1]})")
    found.print_sites()
    print(f"saved under {found.out}" if counts["unexpected"] or counts["disagree"] or counts["slow"] else "nothing unexpected")
    return 1 if counts["unexpected"] or counts["disagree"] else 0


if __name__ == "__main__":
    sys.exit(main())
