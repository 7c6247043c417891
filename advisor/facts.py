"""Builds the facts the engines match from a validated profile, following the compiled plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from . import ir
from .compiler import Accessor, Compiled
from .language import Derived, Ref
from .models import Profile

_ABSENT = object()


def get_path(obj: Any, path: tuple) -> Any:
    """Follow attribute names and list indices from obj; None when any step is unset."""
    for part in path:
        if obj is None:
            return None
        if isinstance(part, int):
            obj = obj[part] if part < len(obj) else None
        else:
            obj = getattr(obj, part, None)
    return obj


def number(value: float | int) -> float | int:
    """Normalise a number so both engines see the same value and durable-rules' JSON parser can read it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(min(value, 10**15), -(10**15))
    if value != value:  # NaN
        return 0
    if abs(value) >= 1e15:
        return int(1e15) if value > 0 else -int(1e15)
    if abs(value) < 1e-4:
        return 0
    value = round(value, 6)
    return int(value) if value.is_integer() else value


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _items_of(value: Any) -> list:
    return list(value) if value else []


class FactsBuilder:
    """Turns a Profile into the flat facts of each stage; built once per compiled rule set."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self.plan = compiled.plan
        self.derived: dict[str, Derived] = {d.name: d for d in compiled.ruleset.derived}
        # The profile keys each scope's item facts need (the rest of the profile fact is not copied into items).
        self.scope_keys: dict[str, tuple[str, ...]] = {}
        item_key_sets = {self.plan.scopes[c]: set(self.plan.items.get(c, {})) for c in self.plan.scopes}
        for stage in compiled.stages:
            for rule in stage.rules:
                if rule.scope is not None:
                    wanted = ir.keys_of(rule.condition) - item_key_sets[rule.scope]
                    self.scope_keys[rule.scope] = tuple(sorted(set(self.scope_keys.get(rule.scope, ())) | wanted))

    # -- values -------------------------------------------------------------------
    def measure(self, derived: Derived, profile: Profile, item: Any, as_of: date) -> Any:
        func, args = derived.compute

        def val(ref: Ref) -> Any:
            return get_path(item if ref.scope == "item" else profile, ref.path)

        if func == "count":
            return len(val(args[0]) or ())
        if func in ("distinct", "count_set", "common"):
            ref = args[0]
            items = _items_of(get_path(profile, ref.collection))
            values = [get_path(it, ref.path) for it in items]
            if func == "count_set":
                return sum(1 for v in values if v not in (None, [], ""))
            if func == "distinct":
                seen = set()
                for v in values:
                    if isinstance(v, list):
                        seen.update(v)
                    elif v is not None:
                        seen.add(v)
                return len(seen)
            lists = [set(v) for v in values if v]
            if len(lists) < 2:
                return None
            return len(set.intersection(*lists))
        values = [val(a) for a in args]
        if any(v is None for v in values):
            return None
        if func == "overlap":
            return len(set(values[0]) & set(values[1]))
        if func == "ratio":
            return values[0] / values[1] if values[1] else None
        if func == "difference":
            return values[0] - values[1]
        if func == "days_since":
            return (as_of - values[0]).days
        if func == "progress":
            baseline, target, actual = values
            return (actual - baseline) / (target - baseline) if target != baseline else None
        raise AssertionError(func)

    def value(self, acc: Accessor, profile: Profile, item: Any, derived: dict[str, Any], as_of: date) -> Any:
        ref = acc.ref
        if ref.scope == "derived":
            d = self.derived[ref.path[0]]
            if d.compute:
                raw = self.measure(d, profile, None, as_of)
                return _ABSENT if raw is None else number(raw)
            got = derived.get(ref.path[0])
            return _ABSENT if got is None else got
        if ref.scope == "item" and ref.path[0] in self.derived and self.derived[ref.path[0]].for_each == ref.collection:
            raw = self.measure(self.derived[ref.path[0]], profile, item, as_of)
            return _ABSENT if raw is None else number(raw)
        raw = get_path(item if ref.scope == "item" else profile, ref.path)
        mode = acc.mode
        if mode == "count":
            return len(raw or ())
        if mode == "has":
            return True if raw and acc.arg in raw else _ABSENT
        if raw is None:
            return _ABSENT
        if mode == "present" or ref.type.kind in ("object", "list", "collection"):
            return True
        return _scalar(raw)

    # -- facts --------------------------------------------------------------------
    def base(self, profile: Profile, as_of: date) -> "ProfileFacts":
        """Everything of a profile's facts that does not depend on derived facts decided by the engine."""
        return ProfileFacts(self, profile, as_of)


class ProfileFacts:
    """The facts of one profile, completed stage by stage as the engine decides derived facts."""

    def __init__(self, builder: FactsBuilder, profile: Profile, as_of: date):
        self.builder = builder
        self.profile = profile
        self.as_of = as_of
        plan = builder.plan
        self.items: dict[tuple, list[dict[str, Any]]] = {}
        for collection, accessors in plan.items.items():
            rows = []
            for item in _items_of(get_path(profile, collection)):
                row = {}
                for key, acc in accessors.items():
                    v = builder.value(acc, profile, item, {}, as_of)
                    if v is not _ABSENT:
                        row[key] = v
                rows.append(row)
            self.items[collection] = rows

    def stage(self, derived: dict[str, Any]) -> ir.Facts:
        builder, plan = self.builder, self.builder.plan
        fact: dict[str, Any] = {}
        for key, acc in plan.profile.items():
            v = builder.value(acc, self.profile, None, derived, self.as_of)
            if v is not _ABSENT:
                fact[key] = v
        for collection, key in plan.lists.items():
            fact[key] = self.items[collection]
        scoped: dict[str, list[dict[str, Any]]] = {}
        for collection, scope in plan.scopes.items():
            shared = {k: fact[k] for k in builder.scope_keys.get(scope, ()) if k in fact}
            scoped[scope] = [{**row, **shared, "idx": i} for i, row in enumerate(self.items[collection])]
        return ir.Facts(fact, scoped)
