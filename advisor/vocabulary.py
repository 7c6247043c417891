"""advisor's one vocabulary: the kinds, severities, levels, stages, collections and enum values, with their labels.

Every other module imports these names from here; none keeps a table of its own.
"""

from __future__ import annotations

from typing import NamedTuple

# --------------------------------------------------------------------------- findings

#: What a rule says, in the order the rule language lists them.
KINDS: tuple[str, ...] = ("structure", "governance_gap", "failure_risk", "strength")
#: A finding may also be a question to settle: what a rule needed and the profile does not say.
QUESTION = "question"
#: The order a report shows the kinds in: what can make the partnership fail first.
KIND_ORDER: dict[str, int] = {"failure_risk": 0, "governance_gap": 1, "structure": 2, "question": 3, "strength": 4}
#: A kind as a heading (plural) and as a label (singular), and its plural in running text.
KIND_TITLES: dict[str, str] = {
    "failure_risk": "Failure risks",
    "governance_gap": "Governance gaps",
    "structure": "Recommended structure",
    "question": "Questions to settle",
    "strength": "Strengths",
}
KIND_LABELS: dict[str, str] = {
    "failure_risk": "Failure risk",
    "governance_gap": "Governance gap",
    "structure": "Structure",
    "question": "Question",
    "strength": "Strength",
}
KIND_WORDS: dict[str, tuple[str, str]] = {
    "failure_risk": ("failure risk", "failure risks"),
    "governance_gap": ("governance gap", "governance gaps"),
    "structure": ("structure recommendation", "structure recommendations"),
    "question": ("question to settle", "questions to settle"),
    "strength": ("strength", "strengths"),
}
#: Finding kinds that say a step of the guide is not done yet.
ACTION_KINDS: tuple[str, ...] = ("failure_risk", "governance_gap")

SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY_LABELS: dict[str, str] = {s: s.capitalize() for s in SEVERITIES}
#: --fail-on: a severity, or never.
FAIL_ON: tuple[str, ...] = SEVERITIES[:-1] + ("never",)
#: Points taken off 100 for each finding (strengths take none): the score of a report made by hand, which has no
#: rulebook to say which steps are due (an evaluated report's score is its readiness).
PENALTY: dict[str, int] = {"high": 15, "medium": 6, "low": 2, "info": 0}


def leaves_step_open(kind: str, severity: str) -> bool:
    """Whether a finding of this kind and severity says the guide steps it cites are not in place: a
    governance gap, a failure risk, a question not yet settled, or a structure finding above info (a
    missing committee cites 11.1, a level above the evidence cites 9.2). The advice document's coverage
    and the portfolio's agree."""
    return kind in ACTION_KINDS or kind == QUESTION or (kind == "structure" and severity != "info")


# --------------------------------------------------------------------------- the profile's enums

#: A partnership's stages, in the order it goes through them; a step of the guide is due from one of them on.
STAGES = ("proposed", "forming", "active", "reviewing", "closing")
STAGE_LABELS: dict[str, str] = {
    "proposed": "an idea being explored", "forming": "being formed", "active": "running",
    "reviewing": "being reviewed", "closing": "closing",
}
APPROACHES = ("integrated_sectoral", "single_sector", "undecided")
FORMALITIES = ("formal", "informal")
AGREEMENTS = ("none", "verbal", "letter", "mou", "contract")
FUNDING_MODELS = ("none", "self_funded", "partner_funded", "external", "mixed")
#: The four levels of Himmelman's continuum, in the guide's order (9.1).
LEVELS: tuple[str, ...] = ("communication", "coordination", "cooperation", "collaboration")
SECTORS = (
    "government", "police", "civil_society", "private", "faith", "education",
    "community", "media", "academic", "international", "other", "health", "social_services",
)
CONTRIBUTIONS = ("funds", "staff", "skills", "venue", "data", "equipment", "networks", "time", "other")
COMMITMENTS = ("none", "verbal", "written", "signed")
RELATIONSHIPS = ("new", "long_standing")
DECISION_MAKING = ("consensus", "majority", "lead_partner", "unspecified")
FREQUENCIES = ("none", "ad_hoc", "annually", "quarterly", "monthly", "fortnightly", "weekly", "daily")
OUTREACH = ("advocacy", "community_mobilisation", "civic_education")
RATINGS = ("low", "medium", "high")
REVIEW_FREQUENCIES = ("none", "annually", "quarterly", "monthly")

#: What a partnership may be for (its `focus`), in a committee's words. Rules adapt their severity and advice to it.
FOCUS_LABELS: dict[str, str] = {
    "victim_support": "victim support and gender-based violence",
    "schools": "schools and children",
    "surveillance": "public-space surveillance and data (CCTV)",
    "events": "events",
    "transport": "transport and taxi violence",
    "rural": "rural and farm safety",
    "substance_abuse": "liquor and substance abuse",
    "youth": "youth and gangs",
    "business": "business and town-centre crime",
    "crime_prevention": "general crime prevention",
}
FOCUSES: tuple[str, ...] = tuple(FOCUS_LABELS)

#: What the recommendation's values mean, in a committee's words.
AGREEMENT_LABELS: dict[str, str] = {
    "none": "no written agreement",
    "verbal": "a verbal agreement",
    "letter": "a letter of agreement",
    "mou": "a memorandum of understanding (MOU)",
    "contract": "a contract",
}
TERM_LABELS: dict[str, str] = {
    "event": "a one-off event (under one month)",
    "short": "short-term (under 12 months)",
    "long": "long-term (12 months or more)",
}
MIX_LABELS: dict[str, str] = {"single": "one stakeholder group", "multi": "several stakeholder groups"}


# --------------------------------------------------------------------------- collections


class Collection(NamedTuple):
    """A list of items in a profile: its path, what one item is called, and the field that names an item."""

    path: tuple[str, ...]
    noun: str
    key: str


#: Every list of items in a profile, by dotted path.
COLLECTIONS: dict[str, Collection] = {
    "partners": Collection(("partners",), "partner", "name"),
    "goals": Collection(("goals",), "goal", "id"),
    "monitoring.kpis": Collection(("monitoring", "kpis"), "KPI", "name"),
    "risks": Collection(("risks",), "risk", "description"),
    "waivers": Collection(("waivers",), "waiver", "rule"),
}
#: The collections a rule may quantify over or fire once per item of (waivers are the committee's, not the partnership's).
RULE_COLLECTIONS: tuple[str, ...] = ("partners", "goals", "monitoring.kpis", "risks")
#: The field that names an item of each collection, shown as a finding's subject.
SUBJECT_FIELD: dict[str, str] = {name: c.key for name, c in COLLECTIONS.items()}


def collection_named(last: str) -> Collection | None:
    """The collection whose path ends in this name (`kpis` -> monitoring.kpis), or None."""
    return next((c for c in COLLECTIONS.values() if c.path[-1] == last), None)


# --------------------------------------------------------------------------- the guide

#: Areas of the success (A) and failure (B, C) markers; they have no entry under `areas:` of the knowledge base.
MARKER_AREAS: tuple[str, ...] = ("success", "failure")
MARKER_TITLES: dict[str, str] = {"success": "Success markers (A)", "failure": "Failure markers (B, C)"}
