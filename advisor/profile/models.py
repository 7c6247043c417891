"""The partnership profile (profile_version 1) as pydantic models; the format is documented in docs/PROFILE.md."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..vocabulary import (AGREEMENTS, APPROACHES, COMMITMENTS, CONTRIBUTIONS, DECISION_MAKING, FORMALITIES, FREQUENCIES,
                          FUNDING_MODELS, LEVELS, OUTREACH, RATINGS, RELATIONSHIPS, REVIEW_FREQUENCIES, SECTORS, STAGES)

StageName = Literal[*STAGES]
Approach = Literal[*APPROACHES]
Formality = Literal[*FORMALITIES]
Agreement = Literal[*AGREEMENTS]
FundingModel = Literal[*FUNDING_MODELS]
LevelName = Literal[*LEVELS]
Sector = Literal[*SECTORS]
Contribution = Literal[*CONTRIBUTIONS]
Commitment = Literal[*COMMITMENTS]
Relationship = Literal[*RELATIONSHIPS]
DecisionMaking = Literal[*DECISION_MAKING]
Frequency = Literal[*FREQUENCIES]
Outreach = Literal[*OUTREACH]
Rating = Literal[*RATINGS]
ReviewFrequency = Literal[*REVIEW_FREQUENCIES]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _iso_date(value: Any) -> Any:
    """Dates written unquoted (YAML dates) or as quoted YYYY-MM-DD text; anything else says how to write it."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date without a time, got {value.isoformat(sep=' ')}; write {value.date().isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a date in the calendar ({exc}); write a real date as YYYY-MM-DD") from None
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if m:
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            day, month = (second, first) if first <= 12 < second else (first, second)
            try:
                iso = date(year, month, day).isoformat()
            except ValueError:
                iso = None
            if iso is not None:
                meaning = "" if first > 12 or second > 12 or first == second else f" if you mean {day} {_MONTHS[month - 1]} {year}"
                raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}; write {iso}{meaning}")
    shown = repr(value) if len(repr(value)) < 40 else repr(value)[:40] + "..."
    raise ValueError(f"expected a date, got {shown}; write it as YYYY-MM-DD, such as 2026-02-01")


# Dates may be written unquoted (YAML dates) or quoted ISO strings.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Text = Annotated[str, Field(min_length=1)]
#: The largest whole number a profile may hold: both engines compare whole numbers up to 64 bits.
MAX_WHOLE = 2**63 - 1

Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Base of every profile section: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Purpose(StrictModel):
    statement: Optional[Text] = None
    common_understanding: Optional[bool] = None
    shared_vision: Optional[bool] = None
    transparent_decisions: Optional[bool] = None


class Values(StrictModel):
    shared: Optional[list[Text]] = None
    differences_acknowledged: Optional[bool] = None
    status_barriers: Optional[bool] = None


class Goal(StrictModel):
    id: Text
    statement: Optional[Text] = None
    priority: Optional[Annotated[int, Field(ge=1, le=MAX_WHOLE)]] = None
    measurable: Optional[bool] = None
    owner: Optional[Text] = None


class PartnershipType(StrictModel):
    formality: Optional[Formality] = None
    shared_strategy: Optional[bool] = None
    agreement: Optional[Agreement] = None


class Funding(StrictModel):
    model: Optional[FundingModel] = None
    budget_required: Optional[Amount] = None
    budget_committed: Optional[Amount] = None
    currency: Optional[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = None
    cost_sharing_agreed: Optional[bool] = None


class Duration(StrictModel):
    months: Optional[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = None
    start: Optional[IsoDate] = None
    end: Optional[IsoDate] = None

    @model_validator(mode="after")
    def _months_from_dates(self) -> "Duration":
        if self.start and self.end:
            if self.end < self.start:
                raise ValueError(f"end {self.end.isoformat()} is before start {self.start.isoformat()}; correct one of the dates")
            if self.months is None:
                # Calendar months, plus the days left over (inclusive) in average months:
                # 2026-02-01..2028-01-31 is 24 months, a one-day event 0.03.
                whole = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
                month_days = calendar.monthrange(self.end.year, self.end.month)[1]
                months = whole + (self.end.day - self.start.day + 1) / month_days
                if months <= 0 or whole == 0:
                    months = ((self.end - self.start).days + 1) / 30.4375
                object.__setattr__(self, "months", round(months, 2))
        return self


class Partner(StrictModel):
    name: Text
    sector: Optional[Sector] = None
    role: Optional[Text] = None
    responsibilities: Optional[list[Text]] = None
    contributes: Optional[list[Contribution]] = None
    objectives: Optional[list[Text]] = None
    values: Optional[list[Text]] = None
    benefits: Optional[list[Text]] = None
    commitment: Optional[Commitment] = None
    leader_engaged: Optional[bool] = None
    executive_sponsor: Optional[bool] = None
    competes_with: Optional[list[Text]] = None
    relationship: Optional[Relationship] = None


class Activities(StrictModel):
    joint_planning: Optional[bool] = None
    mutual_consultation: Optional[bool] = None
    information_sharing: Optional[bool] = None
    common_messages: Optional[bool] = None
    shared_resources: Optional[bool] = None


class Committee(StrictModel):
    exists: Optional[bool] = None
    members: Optional[Annotated[int, Field(ge=0, le=MAX_WHOLE)]] = None
    sectors_represented: Optional[list[Sector]] = None
    community_representatives: Optional[bool] = None
    recruits_partners: Optional[bool] = None


class Leadership(StrictModel):
    local: Optional[bool] = None
    community_structures_roles_defined: Optional[bool] = None


class Governance(StrictModel):
    roles_documented: Optional[bool] = None
    protocol: Optional[bool] = None
    decision_making: Optional[DecisionMaking] = None
    processes_documented: Optional[bool] = None
    conflict_resolution: Optional[bool] = None
    ip_and_ownership_agreement: Optional[bool] = None
    data_sharing_agreement: Optional[bool] = None
    screening_and_referral_protocol: Optional[bool] = None


class Communication(StrictModel):
    plan: Optional[bool] = None
    frequency: Optional[Frequency] = None
    channels: Optional[list[Text]] = None
    significance_communicated: Optional[bool] = None
    lessons_shared: Optional[bool] = None
    outreach: Optional[list[Outreach]] = None


class Resources(StrictModel):
    sources_identified: Optional[bool] = None
    staff_assigned: Optional[bool] = None
    skills_gaps: Optional[list[Text]] = None
    assumptions: Optional[list[Text]] = None


class Risk(StrictModel):
    description: Text
    likelihood: Optional[Rating] = None
    impact: Optional[Rating] = None
    mitigation: Optional[Text] = None
    owner: Optional[Text] = None


class KPI(StrictModel):
    name: Text
    baseline: Optional[Number] = None
    target: Optional[Number] = None
    actual: Optional[Number] = None
    unit: Optional[Text] = None
    agreed_by_all: Optional[bool] = None


class Monitoring(StrictModel):
    kpis: Optional[list[KPI]] = None
    review_frequency: Optional[ReviewFrequency] = None
    last_review: Optional[IsoDate] = None
    reports_progress: Optional[bool] = None
    lessons_learned_shared: Optional[bool] = None


class Trust(StrictModel):
    prior_collaboration: Optional[bool] = None
    level: Optional[Rating] = None


class Waiver(StrictModel):
    rule: Text
    reason: Text
    until: Optional[IsoDate] = None


class Profile(StrictModel):
    """A partnership described once: only `name` and one partner are required."""

    profile_version: Literal[1] = 1
    name: Text
    lead_partner: Optional[Text] = None
    stage: Optional[StageName] = None
    stakeholder_mapping_done: Optional[bool] = None
    purpose: Optional[Purpose] = None
    values: Optional[Values] = None
    goals: Optional[list[Goal]] = None
    approach: Optional[Approach] = None
    type: Optional[PartnershipType] = None
    funding: Optional[Funding] = None
    duration: Optional[Duration] = None
    level: Optional[LevelName] = None
    partners: Annotated[list[Partner], Field(min_length=1)]
    activities: Optional[Activities] = None
    committee: Optional[Committee] = None
    leadership: Optional[Leadership] = None
    governance: Optional[Governance] = None
    communication: Optional[Communication] = None
    resources: Optional[Resources] = None
    risks: Optional[list[Risk]] = None
    monitoring: Optional[Monitoring] = None
    trust: Optional[Trust] = None
    waivers: Optional[list[Waiver]] = None
