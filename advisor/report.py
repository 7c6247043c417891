"""Findings and reports: immutable, sortable values; every output format is a pure function of them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
KIND_ORDER = {"failure_risk": 0, "governance_gap": 1, "structure": 2, "strength": 3}
KIND_TITLES = {
    "failure_risk": "Failure risks",
    "governance_gap": "Governance gaps",
    "structure": "Recommended structure",
    "strength": "Strengths",
}
#: Points taken off a readiness score of 100 for each finding (strengths take none).
PENALTY = {"high": 15, "medium": 6, "low": 2, "info": 0}


@dataclass(frozen=True)
class Evidence:
    """A profile path and the value a rule's condition read there."""

    path: str
    value: Any
    line: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "value": self.value, "line": self.line}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Finding:
    """One rule that fired on a profile (or on one item of it, named in subject)."""

    rule: str
    kind: str
    severity: str
    title: str
    message: str
    advice: str
    guide_refs: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    subject: str | None = None
    note: str | None = None  # why the severity was lowered for this partnership (proportion)
    guide_order: int = 0
    item_index: int = -1

    @property
    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER[self.severity], self.guide_order, self.rule, self.item_index)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "advice": self.advice,
            "guide_refs": list(self.guide_refs),
            "evidence": [e.to_dict() for e in self.evidence],
            "subject": self.subject,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Waived:
    """A finding the committee has consciously accepted, with its reason."""

    finding: Finding
    reason: str
    until: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.finding.to_dict(), "waiver": {"reason": self.reason, "until": self.until}}


@dataclass(frozen=True)
class Level:
    declared: str | None
    evidenced: str | None
    recommended: str | None


@dataclass(frozen=True)
class Recommendation:
    formality: str | None
    level: Level
    stakeholder_mix: str | None
    term: str | None
    structure: tuple[str, ...]
    agreement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "formality": self.formality,
            "agreement": self.agreement,
            "level": asdict(self.level),
            "stakeholder_mix": self.stakeholder_mix,
            "term": self.term,
            "structure": list(self.structure),
        }


@dataclass(frozen=True)
class Report:
    """The result of evaluating one profile."""

    profile_name: str
    source: str
    recommendation: Recommendation
    findings: tuple[Finding, ...]
    waived: tuple[Waived, ...] = ()
    expired_waivers: tuple[dict[str, Any], ...] = ()
    derived: dict[str, Any] = field(default_factory=dict)
    engine: str = "python"
    as_of: str = ""
    advisor_version: str = ""
    rules_version: str = ""

    def by_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def worst(self, threshold: str) -> bool:
        """True when a finding other than a strength is at or above the threshold severity."""
        if threshold == "never":
            return False
        limit = SEVERITY_ORDER[threshold]
        return any(f.kind != "strength" and SEVERITY_ORDER[f.severity] <= limit for f in self.findings)

    @property
    def summary(self) -> dict[str, Any]:
        by_kind = {k: 0 for k in KIND_ORDER}
        by_severity = {s: 0 for s in SEVERITY_ORDER}
        score = 100
        for f in self.findings:
            by_kind[f.kind] += 1
            if f.kind != "strength":
                by_severity[f.severity] += 1
                score -= PENALTY[f.severity]
        return {"by_kind": by_kind, "by_severity": by_severity, "score": max(score, 0), "waived": len(self.waived)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "advisor_version": self.advisor_version,
            "rules_version": self.rules_version,
            "as_of": self.as_of,
            "profile": {"name": self.profile_name, "source": self.source},
            "recommendation": self.recommendation.to_dict(),
            "derived": dict(self.derived),
            "findings": [f.to_dict() for f in self.findings],
            "waived": [w.to_dict() for w in self.waived],
            "expired_waivers": list(self.expired_waivers),
            "summary": self.summary,
        }

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON; the engine is left out so both engines give byte-identical output."""
        data = self.to_dict()
        return json.dumps(data, indent=indent, ensure_ascii=False, sort_keys=False, default=str)
