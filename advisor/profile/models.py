"""The partnership profile (profile_version 1) as pydantic models; the format is documented in docs/PROFILE.md.

The annotations are evaluated as the classes are made (no `from __future__ import annotations`): pydantic then takes
the types as they are instead of compiling and evaluating ~150 annotation strings on every start.
"""

from datetime import date
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .plain import MAX_WHOLE, UNKNOWN, _days_in_month, _iso_date, _unknown, _whole, months_from_dates  # noqa: F401
from ..vocabulary import (AGREEMENTS, APPROACHES, COMMITMENTS, CONTRIBUTIONS, DECISION_MAKING, FOCUSES, FORMALITIES, FREQUENCIES,
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
Focus = Literal[*FOCUSES]

#: A whole number, which may be written 7 or 7.0.
WholeNumber = Annotated[int, BeforeValidator(_whole)]

# Dates may be written unquoted (YAML dates) or quoted ISO strings.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Text = Annotated[str, Field(min_length=1)]

Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Base of every profile section: unknown keys are errors, values are not coerced.

    The validators are built when first used (defer_build), not as the classes are made: a profile is validated
    as a whole, with Profile's validator alone (which holds the sections'), and a run whose rules come from the
    rules cache is handed that validator ready-made (validation.adopt), so it builds none of them.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


#: A yes/no that may be written as true, false, or unknown.
YesNo = Annotated[Optional[bool], BeforeValidator(_unknown)]


def choice(values: Any) -> Any:
    """A choice among values that may also be written as unknown."""
    return Annotated[Optional[values], BeforeValidator(_unknown)]


def about(label: str, question: str | None = None, *, guide: str | None = None, required: bool = False,
          **constraints: Any) -> Any:
    """A field's label (how reports name it, in a committee's words), the question that asks for it, and the
    sections of the guide it serves.

    A question may name the item it is about as {item} (a partner's name, a goal, a KPI, a risk).
    """
    extra = {key: value for key, value in (("question", question), ("guide", guide)) if value} or None
    return Field(... if required else None, title=label, json_schema_extra=extra, **constraints)


class Purpose(StrictModel):
    """Why the partnership exists (guide 1, 2, 3)."""

    statement: Optional[Text] = about("purpose statement", "In one or two sentences, what will the partnership achieve, for whom and where?", guide="3, 21.1")
    common_understanding: YesNo = about("common understanding of each other's culture, values and approach",
                                        "Do the partners understand each other's culture, values and way of working?", guide="1.1")
    shared_vision: YesNo = about("shared vision agreed by all partners", "Has every partner agreed the shared vision?", guide="3")
    transparent_decisions: YesNo = about("shared, transparent decision-making",
                                         "Do the partners take decisions together, in a way every partner can see?", guide="3")


class Values(StrictModel):
    """The partners' culture and values (guide 4)."""

    shared: Optional[list[Text]] = about("shared values", "Which values do all the partners share?", guide="4.1")
    differences_acknowledged: YesNo = about("differences between partners openly accepted",
                                            "Have the partners talked about and accepted where they differ?", guide="4.1")
    status_barriers: YesNo = about("status barriers between partners",
                                   "Do differences in status keep some partners from taking part?", guide="4.2")


class Goal(StrictModel):
    """One goal of the partnership (guide 5, 6, 21.2)."""

    id: Text = about("goal id", required=True)
    statement: Optional[Text] = about("what the goal will achieve", "What will goal {item} achieve?", guide="5")
    priority: Optional[Annotated[WholeNumber, Field(ge=1, le=MAX_WHOLE)]] = about("priority (1 is the highest)", "How important is goal {item} compared with the others?", guide="6")
    measurable: YesNo = about("measurable", "Can the partners measure whether goal {item} is met?", guide="5, 20.5")
    owner: Optional[Text] = about("owner", "Which partner owns goal {item}?", guide="13.1")
    between: Optional[list[Text]] = about("partners it is disputed between",
                                          "Is goal {item} disputed between partners, and between which?", guide="C.2")


class PartnershipType(StrictModel):
    """The type of partnership (guide 8)."""

    formality: choice(Formality) = about("formality", "Will the partnership be formal or informal?", guide="8.2, 8.3")
    shared_strategy: YesNo = about("shared strategy", "Do the partners follow one shared strategy?", guide="8.2, 8.3")
    agreement: choice(Agreement) = about("kind of agreement", "What kind of agreement binds the partners?", guide="8.2, 8.3")


class Funding(StrictModel):
    """How the partnership is paid for (guide 8.4, 17)."""

    model: choice(FundingModel) = about("funding model", "How is the partnership paid for?", guide="8.4")
    budget_required: Optional[Amount] = about("budget required", "How much money does the partnership need?", guide="17")
    budget_committed: Optional[Amount] = about("budget committed", "How much of it have the partners or funders committed?", guide="8.4, C.1")
    currency: Optional[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = about("currency")
    cost_sharing_agreed: YesNo = about("cost sharing agreed", "Have the partners agreed how they share the costs?", guide="C.1")


class Duration(StrictModel):
    """How long the partnership runs (guide 8.5)."""

    months: Optional[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = about("duration in months", "How long will the partnership run?", guide="8.5")
    start: Optional[IsoDate] = about("start date", "When does (or did) the partnership start?", guide="8.5")
    end: Optional[IsoDate] = about("end date", "When will the partnership end?", guide="8.5")

    @model_validator(mode="after")
    def _months_from_dates(self) -> "Duration":
        return months_from_dates(self)


class Partner(StrictModel):
    """One partner (guide 8.6, 11, 13, 18, 21)."""

    name: Text = about("name", required=True)
    sector: choice(Sector) = about("sector", "Which sector is {item} from?", guide="8.6")
    role: Optional[Text] = about("role", "What is {item}'s role in the partnership?", guide="13.1")
    responsibilities: Optional[list[Text]] = about("responsibilities", "What is {item} responsible for?", guide="13.1")
    contributes: Optional[list[Contribution]] = about("contributions", "What does {item} contribute?", guide="13.1, 17")
    objectives: Optional[list[Text]] = about("goals signed up to", "Which of the goals has {item} signed up to?", guide="B.3")
    values: Optional[list[Text]] = about("values", "Which values does {item} hold?", guide="4.1, B.2")
    benefits: Optional[list[Text]] = about("benefits", "What does {item} gain from the partnership?", guide="18, A.1")
    commitment: choice(Commitment) = about("commitment", "How has {item} committed to the partnership?", guide="21.3")
    leader_engaged: YesNo = about("leaders engaged", "Are {item}'s leaders engaged?", guide="21.4")
    executive_sponsor: YesNo = about("executive sponsor", "Does {item} have a senior person who champions the partnership?", guide="C.1")
    competes_with: Optional[list[Text]] = about("competitors among the partners", "Does {item} compete with another partner?", guide="C.2")
    relationship: choice(Relationship) = about("relationship with the others", "Has {item} worked with the other partners before?", guide="21.5")


class Activities(StrictModel):
    """What the partners do together (guide 9.2, 10)."""

    joint_planning: YesNo = about("joint planning", "Do the partners plan together?", guide="10.1")
    mutual_consultation: YesNo = about("mutual consultation", "Do the partners consult each other before they act?", guide="10.2")
    information_sharing: YesNo = about("information sharing", "Do the partners share information?", guide="10.3")
    common_messages: YesNo = about("common messages", "Do the partners speak to the public with one voice?", guide="10.4")
    shared_resources: YesNo = about("shared resources", "Do the partners share resources (money, staff, equipment)?", guide="9.2")


class Committee(StrictModel):
    """The Community Partnership Committee (guide 11)."""

    exists: YesNo = about("committee in place", "Is there a committee that steers the partnership?", guide="11.1")
    members: Optional[Annotated[WholeNumber, Field(ge=0, le=MAX_WHOLE)]] = about("committee members", "How many members does the committee have?", guide="11.1")
    sectors_represented: Optional[list[Sector]] = about("sectors on the committee", "Which sectors have a seat on the committee?", guide="11.1")
    community_representatives: YesNo = about("community representatives on the committee",
                                             "Does the community have representatives on the committee?", guide="11.1")
    recruits_partners: YesNo = about("committee looks for new partners", "Does the committee look for new partners?", guide="11.2")


class Leadership(StrictModel):
    """Local leadership (guide 12)."""

    local: YesNo = about("led locally", "Is the initiative led by people in the area?", guide="12.1")
    community_structures_roles_defined: YesNo = about("role of community structures defined",
                                                      "Is the role of community structures (CPF, ward committees) clear?", guide="12.2")


class Governance(StrictModel):
    """How the partnership is run (guide 13, 14, 15, 10.3, 21.6, C.2)."""

    roles_documented: YesNo = about("roles and responsibilities written down", "Are every partner's roles and responsibilities written down?", guide="13.1")
    protocol: YesNo = about("governance protocol", "Have the partners agreed a protocol for how the partnership is run?", guide="14")
    decision_making: choice(DecisionMaking) = about("how decisions are taken", "How do the partners take decisions?", guide="14, 3")
    processes_documented: YesNo = about("processes written down", "Are the partnership's processes clarified and written down?", guide="15")
    conflict_resolution: YesNo = about("way to resolve disagreements", "Have the partners agreed how to resolve disagreements?", guide="14")
    ip_and_ownership_agreement: YesNo = about("agreement on ownership",
                                              "Have the partners agreed in writing who owns what they put in, share or produce?",
                                              guide="C.2")
    data_sharing_agreement: YesNo = about("data sharing agreement", "Have the partners agreed rules for sharing information and data?", guide="10.3")
    screening_and_referral_protocol: YesNo = about("screening and referral protocol",
                                                   "Is there a protocol for screening and referring people who need help between partners?", guide="21.6")


class Communication(StrictModel):
    """How the partners communicate (guide 16)."""

    plan: YesNo = about("communication plan", "Do the partners have a communication plan?", guide="16.2")
    frequency: choice(Frequency) = about("how often the partners communicate", "How often do the partners communicate?", guide="16.2")
    channels: Optional[list[Text]] = about("communication channels", "Which channels do the partners use (meetings, WhatsApp, ...)?", guide="16.5")
    significance_communicated: YesNo = about("why the partnership matters is communicated",
                                             "Do the partners tell their own people why the partnership matters?", guide="16.1")
    lessons_shared: YesNo = about("lessons shared", "Do the partners share lessons learned?", guide="16.3")
    outreach: Optional[list[Outreach]] = about("outreach", "Does the partnership do advocacy, community mobilisation or civic education?", guide="16.4")


class Resources(StrictModel):
    """The partnership's resources (guide 17)."""

    sources_identified: YesNo = about("sources of resources identified", "Is it clear where the resources will come from?", guide="17.1")
    staff_assigned: YesNo = about("staff assigned", "Are staff assigned to the partnership's work?", guide="17")
    skills_gaps: Optional[list[Text]] = about("skills still missing", "Which skills does the partnership still need?", guide="17")
    assumptions: Optional[list[Text]] = about("assumptions", "What does the plan assume that may not hold?", guide="17")


class Risk(StrictModel):
    """One risk or threat to the partnership (guide 19)."""

    description: Text = about("description", required=True)
    likelihood: choice(Rating) = about("likelihood", "How likely is it that {item}?", guide="19")
    impact: choice(Rating) = about("impact", "How much harm would it do if {item}?", guide="19")
    mitigation: Optional[Text] = about("mitigation", "What will the partners do about this risk: {item}?", guide="19")
    owner: Optional[Text] = about("owner", "Which partner looks after this risk: {item}?", guide="19")
    between: Optional[list[Text]] = about("partners it is a dispute between",
                                          "Is this risk a dispute between partners, and between which: {item}?", guide="C.2")


class KPI(StrictModel):
    """One key performance indicator (guide 20)."""

    name: Text = about("name", required=True)
    baseline: Optional[Number] = about("starting value", "Where did {item} start?", guide="20.3")
    target: Optional[Number] = about("target", "What is the target for {item}?", guide="20.3")
    actual: Optional[Number] = about("latest value", "What is the latest value of {item}?", guide="20.5")
    unit: Optional[Text] = about("unit")
    agreed_by_all: YesNo = about("accepted by every partner", "Does every partner accept {item} as a measure?", guide="A.note3")


class Monitoring(StrictModel):
    """Monitoring and evaluation (guide 20)."""

    kpis: Optional[list[KPI]] = about("KPIs", "How will the partners measure progress?", guide="20.3")
    review_frequency: choice(ReviewFrequency) = about("how often the partnership is reviewed", "How often will the partners review the partnership?", guide="20.4")
    last_review: Optional[IsoDate] = about("last review", "When did the partners last review the partnership?", guide="20.2")
    reports_progress: YesNo = about("progress reported", "Do the partners report progress?", guide="20.5")
    lessons_learned_shared: YesNo = about("lessons from reviews shared", "Are the lessons from reviews shared?", guide="20.6")


class Trust(StrictModel):
    """Trust between the partners (guide B.7)."""

    prior_collaboration: YesNo = about("partners worked together before", "Have the partners worked together before?", guide="B.7, 21.5")
    level: choice(Rating) = about("level of trust", "How much do the partners trust each other?", guide="B.7")


class Waiver(StrictModel):
    """A finding the committee has consciously accepted."""

    rule: Text = about("rule", required=True)
    reason: Text = about("reason", required=True)
    until: Optional[IsoDate] = about("until")


class NotApplicable(StrictModel):
    """A step of the guide that does not apply to this partnership, and why (the report shows it, as it shows waivers)."""

    step: Text = about("step of the guide", required=True)
    reason: Text = about("why it does not apply", required=True)


class Profile(StrictModel):
    """A partnership described once: only `name` and one partner are required."""

    profile_version: Literal[1] = 1
    name: Text = about("name of the partnership", required=True)
    lead_partner: Optional[Text] = about("lead partner", "Which partner leads and convenes the partnership?", guide="A.note1")
    stage: choice(StageName) = about("stage", "Is the partnership an idea, forming, running, being reviewed or closing?", guide="21")
    focus: Optional[list[Focus]] = about("what the partnership is for", "What is the partnership mainly about?")
    affected: Optional[list[Text]] = about("the people most affected",
                                           "Who is most affected by the problem the partnership tackles (commuters, "
                                           "learners, farm workers, ...)?", guide="9.3")
    stakeholder_mapping_done: YesNo = about("stakeholder mapping and gap analysis",
                                            "Have the partners mapped who else has a stake and what is missing?", guide="9.3")
    purpose: Optional[Purpose] = about("purpose", guide="1, 3")
    values: Optional[Values] = about("values", guide="4")
    goals: Optional[list[Goal]] = about("goals", "What are the partnership's goals?", guide="5, 6, 21.2")
    approach: choice(Approach) = about("approach", "Will the sectors work as one integrated team or each in its own field?", guide="7")
    type: Optional[PartnershipType] = about("type of partnership", guide="8")
    funding: Optional[Funding] = about("funding", guide="8.4, 17")
    duration: Optional[Duration] = about("duration", guide="8.5")
    level: choice(LevelName) = about("partnership level", "Which level of partnership do the partners aim for?", guide="9.1, 9.2")
    partners: Annotated[list[Partner], Field(min_length=1)] = about("partners", required=True, guide="8.6, 11")
    activities: Optional[Activities] = about("joint activities", guide="10")
    committee: Optional[Committee] = about("committee", guide="11")
    leadership: Optional[Leadership] = about("leadership", guide="12")
    governance: Optional[Governance] = about("governance", guide="13, 14, 15")
    communication: Optional[Communication] = about("communication", guide="16")
    resources: Optional[Resources] = about("resources", guide="17")
    risks: Optional[list[Risk]] = about("risks", "What could make the partnership fail?", guide="19")
    monitoring: Optional[Monitoring] = about("monitoring", guide="20")
    trust: Optional[Trust] = about("trust", guide="B.7")
    waivers: Optional[list[Waiver]] = about("waivers")
    not_applicable: Optional[list[NotApplicable]] = about("steps that do not apply")
