"""The JSON report is written from pieces encoded once (tests/test_properties.py tries generated profiles); on
every bundled example, situation and focus profile it is exactly the text json.dumps gives for to_dict()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import AS_OF, EXAMPLES, get_advisor

ROOT = Path(__file__).resolve().parents[1]
PROFILES = [*sorted(EXAMPLES.glob("*.yaml")), *sorted((ROOT / "tests" / "situations").glob("*.yaml")),
            *sorted((ROOT / "tests" / "focus").glob("*.yaml"))]
_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_json_is_what_json_dumps_writes_for_the_report(path: Path) -> None:
    report = get_advisor("python").evaluate(path, as_of=AS_OF)
    expected = json.dumps(report.to_dict(), ensure_ascii=False, default=str).translate(_BREAKS)
    assert report.to_json() == expected
