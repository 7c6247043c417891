"""Compiles checked rules into the engines' form: staged IR conditions and a plan of the facts they read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..engine import ir
from ..errors import RuleError
from .syntax import All, AnyOf, Check, Compare, Count, Not, Quantifier, Ref, Rule, RuleSet, refs_of

CHUNK = 50  # durable-rules fails past 64 sibling conditions per fact: keep rulesets well below


@dataclass(frozen=True)
class Accessor:
    """How the facts builder computes one key: mode is value | present | count | has | derived."""

    mode: str
    ref: Ref
    arg: Any = None


@dataclass
class FactPlan:
    """The keys the compiled rules read: profile-scope keys, and per collection the item keys."""

    profile: dict[str, Accessor] = field(default_factory=dict)
    items: dict[tuple[str, ...], dict[str, Accessor]] = field(default_factory=dict)
    #: collection path -> key of the list of item dicts in the profile fact (for quantifiers)
    lists: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: collections whose items are facts of their own (for_each rules)
    scopes: dict[tuple[str, ...], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """One engine rule derived from a rule: the rule itself, or one of its proportion cases."""

    rule: Rule
    severity: str
    because: str | None


@dataclass
class Compiled:
    """Rules compiled once, run by either engine for many profiles."""

    ruleset: RuleSet
    stages: tuple[ir.Stage, ...]
    plan: FactPlan
    variants: dict[str, Variant]  # engine rule id -> rule variant
    cases: dict[str, tuple[str, str]]  # engine rule id -> (derived name, value)
    reads: dict[str, tuple[Ref, ...]]  # rule id or "derived:<name>" -> refs its condition reads



def _slug(parts) -> str:
    return "__".join(re.sub(r"[^a-z0-9]+", "_", str(p).lower()).strip("_") or "x" for p in parts)


class _Keys:
    def __init__(self) -> None:
        self.plan = FactPlan()
        self._names: dict[tuple, str] = {}

    def _key(self, table: dict[str, Accessor], ident: tuple, base: str, accessor: Accessor) -> str:
        key = self._names.get(ident)
        if key is None:
            key, n = base, 1
            while key in self._names.values():
                n += 1
                key = f"{base}_{n}"
            self._names[ident] = key
        current = table.get(key)
        # A key that is compared needs its value; one only tested for presence needs just a flag.
        if current is None or (current.mode == "present" and accessor.mode == "value"):
            table[key] = accessor
        return key

    def table(self, ref: Ref) -> dict[str, Accessor]:
        if ref.scope == "item":
            return self.plan.items.setdefault(ref.collection, {})
        return self.plan.profile

    def key(self, ref: Ref, mode: str, arg: Any = None) -> str:
        scope = ref.collection if ref.scope == "item" else ()
        prefix = {"profile": (), "item": ("item",), "derived": ("derived",)}[ref.scope]
        suffix = {"value": (), "present": (), "count": ("count",), "has": ("has", arg)}[mode]
        ident = (scope, ref.scope, ref.path, mode if mode in ("count", "has") else "v", arg)
        acc_mode = "derived" if ref.scope == "derived" else mode
        return self._key(self.table(ref), ident, _slug(prefix + ref.path + suffix), Accessor(acc_mode, ref, arg))

    def list_key(self, collection: tuple[str, ...]) -> str:
        key = self.plan.lists.get(collection)
        if key is None:
            key = _slug(("each",) + collection)
            self.plan.lists[collection] = key
            self.plan.items.setdefault(collection, {})
        return key

    def count_key(self, collection: tuple[str, ...]) -> str:
        from ..profile import schema
        return self.key(Ref("profile", collection, schema.lookup(collection)), "count")


_NEGATE = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt"}


class _Lowerer:
    """Pushes 'not' to the leaves and maps fields to fact keys, keeping the durable-rules semantics exact."""

    def __init__(self, keys: _Keys):
        self.keys = keys

    def lower(self, node: Any, neg: bool = False) -> ir.Node:
        if isinstance(node, Not):
            return self.lower(node.item, not neg)
        if isinstance(node, (All, AnyOf)):
            parts = tuple(self.lower(item, neg) for item in node.items)
            conj = isinstance(node, All) != neg
            return _simplify(ir.And(parts) if conj else ir.Or(parts))
        if isinstance(node, Compare):
            return self.compare(node, neg)
        if isinstance(node, Check):
            return self.check(node, neg)
        if isinstance(node, Count):
            key = self.keys.key(node.ref, "count")
            return ir.Cmp(key, _NEGATE[node.op] if neg else node.op, node.value)
        if isinstance(node, Quantifier):
            return self.quantifier(node, neg)
        raise TypeError(node)

    def compare(self, node: Compare, neg: bool) -> ir.Node:
        if node.op == "contains":
            key = self.keys.key(node.ref, "has", node.value)
            return ir.Missing(key) if neg else ir.Exists(key)
        key = self.keys.key(node.ref, "value")
        if node.op in ("in", "not_in"):
            inside = node.op == "in"
            if inside != neg:  # value is one of them
                return _simplify(ir.Or(tuple(ir.Cmp(key, "eq", v) for v in node.value)))
            # none of them; 'not in' on an unset value is false, so its negation is true
            none_of = _simplify(ir.And(tuple(ir.Cmp(key, "neq", v) for v in node.value)))
            return ir.Or((none_of, ir.Missing(key))) if neg else none_of
        if not neg:
            return ir.Cmp(key, node.op, node.value)
        return ir.Or((ir.Cmp(key, _NEGATE[node.op], node.value), ir.Missing(key)))

    def check(self, node: Check, neg: bool) -> ir.Node:
        if node.op in ("empty", "non_empty"):
            key = self.keys.key(node.ref, "count")
            empty = (node.op == "empty") != neg
            return ir.Cmp(key, "eq", 0) if empty else ir.Cmp(key, "gt", 0)
        key = self.keys.key(node.ref, "present")
        exists = (node.op == "exists") != neg
        return ir.Exists(key) if exists else ir.Missing(key)

    def quantifier(self, node: Quantifier, neg: bool) -> ir.Node:
        coll = node.ref.path
        list_key = self.keys.list_key(coll)
        count_key = self.keys.count_key(coll)
        # some = any; every = empty or all; none = not some
        positive = {"some": True, "every": False, "none": False}[node.mode] != neg
        if node.mode == "every":
            if not neg:
                return ir.Or((ir.Cmp(count_key, "eq", 0), ir.Quant("all", list_key, self.lower(node.where))))
            return ir.Quant("any", list_key, self.lower(node.where, True))
        if positive:
            return ir.Quant("any", list_key, self.lower(node.where))
        return ir.Or((ir.Cmp(count_key, "eq", 0), ir.Quant("all", list_key, self.lower(node.where, True))))


def _simplify(node: ir.Node) -> ir.Node:
    if isinstance(node, (ir.And, ir.Or)):
        flat: list[ir.Node] = []
        for item in node.items:
            if type(item) is type(node):
                flat.extend(item.items)
            else:
                flat.append(item)
        if len(flat) == 1:
            return flat[0]
        return type(node)(tuple(flat))
    return node


def _pack(stages: list[list[ir.EngineRule]], earliest: dict[str, int]) -> list[list[ir.EngineRule]]:
    """Place rules in stages so that the durable engine needs few rulesets and few asserts.

    A rule may run in any stage from the first whose derived facts it reads are decided to
    the last; derived-fact cases stay where they are (later stages read them). Per-item rules
    all go to one stage, since a ruleset holding any gets an assert per item. Then a stage's
    part-full last ruleset takes the part-full tail of an earlier stage when it fits.
    """
    placed = [list(rules) for rules in stages]
    scoped = [r for rules in placed for r in rules if r.scope]
    if scoped:
        home = max(earliest[r.id] for r in scoped)
        placed = [[r for r in rules if not r.scope] for rules in placed]
        placed[home].extend(scoped)
    for s in range(len(placed) - 1, 0, -1):
        if not placed[s]:
            continue
        room = -len(placed[s]) % CHUNK
        for t in range(s - 1, -1, -1):
            tail = len(placed[t]) % CHUNK
            movable = [r for r in placed[t] if not r.scope and r.id in earliest and earliest[r.id] <= s]
            if 0 < tail <= room and tail <= len(movable):
                moved = movable[-tail:]
                ids = {r.id for r in moved}
                placed[t] = [r for r in placed[t] if r.id not in ids]
                placed[s].extend(moved)
                room -= tail
    return placed


def compile_rules(ruleset: RuleSet) -> Compiled:
    """Compile a checked rule set: stage by derived-fact dependencies, lower conditions, plan the facts."""
    keys = _Keys()
    lower = _Lowerer(keys)
    derived = {d.name: d for d in ruleset.derived}

    # Stages: a derived fact decided by cases reading derived facts of stage s is decided in stage s+1.
    stage_of: dict[str, int] = {}

    def stage(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in stage_of:
            return stage_of[name]
        d = derived[name]
        if name in seen:
            cycle = " -> ".join(seen[seen.index(name):] + (name,))
            raise RuleError(f"derived fact '{name}': derived facts read each other in a cycle: {cycle}", d.source)
        if d.compute:
            stage_of[name] = -1  # computed with the facts, before any stage
            return -1
        reads = [r.path[0] for case in d.cases for r in refs_of(case.when) if r.scope == "derived"]
        stage_of[name] = max([stage(r, seen + (name,)) + 1 for r in reads], default=0)
        return stage_of[name]

    def rule_stage(node_refs: list[Ref]) -> int:
        return max([stage(r.path[0]) + 1 for r in node_refs if r.scope == "derived"], default=0)

    staged: dict[int, list[ir.EngineRule]] = {}
    earliest: dict[str, int] = {}  # rule (not derived-case) engine ids -> first stage that may run them
    variants: dict[str, Variant] = {}
    cases: dict[str, tuple[str, str]] = {}
    reads: dict[str, tuple[Ref, ...]] = {}
    for d in ruleset.derived:
        stage(d.name)
        if d.compute:
            func, args = d.compute
            reads[f"derived:{d.name}"] = args
            continue
        previous: list[Any] = []
        for i, case in enumerate(d.cases):
            cond = All((case.when, *[Not(p) for p in previous]))
            eid = f"derived:{d.name}:{i}"
            staged.setdefault(stage_of[d.name], []).append(ir.EngineRule(eid, _simplify(lower.lower(cond))))
            cases[eid] = (d.name, case.value)
            previous.append(case.when)
        if d.default is not None:
            eid = f"derived:{d.name}:default"
            cond = All(tuple(Not(p) for p in previous))
            staged.setdefault(stage_of[d.name], []).append(ir.EngineRule(eid, _simplify(lower.lower(cond))))
            cases[eid] = (d.name, d.default)
        reads[f"derived:{d.name}"] = tuple(r for case in d.cases for r in refs_of(case.when))

    for rule in ruleset.rules:
        scope = None
        if rule.for_each is not None:
            scope = keys.plan.scopes.setdefault(rule.for_each, _slug(rule.for_each))
            keys.plan.items.setdefault(rule.for_each, {})
        refs = refs_of(rule.when) + [r for p in rule.proportion for r in refs_of(p.when)]
        reads[rule.id] = tuple(refs_of(rule.when))
        s = rule_stage(refs)
        previous = []
        for j, p in enumerate(rule.proportion, start=1):
            cond = All((rule.when, p.when, *[Not(q) for q in previous]))
            eid = f"{rule.id}#{j}"
            staged.setdefault(s, []).append(ir.EngineRule(eid, _simplify(lower.lower(cond)), scope))
            earliest[eid] = s
            variants[eid] = Variant(rule, p.severity, p.because)
            previous.append(p.when)
        cond = All((rule.when, *[Not(q) for q in previous])) if previous else rule.when
        staged.setdefault(s, []).append(ir.EngineRule(rule.id, _simplify(lower.lower(cond)), scope))
        earliest[rule.id] = s
        variants[rule.id] = Variant(rule, rule.severity, None)

    n = max(staged, default=-1) + 1
    placed = _pack([list(staged.get(i, ())) for i in range(n)], earliest)
    stages = []
    for i in range(n):
        # Rules of one scope together, so item facts go to as few rulesets as possible.
        rules = tuple(sorted(placed[i], key=lambda r: r.scope or ""))
        chunks = tuple(rules[k:k + CHUNK] for k in range(0, len(rules), CHUNK))
        stages.append(ir.Stage(i, rules, chunks))
    return Compiled(
        ruleset=ruleset,
        stages=tuple(stages),
        plan=keys.plan,
        variants=variants,
        cases=cases,
        reads=reads,
    )
