"""What a portfolio keeps of each report (a ProfileRecord) and what matters across them (a PortfolioSummary)."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from operator import add, eq
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import AdvisorError, UsageError
from ..vocabulary import ACTION_KINDS, SEVERITY_ORDER
from .findings import Report
from .problems import NEUTRAL, Advice

if TYPE_CHECKING:
    from ..rulebook import Rulebook


@dataclass(frozen=True)
class ProfileRecord:
    """What a portfolio keeps of one report: its counts, the rules that fired and the steps in place per area.

    Small and quick to pickle (a Report is neither): worker processes send these back. It has
    the `profile_name` and `summary` of a Report, so the one-line summary of a report reads it too.
    """

    profile_name: str
    source: str
    summary: dict[str, Any]
    #: (rule id, kind, severity) of each rule that fired, once, at the worst severity it fired
    #: with, in the report's order. Plain tuples: named ones take ten times longer to pickle.
    rules: tuple[tuple[str, str, str], ...]
    #: Actionable steps of the guide in place, per area, in the order of the knowledge base's areas.
    coverage: tuple[int, ...]
    #: The severity of the worst finding other than a strength, or "none".
    worst_severity: str = "none"

    @property
    def high(self) -> int:
        return self.summary["by_severity"]["high"]

    @property
    def score(self) -> int:
        return self.summary["score"]

    def worst(self, threshold: str) -> bool:
        """True when a finding other than a strength is at or above the threshold severity (as Report.worst)."""
        if threshold == "never" or self.worst_severity == "none":
            return False
        return SEVERITY_ORDER[self.worst_severity] <= SEVERITY_ORDER[threshold]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.profile_name, "source": self.source, "summary": self.summary}


class Recorder:
    """Turns reports into ProfileRecords, from the hits alone (no finding is explained)."""

    def __init__(self, rules: Rulebook):
        knowledge = rules.knowledge
        self.steps = [tuple(sid for sid in area.ids if knowledge.sections[sid].actionable) for area in knowledge.areas]
        #: counts the hits of a report made without a rulebook's advice (Advice.tally), with this rulebook's rules
        self.advice = Advice({rule.id: rule for rule in rules.rules}, {}, NEUTRAL)

    def record(self, report: Report) -> ProfileRecord:
        # Coverage as in the advice document (advisor.documents.area_coverage), from the hits alone: counted once
        # with the report's summary (Report.tally), or with this rulebook's rules for a report made without them.
        tally = report.tally if report.advice is not None else self.advice.tally(report.hits)
        contains = tally.open_ids.__contains__
        coverage = tuple(len(steps) - sum(map(contains, steps)) for steps in self.steps)
        return ProfileRecord(report.profile_name, report.source, report.summary, tuple(tally.said.values()), coverage,
                             tally.worst)


# --------------------------------------------------------------------------- the summary


class RuleCount(NamedTuple):
    """How many profiles a rule fired on, and at which severities."""

    rule: str
    title: str
    kind: str
    profiles: int
    by_severity: dict[str, int]

    @property
    def severity(self) -> str:
        """The worst severity it fired with."""
        return min(self.by_severity, key=SEVERITY_ORDER.__getitem__)


class AreaTotal(NamedTuple):
    """One area of the guide across the portfolio: steps in place out of all steps, and profiles with all in place."""

    area: str
    title: str
    in_place: int
    total: int
    complete: int

    @property
    def share(self) -> float:
        return self.in_place / self.total if self.total else 1.0


class PortfolioSummary:
    """What matters across a portfolio, kept as counts so that memory does not grow with its size.

    `add` a Report (or a ProfileRecord) per profile and `add_error` per profile that could not
    be evaluated; only counters, per-area sums and the `top` profiles most at risk are kept,
    never the reports.

    >>> summary = PortfolioSummary.for_advisor(advisor)
    >>> for result in advisor.evaluate_many(paths):
    ...     summary.add_error(result) if isinstance(result, AdvisorError) else summary.add(result)
    """

    def __init__(self, rules: Rulebook, *, top: int = 10, fail_on: str = "high"):
        self.knowledge = rules.knowledge
        self.recorder = Recorder(rules)
        self.titles = {rule.id: (rule.title, rule.kind) for rule in rules.rules}
        self.top = top
        self.fail_on = fail_on
        #: Profiles evaluated, and profiles that could not be (with the first `top` errors).
        self.evaluated = 0
        self.failed = 0
        self.errors: list[str] = []
        #: Arguments that named no profile at all (a glob without matches, a folder without profiles).
        self.unmatched = 0
        #: Profiles with a high-severity finding; with a finding at or above fail_on.
        self.with_high = 0
        self.at_fail_on = 0
        self.score_total = 0
        #: Profiles by their worst finding (strengths aside): high, medium, low, info or none.
        self.worst_severity: dict[str, int] = dict.fromkeys((*SEVERITY_ORDER, "none"), 0)
        #: (rule id, kind, severity) -> profiles it fired on with that as its worst severity.
        self._fired: Counter[tuple[str, str, str]] = Counter()
        self._sizes = [len(steps) for steps in self.recorder.steps]
        self._in_place = [0] * len(self._sizes)
        self._complete = [0] * len(self._sizes)
        self._at_risk: list[tuple[tuple[int, int, int], ProfileRecord]] = []  # a min-heap of the top most at risk

    @classmethod
    def for_advisor(cls, advisor: Any, **options: Any) -> "PortfolioSummary":
        """A summary that names the rules of this Advisor."""
        return cls(advisor.rulebook, **options)

    @property
    def profiles(self) -> int:
        return self.evaluated + self.failed

    @property
    def mean_score(self) -> float | None:
        return self.score_total / self.evaluated if self.evaluated else None

    def add(self, item: Report | ProfileRecord) -> ProfileRecord:
        """Count one evaluated profile; returns what was kept of it."""
        record = item if isinstance(item, ProfileRecord) else self.recorder.record(item)
        self.evaluated += 1
        score, high = record.score, record.high
        self.score_total += score
        if high:
            self.with_high += 1
        if record.worst(self.fail_on):
            self.at_fail_on += 1
        self.worst_severity[record.worst_severity] += 1
        # Counted in C: (rule, kind, severity) as the record has it (most_common sums the kinds, one per rule),
        # and the areas' steps in place added up list by list.
        self._fired.update(record.rules)
        self._in_place = list(map(add, self._in_place, record.coverage))
        self._complete = list(map(add, self._complete, map(eq, record.coverage, self._sizes)))
        if self.top and high:
            # Most at risk: most high findings, then lowest score, then earliest in the portfolio.
            key = (high, -score, -self.evaluated)
            entry = (key, record)
            if len(self._at_risk) < self.top:
                heapq.heappush(self._at_risk, entry)
            elif key > self._at_risk[0][0]:
                heapq.heapreplace(self._at_risk, entry)
        return record

    def add_error(self, error: AdvisorError | str, unmatched: bool = False) -> None:
        """Count one profile that could not be evaluated, or (unmatched, or a UsageError) an argument that named
        no profile."""
        if unmatched or isinstance(error, UsageError):
            self.unmatched += 1
        else:
            self.failed += 1
        if len(self.errors) < self.top:
            self.errors.append(str(error))

    def most_common(self, kind: str, n: int | None = None) -> list[RuleCount]:
        """The rules of this kind that fired on the most profiles, most first (then by rule id)."""
        by_rule: dict[str, dict[str, int]] = {}
        for (rule, _, severity), n_profiles in sorted(self._fired.items(), key=lambda kv: SEVERITY_ORDER[kv[0][2]]):
            if self.titles.get(rule, (None, None))[1] == kind:
                by_severity = by_rule.setdefault(rule, {})
                by_severity[severity] = by_severity.get(severity, 0) + n_profiles
        counts = [RuleCount(rule, self.titles[rule][0], kind, sum(sev.values()), sev) for rule, sev in by_rule.items()]
        counts.sort(key=lambda c: (-c.profiles, SEVERITY_ORDER[c.severity], c.rule))
        return counts[: self.top if n is None else n]

    def most_at_risk(self) -> list[ProfileRecord]:
        """Up to `top` profiles with high-severity findings: the most such findings (then the lowest score) first."""
        return [record for _, record in sorted(self._at_risk, key=lambda e: e[0], reverse=True)]

    def coverage(self) -> list[AreaTotal]:
        """Per area of the guide, in the guide's order: steps in place over all evaluated profiles."""
        return [
            AreaTotal(area.name, area.title, self._in_place[i], len(steps) * self.evaluated, self._complete[i])
            for i, (area, steps) in enumerate(zip(self.knowledge.areas, self.recorder.steps))
        ]

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data (the JSON of `advisor evaluate --summary-only --format json`)."""
        return {
            "profiles": self.profiles,
            "evaluated": self.evaluated,
            "failed": self.failed,
            "unmatched": self.unmatched,
            "errors": list(self.errors),
            "with_high": self.with_high,
            "fail_on": self.fail_on,
            "at_or_above_fail_on": self.at_fail_on,
            "mean_score": round(self.mean_score, 1) if self.mean_score is not None else None,
            "worst_severity": dict(self.worst_severity),
            "most_common": {
                kind: [{"rule": c.rule, "title": c.title, "profiles": c.profiles, "by_severity": c.by_severity}
                       for c in self.most_common(kind)]
                for kind in ACTION_KINDS
            },
            "most_at_risk": [r.to_dict() for r in self.most_at_risk()],
            "coverage": [{"area": a.area, "title": a.title, "in_place": a.in_place, "total": a.total, "complete": a.complete}
                         for a in self.coverage()],
        }


class OverviewRow(NamedTuple):
    """One profile's row in the portfolio overview: its counts and document, or why it could not be evaluated."""

    source: str
    name: str | None = None
    document: str | None = None  # the file name of its advice document, next to the overview
    high: int = 0
    medium: int = 0
    low: int = 0
    score: int | None = None
    error: str | None = None

    @classmethod
    def of(cls, outcome: Any, document: str | None = None) -> "OverviewRow":
        """The row of a portfolio Outcome (its record, or its error)."""
        if outcome.record is None:
            return cls(outcome.source, error=outcome.error)
        r = outcome.record
        sev = r.summary["by_severity"]
        return cls(r.source, r.profile_name, document, sev["high"], sev["medium"], sev["low"], r.score)
