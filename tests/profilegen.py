"""Generates valid, varied partnership profiles (as plain dicts) for property tests and benchmarks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, get_args

from advisor.profile import models

SECTORS = get_args(models.Sector)
FOCUSES = get_args(models.Focus)
CONTRIBUTIONS = get_args(models.Contribution)
VALUES = ["respect", "accountability", "ubuntu", "transparency", "child safety", "integrity", "service"]
PLACES = ["Khayelitsha", "Soweto", "Mamelodi", "Umlazi", "Mitchells Plain", "Galeshewe", "Mdantsane", "Polokwane"]


def _maybe(rng: random.Random, p: float = 0.8) -> bool:
    return rng.random() < p


def _bool(rng: random.Random) -> bool | None:
    return rng.choice([True, True, False, None])


def _choice(rng: random.Random, literal: Any) -> Any:
    return rng.choice(get_args(literal) + (None,))


def random_profile(rng: random.Random, partners: int | None = None) -> dict[str, Any]:
    """A valid profile: every section present or left out at random, cross-references consistent."""
    n = partners if partners is not None else rng.randint(1, 8)
    place = rng.choice(PLACES)
    names = [f"{place} {rng.choice(['CPF', 'SAPS', 'School', 'Trust', 'Church', 'Business Forum', 'Clinic'])} {i}" for i in range(n)]
    goal_ids = [f"g{i}" for i in range(rng.randint(0, 4))]
    profile: dict[str, Any] = {"name": f"{place} Safety Partnership", "partners": []}
    for i, name in enumerate(names):
        partner: dict[str, Any] = {"name": name}
        if _maybe(rng):
            partner["sector"] = rng.choice(SECTORS)
        if _maybe(rng, 0.6):
            partner["role"] = "Coordinates patrols"
            partner["responsibilities"] = rng.sample(["patrols", "reporting", "venue", "outreach"], rng.randint(0, 2))
        if _maybe(rng, 0.6):
            partner["contributes"] = rng.sample(CONTRIBUTIONS, rng.randint(0, 3))
        if goal_ids and _maybe(rng, 0.7):
            partner["objectives"] = rng.sample(goal_ids, rng.randint(0, len(goal_ids)))
        if _maybe(rng, 0.6):
            partner["values"] = rng.sample(VALUES, rng.randint(0, 3))
        if _maybe(rng, 0.6):
            partner["benefits"] = rng.sample(["fewer incidents", "trust", "visibility"], rng.randint(0, 2))
        for key, literal in (("commitment", models.Commitment), ("relationship", models.Relationship)):
            if _maybe(rng, 0.6):
                partner[key] = _choice(rng, literal)
        for key in ("leader_engaged", "executive_sponsor"):
            if _maybe(rng, 0.6):
                partner[key] = _bool(rng)
        if n > 1 and _maybe(rng, 0.15):
            partner["competes_with"] = [rng.choice([x for x in names if x != name])]
        profile["partners"].append({k: v for k, v in partner.items() if v is not None})
    if _maybe(rng):
        profile["lead_partner"] = rng.choice(names)
    if _maybe(rng):
        profile["stage"] = rng.choice(get_args(models.StageName))
    if _maybe(rng, 0.5):
        profile["stakeholder_mapping_done"] = rng.choice([True, False])
    if _maybe(rng):
        profile["purpose"] = {k: v for k, v in {
            "statement": "Reduce violence around schools" if _maybe(rng) else None,
            "common_understanding": _bool(rng), "shared_vision": _bool(rng), "transparent_decisions": _bool(rng),
        }.items() if v is not None}
    if _maybe(rng, 0.6):
        profile["values"] = {"shared": rng.sample(VALUES, rng.randint(0, 3)), "differences_acknowledged": rng.choice([True, False]),
                             "status_barriers": rng.choice([True, False])}
    if goal_ids:
        profile["goals"] = [{k: v for k, v in {"id": g, "statement": f"Goal {g}", "priority": rng.choice([1, 2, 3, None]),
                                                 "measurable": _bool(rng), "owner": rng.choice(names + [None])}.items() if v is not None}
                            for g in goal_ids]
    if _maybe(rng, 0.6):
        profile["approach"] = rng.choice(get_args(models.Approach))
    if _maybe(rng):
        profile["type"] = {k: v for k, v in {"formality": _choice(rng, models.Formality), "shared_strategy": _bool(rng),
                                             "agreement": _choice(rng, models.Agreement)}.items() if v is not None}
    if _maybe(rng):
        required = rng.choice([0, 10_000, 450_000, 1_200_000])
        profile["funding"] = {k: v for k, v in {
            "model": _choice(rng, models.FundingModel), "budget_required": required,
            "budget_committed": round(required * rng.random()), "currency": "ZAR",
            "cost_sharing_agreed": _bool(rng)}.items() if v is not None}
    if _maybe(rng):
        start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
        if _maybe(rng, 0.5):
            profile["duration"] = {"start": start.isoformat(), "end": (start + timedelta(days=rng.choice([0, 20, 200, 730]))).isoformat()}
        else:
            profile["duration"] = {"months": rng.choice([0.5, 3, 12, 24, 36])}
    if _maybe(rng):
        profile["level"] = rng.choice(get_args(models.LevelName))
    if _maybe(rng):
        profile["activities"] = {k: rng.choice([True, False]) for k in
                                 ("joint_planning", "mutual_consultation", "information_sharing", "common_messages", "shared_resources")}
    if _maybe(rng, 0.6):
        profile["committee"] = {"exists": rng.choice([True, False]), "members": rng.randint(0, 15),
                                "sectors_represented": rng.sample(SECTORS, rng.randint(0, 4)),
                                "community_representatives": rng.choice([True, False]), "recruits_partners": rng.choice([True, False])}
    if _maybe(rng, 0.6):
        profile["leadership"] = {"local": rng.choice([True, False]), "community_structures_roles_defined": rng.choice([True, False])}
    if _maybe(rng):
        profile["governance"] = {k: rng.choice([True, False]) for k in
                                 ("roles_documented", "protocol", "processes_documented", "conflict_resolution",
                                  "ip_and_ownership_agreement", "data_sharing_agreement", "screening_and_referral_protocol")}
        profile["governance"]["decision_making"] = rng.choice(get_args(models.DecisionMaking))
    if _maybe(rng):
        profile["communication"] = {"plan": rng.choice([True, False]), "frequency": rng.choice(get_args(models.Frequency)),
                                    "channels": rng.sample(["meetings", "whatsapp", "facebook", "radio"], rng.randint(0, 3)),
                                    "significance_communicated": rng.choice([True, False]), "lessons_shared": rng.choice([True, False]),
                                    "outreach": rng.sample(get_args(models.Outreach), rng.randint(0, 3))}
    if _maybe(rng, 0.6):
        profile["resources"] = {"sources_identified": rng.choice([True, False]), "staff_assigned": rng.choice([True, False]),
                                "skills_gaps": rng.sample(["facilitation", "data analysis"], rng.randint(0, 2)), "assumptions": []}
    if _maybe(rng, 0.6):
        profile["risks"] = [{k: v for k, v in {"description": f"Risk {i}", "likelihood": _choice(rng, models.Rating),
                                                "impact": _choice(rng, models.Rating),
                                                "mitigation": "Brief deputies" if _maybe(rng, 0.5) else None,
                                                "owner": rng.choice(names + [None])}.items() if v is not None}
                            for i in range(rng.randint(0, 3))]
    if _maybe(rng, 0.7):
        kpis = []
        for i in range(rng.randint(0, 3)):
            baseline = rng.choice([10, 100, 120])
            kpis.append({k: v for k, v in {"name": f"KPI {i}", "baseline": baseline, "target": rng.choice([baseline, baseline // 2, baseline * 2]),
                                            "actual": rng.choice([None, baseline - 5, baseline + 5]), "unit": "incidents",
                                            "agreed_by_all": _bool(rng)}.items() if v is not None})
        profile["monitoring"] = {k: v for k, v in {
            "kpis": kpis, "review_frequency": _choice(rng, models.ReviewFrequency),
            "last_review": (date(2025, 6, 1) + timedelta(days=rng.randint(0, 500))).isoformat() if _maybe(rng, 0.6) else None,
            "reports_progress": _bool(rng), "lessons_learned_shared": _bool(rng)}.items() if v is not None}
    if _maybe(rng, 0.6):
        profile["trust"] = {"prior_collaboration": rng.choice([True, False]), "level": rng.choice(get_args(models.Rating))}
    _focus(profile, names)
    return profile


def _focus(profile: dict[str, Any], names: list[str]) -> None:
    """What the partnership is for, who is most affected, and disputes between partners, drawn from a generator
    seeded by the profile itself, so the profiles drawn before these fields existed stay as they were."""
    rng = random.Random(repr(profile))
    if _maybe(rng, 0.6):
        profile["focus"] = rng.sample(FOCUSES, rng.randint(0, 3))
    if _maybe(rng, 0.4):
        profile["affected"] = rng.sample(["commuters", "learners", "farm workers", "traders"], rng.randint(0, 2))
    if len(names) > 1 and _maybe(rng, 0.5) and "lead_partner" not in profile:
        profile["lead_partner"] = rng.choice(names)
    for risk in profile.get("risks", ()):
        if len(names) > 1 and _maybe(rng, 0.3):
            risk["between"] = rng.sample(names, 2)
    # Drawn after the risks' disputes, from the same generator, so the profiles drawn before stay as they were.
    for goal in profile.get("goals", ()):
        if len(names) > 1 and _maybe(rng, 0.2):
            goal["between"] = rng.sample(names, 2)
