"""Decides a profile: runs the rulebook on an engine, applies waivers, and makes the Report.

The decision (which rules fired, at what severity; the derived facts) is made here; the
findings are written out on first use by report.explain.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from . import __version__
from .engine import Backend
from .engine.facts import FactsBuilder, compute
from .errors import EngineError
from .profile.validation import LoadedProfile
from .report.explain import Explainer
from .report.findings import Finding, Hit, Level, Recommendation, Report
from .rulebook import Rulebook
from .report.problems import NEUTRAL, Advice
from .vocabulary import QUESTION, SEVERITY_ORDER, STAGES

_STAGE_INDEX = {stage: i for i, stage in enumerate(STAGES)}
#: How many Hits an Evaluator keeps for reuse before it starts again.
_MEMO_LIMIT = 50_000


def _due(knowledge: Any, ref: str) -> str:
    due = getattr(knowledge.get(ref), "due", None)  # advice beyond the guide is due when its rule's step is
    return due or STAGES[0]


def _is_due(due: str, stage: str | None) -> bool:
    """Whether a step due from `due` is due at `stage` (every step is, when the stage is not known)."""
    return stage is None or _STAGE_INDEX[due] <= _STAGE_INDEX[stage]


def _owners(profile: Any, rules: dict[str, Any]) -> Any:
    """Who owns a finding where the profile says: a risk's or a goal's owner. (A finding about a partner is not owned by
    that partner: who approaches it is for the committee to agree.)"""

    def owner_of(finding: Finding) -> str | None:
        rule = rules.get(finding.rule)
        if rule is None or rule.for_each is None or finding.item_index < 0:
            return None
        if rule.for_each in (("risks",), ("goals",)):
            items = getattr(profile, rule.for_each[0]) or ()
            return items[finding.item_index].owner if finding.item_index < len(items) else None
        return None

    return owner_of


class Evaluator:
    """Compiled rules bound to one engine: evaluates profiles one after another."""

    def __init__(self, rulebook: Rulebook, backend: Backend):
        self.compiled = compiled = rulebook.compiled
        self.backend = backend
        knowledge = rulebook.knowledge
        # a copy: a rulebook shared by several Advisors is never written to
        self.builder = FactsBuilder(compiled, dict(rulebook.facts_code or {}))
        self.rules_version = rulebook.version
        self.derived = {d.name: d for d in compiled.ruleset.derived}
        self.computed = [d for d in compiled.ruleset.derived if d.compute and d.for_each is None]
        self.explainer = explainer = Explainer(compiled, knowledge)
        #: what each engine rule id means when it fires: a Hit (on an item, with its index),
        #: or a derived fact's (name, value) for the cases of derived facts
        self._fired: dict[str, Hit | tuple[str, str]] = dict(compiled.cases)
        for eid, v in compiled.variants.items():
            self._fired[eid] = Hit(SEVERITY_ORDER[v.severity], explainer.guide_order[v.rule.id], v.rule.id, -1, eid, v.kind, v.severity)
        ruleset = compiled.ruleset
        self.rules = {rule.id: rule for rule in ruleset.rules}
        self.problems = ruleset.problems
        self.ranking = ruleset.ranking or NEUTRAL
        self._advice_memo: dict = {}  # Advice.memo: shared by every profile this evaluator advises on
        #: the stage from which each rule's step is due: its own `due`, else its main guide ref's (a marker
        #: of success or failure, or an id that is not a step, is due from the start)
        self.due = {rule.id: rule.due or _due(knowledge, rule.refs[0]) for rule in ruleset.rules}
        #: the guide's steps (actionable ids of its areas, not the markers of success and failure) and when each is due
        self.steps = [(sid, knowledge.sections[sid].due) for area in knowledge.areas for sid in area.ids
                      if knowledge.sections[sid].actionable]
        self._steps_due: dict[str | None, tuple[str, ...]] = {}
        #: the rules whose step is not yet due at each stage (worked out once per stage)
        self._not_due: dict[str | None, frozenset[str]] = {}
        #: the Hit of an engine rule id on an item index, and a question's Hit settled at a stage: made once and
        #: reused (Hits are immutable), emptied when they grow past _MEMO_LIMIT
        self._item_hits: dict[tuple[str, int], Hit] = {}
        self._settled: dict[tuple[Hit, str], Hit] = {}

    # -- running ------------------------------------------------------------------
    def decide(self, loaded: LoadedProfile, as_of: date) -> tuple[dict[str, Any], list[Hit]]:
        """Run every stage; return the derived facts the engine decided and the rules that fired, in report order."""
        facts = self.builder.base(loaded.profile, as_of)
        derived: dict[str, Any] = {}
        hits: list[Hit] = []
        table = self._fired
        item_hits = self._item_hits
        if len(item_hits) > _MEMO_LIMIT:
            item_hits.clear()
        for stage in self.compiled.stages:
            # Order does not matter: the cases of a derived fact exclude each other, and the
            # hits are sorted once all stages have run.
            for engine_id, idx in self.backend.run(stage.index, facts.stage(derived)):
                h = table[engine_id]
                if type(h) is Hit:
                    if idx is not None:
                        on_item = item_hits.get((engine_id, idx))
                        if on_item is None:
                            on_item = item_hits[(engine_id, idx)] = Hit(h[0], h[1], h[2], idx, h[4], h[5], h[6])
                        h = on_item
                    hits.append(h)
                    continue
                name, value = h
                if name in derived and derived[name] != value:
                    raise EngineError(f"derived fact '{name}' was decided twice ({derived[name]}, {value})")
                derived[name] = value
        hits.sort()
        # Computed facts are reported too, so a reader sees the numbers behind findings.
        for d in self.computed:
            value = facts.measures[d.name] if d.name in facts.measures else compute(d, loaded.profile, None, as_of)
            if value is not None:
                derived[d.name] = round(value, 4) if isinstance(value, float) else value
        # In the order the rule files declare them, whatever order the engine fired in.
        return {name: derived[name] for name in self.derived if name in derived}, hits

    def evaluate(self, loaded: LoadedProfile, as_of: date) -> Report:
        derived, hits = self.decide(loaded, as_of)
        stage = derived.get("working_stage")
        profile = loaded.profile
        skipped = {na.step: na.reason for na in profile.not_applicable or ()}
        advice = Advice(self.rules, self.problems, self.ranking, _owners(profile, self.rules),
                        self.steps_due(stage, skipped), self._advice_memo)
        if stage is not None:
            hits = self.settle_questions(hits, stage, advice)
        hits, waived, expired = self.apply_waivers(loaded, hits, as_of)
        hits, not_applicable = self.apply_not_applicable(hits, skipped)
        not_due = self._not_due.get(stage)
        if not_due is None:
            not_due = self._not_due[stage] = frozenset(r for r, due in self.due.items() if not _is_due(due, stage))
        later = [h for h in hits if h.rule in not_due and h.kind != "strength"]
        if later:
            hits = [h for h in hits if h.rule not in not_due or h.kind == "strength"]
        structure = tuple(dict.fromkeys(h.rule for h in hits if h.kind == "structure"))
        recommendation = Recommendation(
            formality=derived.get("recommended_formality"),
            agreement=derived.get("recommended_agreement"),
            level=Level(profile.level, derived.get("evidenced_level"), derived.get("recommended_level")),
            stakeholder_mix=derived.get("stakeholder_mix"),
            term=derived.get("term"),
            structure=structure,
        )
        # The JSON explain writes, by the id of each row, evidence tuple and finding it writes (report.explain); it
        # keeps the memo holding the rows, and the findings (which hold their evidence), so that no other object
        # can take the id of one while the JSON is kept.
        memo: dict = {}
        texts: dict = {None: memo}
        explain = partial(self.explainer.finding, loaded, derived, as_of, memo, texts)

        return Report(
            profile_name=profile.name,
            source=loaded.source,
            recommendation=recommendation,
            hits=tuple(hits),
            waived_hits=tuple(waived),
            expired_waivers=tuple(expired),
            derived=derived,
            engine=self.backend.name,
            as_of=as_of.isoformat(),
            advisor_version=__version__,
            rules_version=self.rules_version,
            explain=explain,
            later_hits=tuple(later),
            not_applicable_hits=tuple(not_applicable),
            stage=stage,
            currency=profile.funding.currency if profile.funding else None,
            advice=advice,
            rows=texts,
        )

    def steps_due(self, stage: str | None, skipped: dict[str, str]) -> tuple[str, ...]:
        """The guide's steps due at a stage, less those the profile says do not apply (worked out once per stage)."""
        due = self._steps_due.get(stage)
        if due is None:
            due = self._steps_due[stage] = tuple(sid for sid, when in self.steps if _is_due(when, stage))
        return tuple(sid for sid in due if sid not in skipped) if skipped else due

    def settle_questions(self, hits: list[Hit], stage: str, advice: Advice) -> list[Hit]:
        """Questions to settle at the severity the stage gives them (never above their rule's)."""
        settled = self._settled
        if len(settled) > _MEMO_LIMIT:
            settled.clear()
        out = []
        changed = False
        for h in hits:
            if h.kind == QUESTION:
                was = h
                h = settled.get((was, stage))
                if h is None:
                    severity = advice.question_severity(was.severity, stage)
                    h = settled[(was, stage)] = was._replace(severity=severity, severity_rank=SEVERITY_ORDER[severity])
                changed = changed or h is not was and h != was
            out.append(h)
        return sorted(out) if changed else out

    def apply_not_applicable(self, hits: list[Hit], skipped: dict[str, str]) -> tuple[list[Hit], list[Hit]]:
        """Findings whose main guide step the profile says does not apply, set aside with its reason."""
        if not skipped:
            return hits, []
        kept, aside = [], []
        for h in hits:
            step = self.rules[h.rule].refs[0]
            if step in skipped:
                aside.append(h._replace(waiver_reason=skipped[step]))
            else:
                kept.append(h)
        return kept, aside

    def apply_waivers(self, loaded: LoadedProfile, hits: list[Hit], as_of: date):
        waivers = {w.rule: w for w in loaded.profile.waivers or ()}
        if not waivers:
            return hits, [], []
        kept, waived, expired = [], [], []
        for h in hits:
            w = waivers.get(h.rule)
            if w is None or (w.until is not None and w.until < as_of):
                kept.append(h)
            else:
                waived.append(h._replace(waiver_reason=w.reason, waiver_until=w.until.isoformat() if w.until else None))
        for w in loaded.profile.waivers or ():
            if w.until is not None and w.until < as_of:
                expired.append({"rule": w.rule, "reason": w.reason, "until": w.until.isoformat(),
                                "note": f"waiver expired on {w.until.isoformat()}; the finding applies again"})
        return kept, waived, expired
