"""The README's library examples run as written, from the repository root."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def _run(code: str) -> str:
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            # Later blocks build on the first one's `import advisor`.
            exec(compile("import advisor\n" + code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    return out.getvalue()


def test_the_readme_has_its_library_examples() -> None:
    assert any("advisor.evaluate(" in b for b in BLOCKS)
    assert any("evaluate_portfolio" in b for b in BLOCKS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if "evaluate_portfolio" in b], ids=["portfolio"])
def test_the_portfolio_example_prints_the_most_common_failure_risks_of_the_examples(block: str) -> None:
    lines = _run(block).splitlines()
    assert 1 <= len(lines) <= 3
    for line in lines:
        count, rule = line.split()
        assert rule.startswith("risk.") and 1 <= int(count) <= 7  # seven example profiles


def test_the_single_profile_example_prints_findings_with_their_evidence() -> None:
    block = next(b for b in BLOCKS if "advisor.evaluate(" in b)
    # The second half evaluates files the reader has; the first half runs on a bundled example.
    out = _run(block.split("# Compile the rules once")[0])
    assert "risk." in out and "line" in out
