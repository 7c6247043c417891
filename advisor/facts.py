"""Builds the facts the engines match from a validated profile, following the compiled plan.

The plan is turned once into generated Python functions (one for the profile fact, one
per collection's item facts), so building the facts of a profile costs a few
attribute reads per key rather than a walk per key.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

from . import ir
from .compiler import Accessor, Compiled
from .language import Derived, Ref
from .models import Profile


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


def _items_of(value: Any) -> list:
    return list(value) if value else []


def compute(derived: Derived, profile: Profile, item: Any, as_of: date) -> Any:
    """The value of a computed derived fact (None when an input is missing)."""
    func, args = derived.compute

    def val(ref: Ref) -> Any:
        return get_path(item if ref.scope == "item" else profile, ref.path)

    if func == "count":
        return len(val(args[0]) or ())
    if func in ("distinct", "count_set", "common"):
        ref = args[0]
        values = [get_path(it, ref.path) for it in _items_of(get_path(profile, ref.collection))]
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
        first, second = ([v] if isinstance(v, str) else v for v in values)
        return len(set(first) & set(second))
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


class _Source:
    """Generates the statements that compute each key of a fact into the dict `f`."""

    def __init__(self, builder: "FactsBuilder"):
        self.builder = builder
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def walk(self, root: str, path: tuple[str, ...], indent: str) -> None:
        self.lines.append(f"{indent}v = {root}")
        for part in path:
            self.lines.append(f"{indent}if v is not None: v = v.{part}")

    def key(self, key: str, acc: Accessor, indent: str = "    ") -> None:
        ref, mode, out = acc.ref, acc.mode, f"f[{key!r}]"
        add = self.lines.append
        if ref.scope == "derived" or (ref.scope == "item" and ref.path[0] in self.builder.item_measures.get(ref.collection, ())):
            d = self.builder.derived[ref.path[0]]
            root = "it" if ref.scope == "item" else "None"
            add(f"{indent}v = _compute({self.const(d)}, p, {root}, as_of)")
            if ref.scope == "derived":
                add(f"{indent}m[{d.name!r}] = v")
            add(f"{indent}if v is not None: {out} = _number(v)")
            return
        self.walk("it" if ref.scope == "item" else "p", ref.path, indent)
        if mode == "count":
            add(f"{indent}{out} = len(v) if v else 0")
        elif mode == "has":
            add(f"{indent}if v and {acc.arg!r} in v: {out} = True")
        elif mode == "present" or ref.type.kind in ("object", "list", "collection"):
            add(f"{indent}if v is not None: {out} = True")
        elif ref.type.kind in ("int", "number"):
            add(f"{indent}if v is not None: {out} = _number(v)")
        elif ref.type.kind == "date":
            add(f"{indent}if v is not None: {out} = v.isoformat()")
        else:
            add(f"{indent}if v is not None: {out} = v")

    def function(self, name: str, signature: str, body: Callable[[], None]) -> Callable:
        self.lines = [f"def {name}({signature}):", "    f = {}"]
        body()
        self.lines.append("    return f")
        namespace = {"_compute": compute, "_number": number, **self.constants}
        exec(compile("\n".join(self.lines) + "\n", f"<advisor facts: {name}>", "exec"), namespace)
        return namespace[name]


class FactsBuilder:
    """Turns a Profile into the flat facts of each stage; built once per compiled rule set."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self.plan = compiled.plan
        self.derived: dict[str, Derived] = {d.name: d for d in compiled.ruleset.derived}
        self.item_measures: dict[tuple, set[str]] = {}
        for d in compiled.ruleset.derived:
            if d.for_each is not None:
                self.item_measures.setdefault(d.for_each, set()).add(d.name)
        # The profile keys each scope's item facts need (the rest of the profile fact is not copied into items).
        self.scope_keys: dict[str, tuple[str, ...]] = {}
        item_key_sets = {self.plan.scopes[c]: set(self.plan.items.get(c, {})) for c in self.plan.scopes}
        for stage in compiled.stages:
            for rule in stage.rules:
                if rule.scope is not None:
                    wanted = ir.keys_of(rule.condition) - item_key_sets[rule.scope]
                    self.scope_keys[rule.scope] = tuple(sorted(set(self.scope_keys.get(rule.scope, ())) | wanted))
        # Profile keys split into those decided by the engine (case-derived facts) and the rest.
        self.decided: dict[str, str] = {}
        fixed: dict[str, Accessor] = {}
        for key, acc in self.plan.profile.items():
            if acc.ref.scope == "derived" and not self.derived[acc.ref.path[0]].compute:
                self.decided[key] = acc.ref.path[0]
            else:
                fixed[key] = acc
        self.scopes_read_decided = any(k in self.decided for keys in self.scope_keys.values() for k in keys)

        src = _Source(self)
        self.build_base = src.function("profile_fact", "p, as_of, m", lambda: [src.key(k, a) for k, a in fixed.items()])
        self.build_item: dict[tuple, Callable] = {}
        for collection, accessors in self.plan.items.items():
            src = _Source(self)
            self.build_item[collection] = src.function(
                "item_fact", "p, it, as_of", lambda: [src.key(k, a) for k, a in accessors.items()]
            )

    def base(self, profile: Profile, as_of: date) -> "ProfileFacts":
        """The facts of a profile before the engine decides any derived fact."""
        return ProfileFacts(self, profile, as_of)


class ProfileFacts:
    """The facts of one profile, completed stage by stage as the engine decides derived facts."""

    def __init__(self, builder: FactsBuilder, profile: Profile, as_of: date):
        self.builder = builder
        self.items: dict[tuple, list[dict[str, Any]]] = {}
        for collection, build in builder.build_item.items():
            self.items[collection] = [build(profile, item, as_of) for item in _items_of(get_path(profile, collection))]
        #: computed derived facts read by the rules, by name (raw values, for the report)
        self.measures: dict[str, Any] = {}
        base = builder.build_base(profile, as_of, self.measures)
        for collection, key in builder.plan.lists.items():
            base[key] = self.items[collection]
        self.base = base
        self._scoped: dict[str, list[dict[str, Any]]] | None = None

    def stage(self, derived: dict[str, Any]) -> ir.Facts:
        builder = self.builder
        fact = dict(self.base)
        for key, name in builder.decided.items():
            v = derived.get(name)
            if v is not None:
                fact[key] = v
        if not builder.plan.scopes:
            return ir.Facts(fact, {})
        if self._scoped is not None and not builder.scopes_read_decided:
            return ir.Facts(fact, self._scoped)
        scoped: dict[str, list[dict[str, Any]]] = {}
        for collection, scope in builder.plan.scopes.items():
            shared = {k: fact[k] for k in builder.scope_keys.get(scope, ()) if k in fact}
            scoped[scope] = [{**row, **shared, "idx": i} for i, row in enumerate(self.items[collection])]
        self._scoped = scoped
        return ir.Facts(fact, scoped)
