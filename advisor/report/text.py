"""The plain-text report for a terminal: a pure function of a Report (ANSI colour only when asked for)."""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING, Any

from ..vocabulary import KIND_ORDER, KIND_TITLES
from ..words import written
from .findings import Evidence, Finding, Report

if TYPE_CHECKING:
    from .summary import PortfolioSummary, ProfileRecord

#: The widest a report is wrapped, even on a wide terminal.
MAX_WIDTH = 100
#: The narrowest a report is wrapped, even on a narrow terminal.
MIN_WIDTH = 40
#: At most this many evidence lines per finding; longer values are cut to MAX_VALUE characters.
MAX_EVIDENCE = 8
MAX_VALUE = 80

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "1",
    "dim": "2",
    "high": "1;31",
    "medium": "1;33",
    "low": "1;36",
    "info": "1;34",
    "strength": "1;32",
    "heading": "1;4",
}

#: Label column of a finding: "  MEDIUM  " (the body lines are indented to match).
_LABEL = 6
_INDENT = " " * (2 + _LABEL + 2)
#: Shown for a recommendation the rules did not decide.
_NONE = "—"


def terminal_width() -> int:
    """The terminal's width, capped to MIN_WIDTH..MAX_WIDTH (MAX_WIDTH when not a terminal)."""
    columns = shutil.get_terminal_size((MAX_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def summary_parts(report: Report | ProfileRecord) -> list[str]:
    """The profile's name, counts by severity, strengths, the score (and waived findings, if any).

    Reads only `profile_name` and `summary`, so a portfolio's ProfileRecord gives the same line.
    """
    summary = report.summary
    sev = summary["by_severity"]
    counts = f"{sev['high']} high, {sev['medium']} medium, {sev['low']} low"
    if sev.get("info"):
        counts += f", {sev['info']} info"
    strengths = summary["by_kind"]["strength"]
    parts = [counts, f"{strengths} strength{'' if strengths == 1 else 's'}", f"score {summary['score']}/100"]
    if summary.get("waived"):
        parts.append(f"{summary['waived']} waived")
    return [f"{report.profile_name}: {parts[0]}", *parts[1:]]


def summary_line(report: Report | ProfileRecord) -> str:
    """One line: `Name: 2 high, 3 medium, 1 low · 4 strengths · score 71/100`."""
    return " · ".join(summary_parts(report))


def portfolio_line(record: Report | ProfileRecord) -> str:
    """A profile's line in a portfolio: its summary line, then where it comes from (names repeat, files do not)."""
    return f"{summary_line(record)} · {record.source}"


def format_text(report: Report, knowledge: Any = None, color: bool = False, width: int | None = None) -> str:
    """The report as text for a terminal; `knowledge` (the guide) names the source in the footer.

    Lines are wrapped to `width` (default: the terminal's, at most MAX_WIDTH); colour
    uses ANSI escapes and is only added when `color` is true.
    """
    return _Writer(color, width or terminal_width()).report(report, knowledge)


def format_portfolio(summary: PortfolioSummary, color: bool = False, width: int | None = None) -> str:
    """The portfolio summary as text: counts, the most common failure risks and governance gaps, the
    profiles most at risk and how much of each area of the guide is in place across the portfolio."""
    return _Writer(color, width or terminal_width()).portfolio(summary)


def evidence_text(ev: Evidence, note: bool = True) -> str:
    """`communication.frequency = ad_hoc (line 153)`; notes (such as 'number of items') go in the brackets."""
    extra = [ev.note] if ev.note and note else []
    if ev.line is not None:
        extra.append(f"line {ev.line}")
    tail = f" ({'; '.join(extra)})" if extra else ""
    value = written(ev.value)
    if len(value) > MAX_VALUE:
        value = value[: MAX_VALUE - 1].rstrip() + "…"
    return f"{ev.path} = {value}{tail}"


def evidence_lines(evidence: tuple[Evidence, ...], limit: int = MAX_EVIDENCE) -> list[str]:
    """One line per piece of evidence, each note said once, at most `limit` lines (the JSON report has all)."""
    seen: set[str] = set()
    lines = []
    for ev in evidence:
        lines.append(evidence_text(ev, note=ev.note not in seen))
        if ev.note:
            seen.add(ev.note)
    if len(lines) > limit:
        more = len(lines) - (limit - 1)
        lines[limit - 1:] = [f"… and {more} more (--format json lists them all)"]
    return lines


def _share(count: int, total: int, bare: bool = False) -> str:
    if not total:
        return ""
    pct = f"{count / total * 100:.0f}%"
    return pct if bare else f" ({pct})"


class _Writer:
    def __init__(self, color: bool, width: int):
        self.color = color
        self.width = width
        self.lines: list[str] = []

    def style(self, text: str, name: str) -> str:
        return f"\x1b[{_STYLES[name]}m{text}{_RESET}" if self.color and text else text

    def wrap(self, text: str, first: str, rest: str | None = None) -> None:
        """Wrap text after a first-line prefix; later lines start with rest (spaces as wide as first)."""
        rest = " " * len(first) if rest is None else rest
        wrapped = textwrap.wrap(text, width=self.width, initial_indent=first, subsequent_indent=rest,
                                break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
        self.lines.extend(wrapped)

    def heading(self, text: str) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines.append(self.style(text, "heading"))

    # -- the report ------------------------------------------------------------------
    def report(self, report: Report, knowledge: Any) -> str:
        self.summary(report)
        self.recommendation(report)
        if not report.findings:
            self.heading("Findings")
            self.lines.append("  No findings.")
        for kind in sorted(KIND_ORDER, key=KIND_ORDER.get):
            found = report.by_kind(kind)
            if found:
                self.heading(f"{KIND_TITLES[kind]} ({len(found)})")
                for finding in found:
                    self.finding(finding)
        if report.waived:
            self.heading(f"Waived ({len(report.waived)})")
            for waived in report.waived:
                until = f" (until {waived.until})" if waived.until else ""
                self.finding(waived.finding, waiver=f"{waived.reason}{until}")
        if report.expired_waivers:
            self.heading(f"Expired waivers ({len(report.expired_waivers)})")
            for w in report.expired_waivers:
                self.wrap(f"{w['rule']}: {w['reason']}", "  ")
                self.wrap(f"expired on {w['until']}; the finding applies again", _INDENT)
        self.footer(report, knowledge)
        return "\n".join(self.lines) + "\n"

    # -- a portfolio ------------------------------------------------------------------
    def portfolio(self, summary: PortfolioSummary) -> str:
        n = summary.evaluated
        profiles = summary.profiles
        head = [f"{profiles:,} profile{'' if profiles == 1 else 's'}"]
        if summary.failed:
            head[0] += f" ({summary.failed:,} could not be evaluated)"
        head.append(f"{summary.with_high:,} with high-severity findings{_share(summary.with_high, n)}")
        if summary.fail_on not in ("high", "never"):
            head.append(f"{summary.at_fail_on:,} at or above {summary.fail_on}{_share(summary.at_fail_on, n)}")
        if summary.mean_score is not None:
            head.append(f"mean score {summary.mean_score:.0f}/100")
        start = len(self.lines)
        self.wrap(" · ".join(head), "Portfolio: ", "  ")
        self.lines[start:] = [self.style(line, "bold") for line in self.lines[start:]]
        for kind in ("failure_risk", "governance_gap"):
            common = summary.most_common(kind)
            if common:
                self.heading(f"Most common {KIND_TITLES[kind].lower()} (profiles)")
                digits = len(f"{common[0].profiles:,}")
                for c in common:
                    severities = ", ".join(f"{count:,} {sev}" for sev, count in c.by_severity.items())
                    first = f"  {c.profiles:>{digits},} {_share(c.profiles, n, bare=True):>4}  "
                    self.wrap(f"{c.title} ({c.rule}; {severities})", first)
        at_risk = summary.most_at_risk()
        if at_risk:
            self.heading("Most at risk")
            for i, record in enumerate(at_risk, 1):
                self.wrap(portfolio_line(record), f"  {i:>{len(str(len(at_risk)))}}. ")
        coverage = summary.coverage()
        if n and coverage:
            self.heading("Coverage per area of the guide (steps in place, all profiles)")
            label = max(len(a.title) for a in coverage)
            for a in coverage:
                full = round(a.share * 10)
                bar = "█" * full + "░" * (10 - full)
                self.wrap(f"{a.share * 100:3.0f}%  {bar}  {a.complete:,} of {n:,} profiles complete", f"  {a.title:<{label}}  ")
        return "\n".join(self.lines) + "\n"

    def summary(self, report: Report) -> None:
        """The summary line, wrapped between its parts, never inside one such as "score 71/100"."""
        parts = summary_parts(report)
        name, _, counts = parts[0].rpartition(": ")
        lines = [f"{name}:"]
        for sep, part in [(" ", counts)] + [(" · ", p) for p in parts[1:]]:
            if len(lines[-1]) + len(sep) + len(part) > self.width:
                lines[-1] += sep.rstrip()
                lines.append("  " + part)
            else:
                lines[-1] += sep + part
        self.lines.extend(self.style(line, "bold") for line in lines)

    def recommendation(self, report: Report) -> None:
        rec = report.recommendation
        self.heading("Recommendation")
        level = rec.level
        rows = [
            ("formality", rec.formality or _NONE),
            ("agreement", rec.agreement or _NONE),
            ("level", f"declared {level.declared or _NONE} · evidenced {level.evidenced or _NONE}"
                      f" · recommended {level.recommended or _NONE}"),
            ("stakeholder mix", {"multi": "multi-stakeholder", "single": "single stakeholder group"}.get(
                rec.stakeholder_mix or "", rec.stakeholder_mix or _NONE)),
            ("term", rec.term or f"{_NONE} (no duration given)"),
        ]
        for label, value in rows:
            self.wrap(value, f"  {label:<17}")

    def finding(self, finding: Finding, waiver: str | None = None) -> None:
        name = "strength" if finding.kind == "strength" else finding.severity
        label = ("✓" if finding.kind == "strength" else finding.severity.upper()).ljust(_LABEL)
        refs = f"  [{', '.join(finding.guide_refs)}]" if finding.guide_refs else ""
        first = f"  {self.style(label, name)}  "
        head = textwrap.wrap(f"{finding.title}{refs}", width=self.width - len(_INDENT),
                             break_long_words=False, break_on_hyphens=False)
        self.lines.append(first + self.style(head[0], "bold"))
        self.lines.extend(_INDENT + self.style(h, "bold") for h in head[1:])
        if finding.subject:
            self.wrap(finding.subject, _INDENT + "subject: ")
        self.wrap(finding.message, _INDENT)
        if finding.advice:
            self.wrap(finding.advice, _INDENT + "→ ")
        if finding.evidence:
            prefix = _INDENT + "because: "
            start = len(self.lines)
            for i, line in enumerate(evidence_lines(finding.evidence)):
                self.wrap(line, prefix if i == 0 else " " * len(prefix))
            self.lines[start:] = [self.style(line, "dim") for line in self.lines[start:]]
        if finding.note:
            self.wrap(finding.note, _INDENT + "severity lowered: ")
        if waiver:
            self.wrap(waiver, _INDENT + "waived: ")
        self.lines.append("")

    def footer(self, report: Report, knowledge: Any) -> None:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.lines.append("")
        parts = []
        if report.source:
            parts.append(report.source)
        if report.as_of:
            parts.append(f"as of {report.as_of}")
        if report.rules_version:
            parts.append(f"rules {report.rules_version}")
        guide = getattr(knowledge, "guide", None)
        if guide is not None:
            parts.append(f"guide: {guide.title} ({guide.publisher.split(',')[0]}, {guide.date})")
        start = len(self.lines)
        self.wrap(" · ".join(parts), "", "")
        self.lines[start:] = [self.style(line, "dim") for line in self.lines[start:]]
