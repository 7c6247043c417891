"""Builds the facts the engines match from a validated profile, following the compiled plan.

The plan is turned once into generated Python functions (one for the profile fact, one
per collection's item facts), so building the facts of a profile costs a few
attribute reads per key rather than a walk per key.
"""

from __future__ import annotations

import marshal
import math
import sys
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from . import ir
from ..language.compiler import Accessor, Compiled
from ..language.syntax import Derived

if TYPE_CHECKING:
    from ..profile.models import Profile


def get_path(obj: Any, path: tuple) -> Any:
    """Follow attribute names and list indices from obj; None when any step is unset."""
    for part in path:
        if obj is None:
            return None
        if type(part) is str:
            obj = getattr(obj, part, None)
        else:
            obj = obj[part] if part < len(obj) else None
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


@lru_cache(maxsize=8192)  # values and names repeat across a profile's items and across profiles
def said_alike(text: str) -> str:
    """Words people write alike compared as one: case, spacing, hyphens and a plural 's' do not count
    ("Community Trust", "community-trust" and "community trusts" are the same value)."""
    words = text.casefold().replace("-", " ").replace("_", " ").split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def _said(values: Any) -> set:
    return {said_alike(v) if isinstance(v, str) else v for v in values}


def _items_of(value: Any) -> list:
    return list(value) if value else []


def _getter(path: tuple) -> Callable[[Any], Any]:
    """A function reading a dotted attribute path, None when any step is unset."""
    if len(path) == 1:
        name = path[0]
        return lambda obj: None if obj is None else getattr(obj, name)
    if len(path) == 2:
        first, second = path

        def get2(obj: Any) -> Any:
            obj = None if obj is None else getattr(obj, first)
            return None if obj is None else getattr(obj, second)

        return get2
    return lambda obj: get_path(obj, path)


def _count_set(values: list) -> int:
    return sum(1 for v in values if v not in (None, [], ""))


def _distinct(values: list) -> int:
    seen: set = set()
    for v in values:
        if isinstance(v, list):
            seen.update(v)
        elif v is not None:
            seen.add(v)
    return len(seen)


def _common(values: list) -> int | None:
    lists = [_said(v) for v in values if v]
    return len(set.intersection(*lists)) if len(lists) >= 2 else None


#: The measures over a collection's items: the values of one field of every item -> the measure (an int, or None).
_OVER_ITEMS: dict[str, Callable[[list], Any]] = {"count_set": _count_set, "distinct": _distinct, "common": _common}


def _overlap(as_of: date, first: Any, second: Any) -> int:
    if isinstance(second, str):  # a name against a name or a list of them (the lead partner): one word to find
        word = said_alike(second)
        if isinstance(first, str):
            return 1 if said_alike(first) == word else 0
        return 1 if word in _said(first) else 0
    first = [first] if isinstance(first, str) else first
    return len(_said(first) & _said(second))


def _ratio(as_of: date, a: Any, b: Any) -> Any:
    return a / b if b else None


def _difference(as_of: date, a: Any, b: Any) -> Any:
    return a - b


def _days_since(as_of: date, d: Any) -> int:
    return (as_of - d).days


def _progress(as_of: date, b: Any, t: Any, a: Any) -> Any:
    return (a - b) / (t - b) if t != b else None


def _compile_measure(derived: Derived) -> Callable[[Any, Any, date], Any]:
    func, args = derived.compute
    if func in _OVER_ITEMS:
        ref = args[0]
        items_of, field = _getter(ref.collection), _getter(ref.path)
        over = _OVER_ITEMS[func]
        return lambda p, it, as_of: over([field(it) for it in items_of(p) or ()])

    getters = [(a.scope == "item", _getter(a.path)) for a in args]

    def read(p: Any, it: Any) -> list:
        return [g(it if on_item else p) for on_item, g in getters]

    if func == "count":
        on_item, g = getters[0]
        return lambda p, it, as_of: len(g(it if on_item else p) or ())

    body = _OF_INPUTS.get(func)
    if body is None:
        raise AssertionError(func)
    # Specialised for one and two inputs (every measure but progress): no list of values to build per call.
    if len(getters) == 1:
        (on_item, g), = getters

        def run1(p: Any, it: Any, as_of: date) -> Any:
            a = g(it if on_item else p)
            return None if a is None else body(as_of, a)
        return run1
    if len(getters) == 2:
        (on_item1, g1), (on_item2, g2) = getters

        def run2(p: Any, it: Any, as_of: date) -> Any:
            a = g1(it if on_item1 else p)
            if a is None:
                return None
            b = g2(it if on_item2 else p)
            return None if b is None else body(as_of, a, b)
        return run2

    def run(p: Any, it: Any, as_of: date) -> Any:
        values = read(p, it)
        return None if None in values else body(as_of, *values)
    return run


def _finite(body: Callable[..., Any]) -> Callable[..., Any]:
    """Arithmetic on finite numbers that stays finite: a result too large for a float (1e9 / 1e-300) is the
    largest float of its sign, which compares as infinity does with every threshold a rule can write and is
    still a JSON number; a result with no value (infinity minus infinity) is not set."""
    def run(*args: Any) -> Any:
        value = body(*args)  # profile numbers are floats (finite, checked by the model): no OverflowError
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else math.copysign(sys.float_info.max, value)
        return value
    return run


#: The measures of given inputs (None when one is missing): as_of and the inputs -> the measure.
_OF_INPUTS: dict[str, Callable[..., Any]] = {
    "overlap": _overlap, "ratio": _finite(_ratio), "difference": _finite(_difference), "days_since": _days_since,
    "progress": _finite(_progress),
}
#: The measures whose value is always a whole number well within the engines' range (number() leaves it as it is).
_WHOLE = frozenset({"count", "count_set", "distinct", "common", "overlap", "days_since"})

_MEASURES: dict[int, tuple[Derived, Callable[[Any, Any, date], Any]]] = {}


def _measure(derived: Derived) -> Callable[[Any, Any, date], Any]:
    entry = _MEASURES.get(id(derived))
    if entry is None or entry[0] is not derived:
        entry = _MEASURES[id(derived)] = (derived, _compile_measure(derived))
    return entry[1]


def compute(derived: Derived, profile: Profile, item: Any, as_of: date) -> Any:
    """The value of a computed derived fact (None when an input is missing)."""
    return _measure(derived)(profile, item, as_of)


class _Source:
    """Generates the statements that compute each key of a fact into the dict `f`."""

    def __init__(self, builder: "FactsBuilder"):
        self.builder = builder
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.sections: dict[str, str] = {}  # profile section -> local variable holding it
        self.reads: dict[tuple[str, tuple[str, ...]], str] = {}  # (root, path) -> local variable holding its value

    def const(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def read(self, root: str, path: tuple[str, ...]) -> str:
        """The local variable holding the value at path from root (p, the profile, or it, the item; neither is ever
        None), None when a step is unset: read once, by the first key that needs it (every statement of the function
        runs, in order, so a later key finds it set)."""
        name = self.reads.get((root, path))
        if name is not None:
            return name
        name = self.reads[(root, path)] = f"r{len(self.reads)}"
        add = self.lines.append
        if root == "p" and len(path) > 1:
            # Sections are read once at the top of the function, not once per key.
            section = self.sections.setdefault(path[0], f"s_{path[0]}")
            add(f"    {name} = None if {section} is None else {section}.{path[1]}")
            rest = path[2:]
        else:
            add(f"    {name} = {root}.{path[0]}")
            rest = path[1:]
        for part in rest:
            add(f"    if {name} is not None: {name} = {name}.{part}")
        return name

    def measure(self, d: Derived, on_item: bool) -> str:
        """The statements that leave a computed derived fact in v: a measure of a collection's items, or of inputs
        read as the keys' values are, written out; others through the measure's function (_measure)."""
        add = self.lines.append
        func, args = d.compute
        if func in _OVER_ITEMS and len(args[0].path) == 1:
            items = self.read("p", args[0].collection)
            values = f"[x.{args[0].path[0]} for x in {items}] if {items} else []"
            add(f"    v = {self.const(_OVER_ITEMS[func])}({values})")
            return func
        body = _OF_INPUTS.get(func)
        if body is not None and (on_item or all(a.scope != "item" for a in args)):
            inputs = [self.read("it" if a.scope == "item" else "p", a.path) for a in args]
            missing = " or ".join(f"{v} is None" for v in inputs)
            add(f"    v = None if {missing} else {self.const(body)}(as_of, {', '.join(inputs)})")
            return func
        add(f"    v = {self.const(_measure(d))}(p, {'it' if on_item else 'None'}, as_of)")
        return func

    def key(self, key: str, acc: Accessor) -> None:
        ref, mode, out = acc.ref, acc.mode, f"f[{key!r}]"
        add = self.lines.append
        if ref.scope == "derived" or (ref.scope == "item" and ref.path[0] in self.builder.item_measures.get(ref.collection, ())):
            d = self.builder.derived[ref.path[0]]
            func = self.measure(d, ref.scope == "item")
            if ref.scope == "derived":
                add(f"    m[{d.name!r}] = v")
            add(f"    if v is not None: {out} = {'v' if func in _WHOLE else '_number(v)'}")
            return
        v = self.read("it" if ref.scope == "item" else "p", ref.path)
        if mode == "count":
            add(f"    {out} = len({v}) if {v} else 0")
        elif mode == "has":
            add(f"    if {v} and {acc.arg!r} in {v}: {out} = True")
        elif mode == "present" or ref.type.kind in ("object", "list", "collection"):
            add(f"    if {v} is not None: {out} = True")
        elif ref.type.kind in ("int", "number"):
            add(f"    if {v} is not None: {out} = _number({v})")
        elif ref.type.kind == "date":
            add(f"    if {v} is not None: {out} = {v}.isoformat()")
        else:
            add(f"    if {v} is not None: {out} = {v}")

    def function(self, name: str, signature: str, body: Callable[[], None], index: str | None = None) -> Callable:
        self.lines, self.reads = [], {}
        body()
        head = [f"def {name}({signature}):", "    f = {'idx': idx}" if index else "    f = {}"]
        head += [f"    {local} = p.{section}" for section, local in self.sections.items()]
        self.lines = head + self.lines + ["    return f"]
        namespace = {"_compute": compute, "_number": number, **self.constants}
        source = "\n".join(self.lines) + "\n"
        code = self.builder.code
        blob = code.get(source)
        if blob is None:  # not compiled with the rules (or rules made before they kept it): compile it here
            blob = code[source] = marshal.dumps(compile(source, f"<advisor facts: {name}>", "exec"))
        exec(marshal.loads(blob), namespace)
        return namespace[name]


class FactsBuilder:
    """Turns a Profile into the flat facts of each stage; built once per compiled rule set."""

    def __init__(self, compiled: Compiled, code: dict[str, bytes] | None = None):
        """code: the generated functions compiled before (facts_code()), by their source; compiled here when not
        given, and added to it."""
        self.compiled = compiled
        self.code = code if code is not None else {}
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
            for scope, keys in stage.reads.items():  # not stage.rules: a stage from the cache keeps them pickled
                if scope is not None:
                    wanted = keys - item_key_sets[scope]
                    self.scope_keys[scope] = tuple(sorted(set(self.scope_keys.get(scope, ())) | wanted))
        # Profile keys split into those decided by the engine (case-derived facts) and the rest.
        self.decided: dict[str, str] = {}
        fixed: dict[str, Accessor] = {}
        for key, acc in self.plan.profile.items():
            if acc.ref.scope == "derived" and not self.derived[acc.ref.path[0]].compute:
                self.decided[key] = acc.ref.path[0]
            else:
                fixed[key] = acc

        src = _Source(self)
        self.build_base = src.function("profile_fact", "p, as_of, m", lambda: [src.key(k, a) for k, a in fixed.items()])
        self.build_item: dict[tuple, Callable] = {}
        for collection, accessors in self.plan.items.items():
            src = _Source(self)
            self.build_item[collection] = src.function(
                "item_fact", "p, it, as_of, idx", lambda: [src.key(k, a) for k, a in accessors.items()], "idx"
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
            self.items[collection] = [build(profile, item, as_of, i) for i, item in enumerate(_items_of(get_path(profile, collection)))]
        #: computed derived facts read by the rules, by name (raw values, for the report)
        self.measures: dict[str, Any] = {}
        base = builder.build_base(profile, as_of, self.measures)
        for collection, key in builder.plan.lists.items():
            base[key] = self.items[collection]
        self.base = base
        # Item facts of the for_each scopes carry their index, so a finding can name its item.
        self.rows = {scope: self.items[collection] for collection, scope in builder.plan.scopes.items()}
        self._decided = 0  # how many derived facts the fact holds

    def stage(self, derived: dict[str, Any]) -> ir.Facts:
        builder = self.builder
        # Stages only add facts (derived facts once decided stay decided), so the fact grows in place.
        fact = self.base
        if len(derived) != self._decided:  # (none before the first stage, often none new before the last)
            self._decided = len(derived)
            for key, name in builder.decided.items():
                v = derived.get(name)
                if v is not None:
                    fact[key] = v
        return ir.Facts(fact, self.rows, builder.scope_keys)


def facts_code(compiled: Compiled) -> dict[str, bytes]:
    """The facts builder's generated functions, compiled (and marshalled) by their source: made once when the rules
    are built and cached with them, as the python engine's stages are (compiling them costs ~20 ms a start)."""
    return FactsBuilder(compiled).code
