"""The plain-text report for a terminal: a pure function of a Report (ANSI colour only when asked for)."""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING, Any

from ..errors import printable
from ..vocabulary import KIND_TITLES
from ..words import counted, day, listed
from .advice import Action, AdviceDocument, EvidenceLine, Listed, build
from .findings import Report

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

#: Shown for a recommendation the rules did not decide.
_NONE = "—"


def terminal_width() -> int:
    """The terminal's width, capped to MIN_WIDTH..MAX_WIDTH (MAX_WIDTH when not a terminal)."""
    columns = shutil.get_terminal_size((MAX_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def summary_parts(report: Report | ProfileRecord) -> list[str]:
    """The profile's name, counts by severity, strengths, readiness (and waived findings, if any).

    Reads only `profile_name` and `summary`, so a portfolio's ProfileRecord gives the same line.
    """
    summary = report.summary
    sev = summary["by_severity"]
    counts = f"{sev['high']} high, {sev['medium']} medium, {sev['low']} low"
    if sev.get("info"):
        counts += f", {sev['info']} info"
    strengths = summary["by_kind"]["strength"]
    parts = [counts, f"{strengths} strength{'' if strengths == 1 else 's'}", f"{summary['score']}% ready"]
    if summary.get("waived"):
        parts.append(f"{summary['waived']} waived")
    return [f"{report.profile_name}: {parts[0]}", *parts[1:]]


def summary_line(report: Report | ProfileRecord) -> str:
    """One line: `Name: 2 high, 3 medium, 1 low · 4 strengths · 71% ready` (readiness: steps due at its stage in place)."""
    return " · ".join(summary_parts(report))


def portfolio_line(record: Report | ProfileRecord) -> str:
    """A profile's line in a portfolio: its summary line, then where it comes from (names repeat, files do not)."""
    return printable(f"{summary_line(record)} · {record.source}")


def format_text(report: Report, knowledge: Any = None, color: bool = False, width: int | None = None,
                everything: bool = False, brief: bool = False) -> str:
    """The report as text for a terminal: the committee brief (how ready the partnership is, the three to five
    problems to act on first, the questions to settle, what is going well), then one line saying what else there is;
    with `everything`, every problem with its evidence, every question, the structure, later, waivers.

    `knowledge` (the guide) names the source in the footer. Lines are wrapped to `width` (default: the
    terminal's, at most MAX_WIDTH); colour uses ANSI escapes and is only added when `color` is true. With
    `brief`, the brief alone (without the line on what else there is).
    """
    return _Writer(color, width or terminal_width()).report(report, knowledge, everything, brief)


def format_portfolio(summary: PortfolioSummary, color: bool = False, width: int | None = None) -> str:
    """The portfolio summary as text: counts, the most common failure risks and governance gaps, the
    profiles most at risk and how much of each area of the guide is in place across the portfolio."""
    return _Writer(color, width or terminal_width()).portfolio(summary)


def evidence_lines(evidence: tuple[EvidenceLine, ...], limit: int = MAX_EVIDENCE) -> list[str]:
    """Evidence in words, a line each: `Shared values: none (line 17)`; at most `limit` lines (the JSON report has all)."""
    lines = []
    for ev in evidence:
        value = ev.value if len(ev.value) <= MAX_VALUE else ev.value[: MAX_VALUE - 1].rstrip() + "…"
        extra = [ev.note] if ev.note else []
        if ev.line is not None:
            extra.append(f"line {ev.line}")
        text = f"{ev.label}: {value}" if value else ev.label
        lines.append(text + (f" ({'; '.join(extra)})" if extra else ""))
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

    # Every text a profile can put on the terminal passes through style() or wrap(), which write its control
    # characters as escapes: the only escape sequences that reach the terminal are the colours added here.
    def style(self, text: str, name: str) -> str:
        text = printable(text)
        return f"\x1b[{_STYLES[name]}m{text}{_RESET}" if self.color and text else text

    def wrap(self, text: str, first: str, rest: str | None = None) -> None:
        """Wrap text after a first-line prefix; later lines start with rest (spaces as wide as first)."""
        text = printable(text)
        rest = " " * len(first) if rest is None else rest
        wrapped = textwrap.wrap(text, width=self.width, initial_indent=first, subsequent_indent=rest,
                                break_long_words=False, break_on_hyphens=False) or [first.rstrip()]
        self.lines.extend(wrapped)

    def heading(self, text: str) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines.append(self.style(text, "heading"))

    # -- the report ------------------------------------------------------------------
    def report(self, report: Report, knowledge: Any, everything: bool, brief_only: bool = False) -> str:
        doc = build(report, knowledge)
        self.verdict(doc)
        if everything:
            self.everything(doc)
        else:
            self.brief(doc, brief_only)
        self.footer(report, knowledge)
        return "\n".join(self.lines) + "\n"

    def verdict(self, doc: AdviceDocument) -> None:
        v = doc.verdict
        self.lines.append(self.style(doc.report.profile_name, "bold"))
        start = len(self.lines)
        self.wrap(f"{v.word}. {v.sentence}", "")
        self.lines[start] = self.lines[start].replace(f"{v.word}.", self.style(f"{v.word}.", "bold"), 1)
        start = len(self.lines)
        self.wrap(v.explanation, "  ")
        self.lines[start:] = [self.style(line, "dim") for line in self.lines[start:]]

    def brief(self, doc: AdviceDocument, brief_only: bool = False) -> None:
        """The problems to act on first, the questions to settle, what is going well; one line for the rest."""
        if doc.first:
            self.heading("The one thing to act on" if len(doc.first) == 1 else "Act on these first")
            for a in doc.first:
                self.problem(a, "why first", digits=len(str(len(doc.first))))
        elif not doc.question_count:
            self.heading("Nothing to act on")
            self.wrap("Nothing needs doing before the next review: keep up what is going well and review the "
                      "partnership as planned.", "  ")
        if doc.brief_questions:
            self.questions(doc.brief_questions, doc.question_count)
            if doc.more_questions:
                self.lines.append(f"  … and {counted(doc.more_questions, 'more question')}")
        if doc.strengths:
            self.heading("Going well")
            names = [s.title for s in doc.brief_strengths]
            more = len(doc.strengths) - len(names)
            self.wrap(listed(names + ([f"{more} more"] if more else []), "and") + ".", "  ")
        if brief_only:
            return
        rest = []
        if doc.more_actions:
            rest.append(counted(doc.more_actions, "more problem"))
        if doc.more_questions:
            rest.append(counted(doc.more_questions, "more question"))
        if doc.later:
            rest.append(f"{len(doc.later)} for later")
        if doc.not_applicable:
            rest.append(f"{len(doc.not_applicable)} that do not apply")
        if doc.waived:
            rest.append(f"{len(doc.waived)} waived")
        if not rest:
            rest.append("the recommended structure and the evidence")
        if self.lines[-1] != "":
            self.lines.append("")
        start = len(self.lines)
        self.wrap(f"… {', '.join(rest)}: --all shows everything", "")
        self.lines[start:] = [self.style(line, "bold") for line in self.lines[start:]]

    def everything(self, doc: AdviceDocument) -> None:
        """Every problem with its evidence, every question, the strengths, the structure, later, waivers."""
        if doc.actions:
            self.heading(f"Problems, the most pressing first ({len(doc.actions)})")
            digits = len(str(len(doc.actions)))
            for a in doc.actions:
                self.problem(a, "why first" if a in doc.first else "why here", evidence=True, digits=digits)
        if doc.questions:
            self.questions(doc.questions, doc.question_count)
        if doc.strengths:
            self.heading(f"Going well ({len(doc.strengths)})")
            for s in doc.strengths:
                self.listed(s, "✓", "strength")
                self.wrap(s.message, "    ")
        self.recommendation(doc)
        for a in doc.notes:
            self.wrap(a.title, "  • ")
            self.wrap(f"{a.message} {a.advice}", "    ")
        if doc.later:
            self.heading(f"For later ({len(doc.later)}), not due at this stage")
            for s in doc.later:
                self.listed(s, "•")
        if doc.not_applicable:
            self.heading(f"Steps that do not apply ({len(doc.not_applicable)})")
            for s in doc.not_applicable:
                self.listed(s, "•")
                self.wrap(s.reason or "", "    the partners say: ")
        if doc.waived:
            self.heading(f"Waived ({len(doc.waived)})")
            for s in doc.waived:
                self.listed(s, "•")
                self.wrap(s.message, "    ")
                until = f" (until {day(s.until)})" if s.until else ""
                self.wrap(f"{s.reason}{until}", "    waived: ")
        if doc.expired:
            self.heading(f"Waivers ended ({len(doc.expired)})")
            for s in doc.expired:
                self.listed(s, "•")
                self.wrap(f"{s.reason}", "    reason given: ")
                self.wrap(f"ended on {day(s.until or '')}; the finding applies again", "    ")

    def questions(self, groups: Any, count: int) -> None:
        self.heading(f"Questions to settle ({count})" if count > 1 else "A question to settle")
        for g in groups:
            self.lines.append(f"  {printable(g.title)}")
            for q in g.questions:
                self.wrap(q.text, "    • ")

    def problem(self, a: Action, why: str, evidence: bool = False, digits: int = 1) -> None:
        """`  1. Title · high failure risk`, then what is wrong, why it ranks there, what to do and who owns it."""
        first = f"  {str(a.number) + '.':<{digits + 1}} "
        body = " " * len(first)
        start = len(self.lines)
        self.wrap(f"{a.title} · {a.severity_label.lower()} {a.kind_label.lower()}", first, body)
        self.lines[start:] = [self._problem_head(line, a) for line in self.lines[start:]]
        self.wrap(a.message, body)
        self.wrap(a.why, body + f"{why}: ")
        self.wrap(a.advice, body + "→ ")
        self.wrap(a.owner or "to be agreed", body + "owner: ")
        if evidence:  # why it is adapted to this partnership, and the law or practice beyond the guide it rests on
            for note in a.notes:
                self.wrap(note, body + "for this partnership: ")
            for b in a.beyond:
                self.wrap(f"{b.title}: {b.text}", body + f"{b.label.lower()}: ")
            rows = list(a.common_evidence) + [ln for i in a.items for ln in i.evidence]
            if rows:
                prefix = body + "because: "
                start = len(self.lines)
                for i, line in enumerate(evidence_lines(tuple(rows))):
                    self.wrap(line, prefix if i == 0 else " " * len(prefix))
                self.lines[start:] = [self.style(line, "dim") for line in self.lines[start:]]
        self.lines.append("")

    def _problem_head(self, line: str, a: Action) -> str:
        """The title in bold and the severity in its colour (on whichever wrapped line it falls)."""
        severity = f"{a.severity_label.lower()} {a.kind_label.lower()}"
        if not self.color:
            return line
        head, sep, tail = line.rpartition(" · ")
        if sep and tail.startswith(a.severity_label.lower()):
            return head[: len(head) - len(head.lstrip())] + self.style(head.lstrip(), "bold") + sep + self.style(tail, a.severity)
        return line if severity in line else line[: len(line) - len(line.lstrip())] + self.style(line.lstrip(), "bold")

    def listed(self, s: Listed, mark: str, style: str = "bold") -> None:
        subjects = f" ({', '.join(s.subjects)})" if s.subjects else ""
        self.wrap(f"{s.title}{subjects}", f"  {self.style(mark, style) if style != 'bold' else mark} ",
                  " " * (len(mark) + 3))

    # -- a portfolio ------------------------------------------------------------------
    def portfolio(self, summary: PortfolioSummary) -> str:
        n = summary.evaluated
        profiles = summary.profiles
        head = [f"{profiles:,} profile{'' if profiles == 1 else 's'}"]
        if summary.failed:
            head[0] += f" ({summary.failed:,} could not be evaluated)"
        if summary.unmatched:
            head[0] += (f", {summary.unmatched:,} argument{' named no profile' if summary.unmatched == 1 else 's named no profiles'}"
                        " (see the errors above)")
        if n:
            head.append(f"{summary.with_high:,} with high-severity findings{_share(summary.with_high, n)}")
        if n and summary.fail_on not in ("high", "never"):
            head.append(f"{summary.at_fail_on:,} at or above {summary.fail_on}{_share(summary.at_fail_on, n)}")
        if summary.mean_score is not None:
            head.append(f"mean readiness {summary.mean_score:.0f}%")
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

    def recommendation(self, doc: AdviceDocument) -> None:
        rec = doc.report.recommendation
        facts = doc.facts
        self.heading("Recommended structure")
        level = rec.level
        rows = [
            ("formality", f"{rec.formality} partnership" if rec.formality else "not decided (the profile does not say enough)"),
            ("agreement", facts.get("agreement") or "no recommendation yet"),
            ("level", f"declared {level.declared or 'none'} · shown by the joint activities {level.evidenced or 'none yet'}"
                      f" · recommended {level.recommended or 'none yet'}"),
            ("stakeholders", (facts.get("mix") or "not known") + (f" ({facts['sectors']})" if facts.get("sectors") else "")),
            ("term", facts.get("term") or f"{_NONE} (no duration given)"),
        ]
        for label, value in rows:
            self.wrap(value, f"  {label:<14}")

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
