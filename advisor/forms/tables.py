"""A portfolio's results as CSV for a secretariat's own spreadsheets: a row per profile (counts, readiness, the
problems to act on first) or a row per finding."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from ..errors import AdvisorError
from ..report.advice import build
from ..report.findings import Report
from ..vocabulary import KIND_LABELS, SEVERITY_LABELS, STAGE_LABELS

#: The problems of each profile named in its row.
TOP_PROBLEMS = 3

PROFILE_COLUMNS = ("profile", "source", "stage", "readiness", "readiness_percent", "steps_in_place", "steps_due",
                   "high", "medium", "low", "failure_risks", "governance_gaps", "structure", "questions", "strengths",
                   *(f"problem_{n}" for n in range(1, TOP_PROBLEMS + 1)), "error")
FINDING_COLUMNS = ("profile", "source", "rule", "kind", "severity", "title", "subject", "message", "advice", "guide")


def safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs: text starting with = + - @ (or a tab or return) would be a
    formula in Excel or LibreOffice, so it gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def profile_row(report: Report) -> dict[str, Any]:
    """One profile's row: its readiness, counts by severity and kind, and the first problems to act on."""
    doc = build(report)
    summary = report.summary
    by_kind, by_severity = summary.get("by_kind", {}), summary.get("by_severity", {})
    row: dict[str, Any] = {
        "profile": report.profile_name, "source": report.source,
        "stage": STAGE_LABELS.get(report.stage or "", report.stage or ""),
        "readiness": doc.verdict.word, "readiness_percent": doc.verdict.score,
        "steps_in_place": doc.verdict.in_place, "steps_due": doc.verdict.due,
        "high": by_severity.get("high", 0), "medium": by_severity.get("medium", 0), "low": by_severity.get("low", 0),
        "failure_risks": by_kind.get("failure_risk", 0), "governance_gaps": by_kind.get("governance_gap", 0),
        "structure": by_kind.get("structure", 0), "questions": doc.question_count,
        "strengths": by_kind.get("strength", 0),
    }
    for n, action in enumerate(doc.first[:TOP_PROBLEMS], 1):
        row[f"problem_{n}"] = f"{action.title} ({action.severity})"
    return row


def error_row(error: AdvisorError) -> dict[str, Any]:
    source = str(error.location.source) if error.location is not None else ""
    return {"source": source, "error": str(error)}


def finding_rows(report: Report) -> Iterable[dict[str, Any]]:
    """A row per finding of the report (problems, questions to settle and strengths), in the report's order."""
    for f in report.findings:
        yield {"profile": report.profile_name, "source": report.source, "rule": f.rule,
               "kind": KIND_LABELS.get(f.kind, f.kind), "severity": SEVERITY_LABELS.get(f.severity, f.severity),
               "title": f.title, "subject": f.subject or "", "message": f.message, "advice": f.advice or "",
               "guide": ", ".join(f.guide_refs)}


def to_csv(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV text (a header, then a line per row; commas, quotes and line breaks quoted as CSV does)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe(v) for k, v in row.items()})
    return out.getvalue()
