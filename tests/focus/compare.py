"""Side by side: each focus profile (tests/focus/<focus>.yaml) evaluated with its focus and without it.

    PYTHONPATH=. python tests/focus/compare.py [--engine python|durable] [PROFILE.yaml ...]

For every finding whose severity, message or advice the focus changes, prints the rule, the severity
without -> with the focus, and the advice without and with; then the findings only one side has.
The test tests/test_focus.py checks the same comparison.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import advisor

HERE = Path(__file__).parent
AS_OF = "2026-11-25"


def load(path: Path) -> dict:
    from advisor.yamlio import load_file
    return load_file(path).data


def findings(adv: advisor.Advisor, data: dict) -> dict[tuple[str, str | None], advisor.Finding]:
    report = adv.evaluate(data, as_of=AS_OF)
    return {(f.rule, f.subject): f for f in (*report.findings, *report.later)}


def compare(adv: advisor.Advisor, path: Path) -> tuple[list, list, list]:
    """(changed, only with the focus, only without it) for one profile."""
    data = load(path)
    without = dict(data)
    without.pop("focus", None)
    with_focus, plain = findings(adv, data), findings(adv, without)
    changed = [(plain[k], with_focus[k]) for k in with_focus.keys() & plain.keys()
               if (plain[k].severity, plain[k].message, plain[k].advice) !=
               (with_focus[k].severity, with_focus[k].message, with_focus[k].advice)]
    only_with = [with_focus[k] for k in with_focus.keys() - plain.keys()]
    only_without = [plain[k] for k in plain.keys() - with_focus.keys()]
    return sorted(changed, key=lambda p: p[0].rule), only_with, only_without


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="python")
    parser.add_argument("profiles", nargs="*", type=Path)
    args = parser.parse_args(argv)
    adv = advisor.Advisor(engine=args.engine)
    paths = args.profiles or sorted(HERE.glob("*.yaml"))
    wrap = lambda text, indent: textwrap.fill(text, 110, initial_indent=indent, subsequent_indent=indent)  # noqa: E731
    for path in paths:
        data = load(path)
        changed, only_with, only_without = compare(adv, path)
        print(f"=== {path.name}: focus {', '.join(data.get('focus') or [])} ({len(changed)} changed, "
              f"{len(only_with)} only with the focus, {len(only_without)} only without)")
        for before, after in changed:
            subject = f" [{after.subject}]" if after.subject else ""
            print(f"  {after.rule}{subject}: {before.severity} -> {after.severity}")
            if before.message != after.message:
                print(wrap(before.message, "      without: "))
                print(wrap(after.message, "      with:    "))
            if before.advice != after.advice:
                print(wrap(before.advice, "      without: "))
                print(wrap(after.advice, "      with:    "))
            if after.beyond_refs:
                print(f"      beyond the guide: {', '.join(after.beyond_refs)}")
        for f in only_with:
            print(f"  + {f.rule} ({f.severity}) only with the focus: {f.message}")
        for f in only_without:
            print(f"  - {f.rule} ({f.severity}) only without the focus")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
