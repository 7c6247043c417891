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
    assert report.to_json_line() == (expected + "\n").encode("utf-8")


def test_a_json_line_escapes_line_breaks_and_encodes_each_piece_as_the_whole_text() -> None:
    """to_json_line() encodes piece by piece: a partner named with a line separator, a NEL and letters beyond
    ASCII (in findings, problems and evidence alike) is written exactly as to_json() of the whole, in UTF-8."""
    import advisor

    odd = "Ukhozi\u2028Trust é\x85 “quoted”"
    data = {"name": "Ward 9 forum \u2029", "partners": [{"name": odd, "sector": "civil_society"},
                                                      {"name": "Ward CPF", "sector": "police"}]}
    report = get_advisor("python").evaluate(advisor.load_profile(data), as_of=AS_OF)
    line = report.to_json_line()
    assert line == (report.to_json() + "\n").encode("utf-8")
    assert line.count(b"\n") == 1 and "\u2028".encode() not in line and "\x85".encode() not in line
    assert json.loads(line)["profile"]["name"] == data["name"]
    assert any(odd in json.dumps(f, ensure_ascii=False) for f in json.loads(line)["findings"])


@pytest.mark.parametrize("value", [
    {"a": [1, 2.5, None, True, "line\u2028break é"], "b": {"c": []}},
    [1, {"d": "e"}, [], 1e-05, 10**20],
    {"when": __import__("datetime").date(2026, 2, 1)},  # written as str() is, as the report's default
    "text", 0.1, None, (1, 2),
])
def test_the_encoder_made_once_writes_what_json_dumps_writes(value) -> None:
    from advisor.report.findings import _encode

    assert _encode(value) == json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)


@pytest.mark.parametrize("value", [{"x": float("inf")}, [float("nan")], float("-inf")])
def test_a_number_json_cannot_hold_is_refused_as_json_dumps_refuses_it(value) -> None:
    from advisor.report.findings import _encode

    with pytest.raises(ValueError):
        json.dumps(value, allow_nan=False)
    with pytest.raises(ValueError):
        _encode(value)


def test_the_summary_is_a_new_dict_each_time() -> None:
    report = get_advisor("python").evaluate(sorted(EXAMPLES.glob("*.yaml"))[0], as_of=AS_OF)
    first = report.summary
    first["by_kind"].clear()
    first["score"] = -1
    assert report.summary != first and report.summary["score"] >= 0
    assert json.loads(report.to_json())["summary"] == report.summary


def test_findings_and_evidence_are_records_compared_as_before() -> None:
    """Finding and Evidence are NamedTuples (made in one call), compared as the frozen dataclasses were: a row's
    place and a finding's `adapted` are left out of equality and hash, and neither equals a plain tuple."""
    from advisor.report.findings import Evidence, Finding, Place

    placed = Evidence("partners[0].values", ["x"], 7, None, Place(("values",), ("partners",), 0, "SAPS"))
    bare = Evidence(path="partners[0].values", value=["x"], line=7)
    assert placed == bare and not placed != bare and placed.where.item == "SAPS" and bare.where.index == 0
    assert placed != tuple(placed) and not placed == tuple(placed)
    assert Evidence("a", 1) != Evidence("a", 2) and hash(Evidence("a", 1)) == hash(Evidence("a", 1, None, None, Place(("a",))))
    assert repr(bare) == "Evidence(path='partners[0].values', value=['x'], line=7, note=None)"
    adapted = Finding("r", "failure_risk", "high", "T", "m", "a", ("B.6",), (Evidence("a", 1),), adapted=True)
    plain = Finding("r", "failure_risk", "high", "T", "m", "a", ("B.6",), (Evidence("a", 1),))
    assert adapted == plain and hash(adapted) == hash(plain) and adapted != tuple(adapted)
    assert adapted != plain._replace(item_index=2) and plain.item_index == -1 and plain.evidence[0].line is None
    assert adapted.to_dict() == plain.to_dict() and plain.to_dict()["evidence"] == [{"path": "a", "value": 1, "line": None}]


def test_findings_explained_and_dropped_leave_no_stale_json_behind() -> None:
    """The JSON explain writes is kept by the id of what it describes: findings made through report.explain and
    dropped (their memory then free for other objects), and a copy of the report sharing that JSON, still give
    exactly the text json.dumps writes."""
    import dataclasses

    path = EXAMPLES / "struggling-business-forum.yaml"
    report = get_advisor("python").evaluate(path, as_of=AS_OF)
    for _ in range(50):
        for hit in report.hits:
            report.explain(hit)  # made and dropped at once
    copy = dataclasses.replace(report)  # shares `explain` and its JSON; explains its findings anew
    del report
    expected = json.dumps(copy.to_dict(), ensure_ascii=False, default=str).translate(_BREAKS)
    assert copy.to_json() == expected
    assert len(copy.problems) > 1 and any(len(p.findings) > 1 for p in copy.problems)
