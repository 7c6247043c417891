"""Runs compiled rules on a profile with an engine and turns what fired into findings."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from . import __version__
from .language.compiler import Compiled, Variant, refs_of
from .errors import EngineError
from .engine.facts import FactsBuilder, compute, get_path
from .language.parser import Ref, Template
from .profile.validation import LoadedProfile
from .words import path_text as field_path
from .rulebook import Rulebook
from .report.findings import Evidence, Finding, Hit, Level, Recommendation, Report
from .vocabulary import SEVERITY_ORDER, SUBJECT_FIELD


def show(value: Any, fmt: str = "") -> str:
    """A value as a committee member reads it in a message."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if fmt == "%":
            return f"{value * 100:.0f}%"
        if fmt == ",":
            return f"{value:,.0f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return f"{value:g}" if isinstance(value, float) else str(value)
    return str(value).replace("_", " ") if str(value).isidentifier() else str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class _Atom(NamedTuple):
    """One source of evidence rows: a ref, read for the finding's own item or not, in a finding about one item
    or not, directly or through a derived fact (which decides how many items of a collection are shown)."""

    ref: Ref
    own: bool
    per_item: bool
    via_derived: bool


class _Plan(NamedTuple):
    """How to explain one engine rule, worked out on first use."""

    rule: Any
    severity: str
    because: str | None
    atoms: tuple[tuple[int, _Atom, bool], ...]  # each with its number (its rows' key in a profile's memo) and own
    overlap: bool  # two atoms may write the same path; the first row of a path is kept
    message: "str | Template"  # a str when the template reads nothing
    advice: "str | Template"


def _static(template: Template) -> "str | Template":
    return "".join(template.parts) if all(isinstance(p, str) for p in template.parts) else template


#: Items of a collection shown one by one in a finding's evidence before a summary row.
EVIDENCE_ITEMS = 20


class Evaluator:
    """Compiled rules bound to one engine: evaluates profiles one after another."""

    def __init__(self, rulebook: Rulebook, backend: Any):
        self.compiled = compiled = rulebook.compiled
        self.backend = backend
        self.knowledge = knowledge = rulebook.knowledge
        self.builder = FactsBuilder(compiled)
        self.rules_version = rulebook.version
        self.derived = {d.name: d for d in compiled.ruleset.derived}
        self.computed = [d for d in compiled.ruleset.derived if d.compute and d.for_each is None]
        self._guide_order = {
            v.rule.id: min((knowledge.order(r) for r in v.rule.refs), default=10**6) for v in compiled.variants.values()
        }
        #: what each engine rule id means when it fires: a Hit (on an item, with its index),
        #: or a derived fact's (name, value) for the cases of derived facts
        self._fired: dict[str, Hit | tuple[str, str]] = dict(compiled.cases)
        for eid, v in compiled.variants.items():
            self._fired[eid] = Hit(SEVERITY_ORDER[v.severity], self._guide_order[v.rule.id], v.rule.id, -1, eid, v.rule.kind, v.severity)
        self._plans: dict[tuple[str, bool], _Plan] = {}
        self._atom_ids: dict[_Atom, int] = {}
        # An engine that can hand back these meanings itself saves a lookup per fired rule.
        self._resolved = hasattr(backend, "resolve")
        if self._resolved:
            backend.resolve(
                {eid: ("hit" if type(m) is Hit else "case", m) for eid, m in self._fired.items()},
                lambda h, idx: Hit(h[0], h[1], h[2], idx, h[4], h[5], h[6]),
            )

    # -- running ------------------------------------------------------------------
    def decide(self, loaded: LoadedProfile, as_of: date) -> tuple[dict[str, Any], list[Hit]]:
        """Run every stage; return the derived facts the engine decided and the rules that fired, in report order."""
        facts = self.builder.base(loaded.profile, as_of)
        derived: dict[str, Any] = {}
        hits: list[Hit] = []
        table = self._fired
        resolved = self._resolved
        for stage in self.compiled.stages:
            # Order does not matter: the cases of a derived fact exclude each other, and the
            # hits are sorted once all stages have run.
            if resolved:
                fired, cases = self.backend.run_resolved(stage.index, facts.stage(derived))
                hits.extend(fired)
                for name, value in cases:
                    if name in derived and derived[name] != value:
                        raise EngineError(f"derived fact '{name}' was decided twice ({derived[name]}, {value})")
                    derived[name] = value
                continue
            for engine_id, idx in self.backend.run(stage.index, facts.stage(derived)):
                h = table[engine_id]
                if type(h) is Hit:
                    hits.append(h if idx is None else Hit(h[0], h[1], h[2], idx, h[4], h[5], h[6]))
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
        hits, waived, expired = self.apply_waivers(loaded, hits, as_of)
        profile = loaded.profile
        structure = tuple(dict.fromkeys(h.rule for h in hits if h.kind == "structure"))
        recommendation = Recommendation(
            formality=derived.get("recommended_formality"),
            agreement=derived.get("recommended_agreement"),
            level=Level(profile.level, derived.get("evidenced_level"), derived.get("recommended_level")),
            stakeholder_mix=derived.get("stakeholder_mix"),
            term=derived.get("term"),
            structure=structure,
        )
        memo: dict = {}

        def explain(hit: Hit) -> Finding:
            return self.finding(loaded, derived, hit, as_of, memo)

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
        )

    def finding(self, loaded: LoadedProfile, derived: dict, hit: Hit, as_of: date, memo: dict) -> Finding:
        idx = None if hit.item_index < 0 else hit.item_index
        plan = self._plans.get((hit.engine_id, idx is not None))
        if plan is None:
            plan = self._plans[hit.engine_id, idx is not None] = self._plan(hit.engine_id, idx is not None)
        rule = plan.rule
        item = None
        subject = None
        if rule.for_each is not None and idx is not None:
            item = get_path(loaded.profile, rule.for_each)[idx]
            subject = str(getattr(item, SUBJECT_FIELD[".".join(rule.for_each)]))
        # Evidence rows of each atom are written once per profile and shared by every finding that reads it.
        rows = []
        for key, atom, own in plan.atoms:
            if own:
                key = (key, idx)
            found = memo.get(key)
            if found is None:
                found = memo[key] = tuple(self._rows(loaded, derived, atom, idx if own else None, as_of))
            rows.extend(found)
        if plan.overlap:
            first: dict[str, Evidence] = {}
            for ev in rows:
                first.setdefault(ev.path, ev)
            rows = list(first.values())
        message, advice = plan.message, plan.advice
        return Finding(
            rule=rule.id,
            kind=rule.kind,
            severity=plan.severity,
            title=rule.title,
            message=message if type(message) is str else self.render(message, loaded, derived, item, as_of),
            advice=advice if type(advice) is str else self.render(advice, loaded, derived, item, as_of),
            guide_refs=rule.refs,
            evidence=tuple(rows),
            subject=subject,
            note=plan.because,
            guide_order=self._guide_order[rule.id],
            item_index=-1 if idx is None else idx,
        )

    def _plan(self, engine_id: str, per_item: bool) -> "_Plan":
        """What explaining a variant reads, worked out once: the evidence atoms in the order a reader sees them
        (a derived fact, then what it reads in turn, depth first), each once."""
        variant: Variant = self.compiled.variants[engine_id]
        rule = variant.rule
        refs = list(self.compiled.reads[rule.id])
        if variant.because is not None:
            for p in rule.proportion:
                if p.because == variant.because:
                    refs += refs_of(p.when)
        atoms: dict[_Atom, None] = {}

        def add(ref: Ref, via_derived: bool, seen: frozenset) -> None:
            own = per_item and not via_derived and ref.scope == "item" and ref.collection == rule.for_each
            item = ref.scope == "item"
            atoms.setdefault(_Atom(ref, own, per_item and item, via_derived and item))
            if ref.scope == "derived" and ref.path[0] not in seen:
                for sub in self.compiled.reads.get(f"derived:{ref.path[0]}", ()):
                    add(sub, True, seen | {ref.path[0]})

        for ref in refs:
            add(ref, False, frozenset())
        # Only rows over the items of one collection can share a path (one item's row and the same row
        # over all items); elsewhere every atom writes paths of its own.
        item_fields = [(a.ref.collection, a.ref.path) for a in atoms if a.ref.scope == "item"]
        ids = self._atom_ids
        return _Plan(
            rule=rule,
            severity=variant.severity,
            because=variant.because,
            atoms=tuple((ids.setdefault(a, len(ids)), a, a.own) for a in atoms),
            overlap=len(item_fields) != len(set(item_fields)),
            message=_static(rule.message),
            advice=_static(rule.advice),
        )

    def value_of(self, ref: Ref, loaded: LoadedProfile, derived: dict, item: Any, as_of: date) -> Any:
        if ref.scope == "derived":
            return derived.get(ref.path[0])
        if ref.scope == "item":
            d = self.derived.get(ref.path[0])
            if d is not None and d.for_each == ref.collection:
                return compute(d, loaded.profile, item, as_of)
            return get_path(item, ref.path)
        return get_path(loaded.profile, ref.path)

    def render(self, template: Template, loaded: LoadedProfile, derived: dict, item: Any, as_of: date) -> str:
        out = []
        for part in template.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                ref, fmt = part
                out.append(show(self.value_of(ref, loaded, derived, item, as_of), fmt))
        return "".join(out)

    def _rows(self, loaded: LoadedProfile, derived: dict, atom: "_Atom", idx: int | None, as_of: date):
        """Evidence rows of one atom. Rows over every item of a collection are bounded: at most
        EVIDENCE_ITEMS items, and in a finding about one item, a derived fact that reads the whole
        collection (such as the number of sectors) shows one summary row, so evidence stays
        linear in the number of partners."""
        profile = loaded.profile
        ref = atom.ref

        def make(path: tuple, value: Any, note: str | None = None) -> Evidence:
            return Evidence(field_path(path), _json_value(value), loaded.line(path), note)

        if ref.scope == "derived":
            name = ref.path[0]
            value = derived.get(name)
            yield Evidence(f"derived.{name}", round(value, 4) if isinstance(value, float) else value, None,
                           self.derived[name].description)
            return
        if ref.scope == "item":
            coll = ref.collection
            items = get_path(profile, coll) or []
            d = self.derived.get(ref.path[0])
            shown = [idx] if idx is not None else range(min(len(items), 0 if (atom.per_item and atom.via_derived) else EVIDENCE_ITEMS))
            for i in shown:
                if d is not None and d.for_each == coll:
                    value = compute(d, profile, items[i], as_of)
                    yield make(coll + (i, ref.path[0]), round(value, 4) if isinstance(value, float) else value, d.description)
                else:
                    yield make(coll + (i,) + ref.path, get_path(items[i], ref.path))
            if idx is None and len(items) > len(shown):
                rest = len(items) - len(shown)
                note = f"and {rest:,} more items (see the profile)" if shown else f"read for all {len(items):,} items"
                yield Evidence(f"{field_path(coll)}[*].{'.'.join(ref.path)}", None, None, note)
            return
        value = get_path(profile, ref.path)
        if ref.type.kind == "collection":
            yield make(ref.path, len(value or ()), "number of items")
        elif ref.type.kind == "object":
            yield make(ref.path, "set" if value is not None else None, None if value is not None else "section missing")
        else:
            yield make(ref.path, value)

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
