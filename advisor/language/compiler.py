"""Compiles checked rules into the engines' form: staged IR conditions and a plan of the facts they read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine import ir
from ..engine.ir import simplify
from ..vocabulary import QUESTION
from .contradiction import contradiction
from .syntax import All, AnyOf, Check, Compare, Count, Derived, Not, Proportion, Quantifier, Ref, Rule, RuleSet, refs_of


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
    """One engine rule derived from a rule: the rule itself, one of its proportion cases, or the question its
    condition asks when a field it `ask`s about is blank."""

    rule: Rule
    severity: str
    because: str | None
    question: bool = False
    #: the rule's `adapt` or `proportion` entry this variant is, when it is one
    case: Proportion | None = None

    @property
    def kind(self) -> str:
        return QUESTION if self.question else self.rule.kind


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
            return simplify(ir.And(parts) if conj else ir.Or(parts))
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
                return simplify(ir.Or(tuple(ir.Cmp(key, "eq", v) for v in node.value)))
            # none of them; 'not in' on an unset value is false, so its negation is true
            none_of = simplify(ir.And(tuple(ir.Cmp(key, "neq", v) for v in node.value)))
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


def _stages(derived: list[Derived]) -> dict[str, int]:
    """The stage that decides each derived fact: after every derived fact its cases read (-1: computed with the facts).

    The parser has refused derived facts that read each other in a cycle.
    """
    by_name = {d.name: d for d in derived}
    stage_of: dict[str, int] = {}

    def stage(name: str) -> int:
        if name not in stage_of:
            d = by_name[name]
            reads = [r.path[0] for case in d.cases for r in refs_of(case.when) if r.scope == "derived"]
            stage_of[name] = -1 if d.compute else max([stage(r) + 1 for r in reads], default=0)
        return stage_of[name]

    for d in derived:
        stage(d.name)
    return stage_of


class _Compiler:
    """Turns the derived facts' cases and the rules (with their proportion cases) into staged engine rules."""

    def __init__(self, ruleset: RuleSet):
        self.keys = _Keys()
        self.lower = _Lowerer(self.keys)
        self.stage_of = _stages(ruleset.derived)
        self.staged: dict[int, list[ir.EngineRule]] = {}
        self.variants: dict[str, Variant] = {}
        self.cases: dict[str, tuple[str, str]] = {}
        self.reads: dict[str, tuple[Ref, ...]] = {}

    def add(self, stage: int, engine_id: str, cond: Any, scope: str | None = None, deferrable: bool = False) -> None:
        rule = ir.EngineRule(engine_id, simplify(self.lower.lower(cond)), scope, deferrable)
        self.staged.setdefault(stage, []).append(rule)

    def derived(self, d: Derived) -> None:
        """The cases of a derived fact, each excluding those before it, and its default when none holds."""
        if d.compute:
            self.reads[f"derived:{d.name}"] = d.compute[1]
            return
        stage = self.stage_of[d.name]
        previous: list[Any] = []
        for i, case in enumerate(d.cases):
            self.add(stage, f"derived:{d.name}:{i}", All((case.when, *[Not(p) for p in previous])))
            self.cases[f"derived:{d.name}:{i}"] = (d.name, case.value)
            previous.append(case.when)
        if d.default is not None:
            self.add(stage, f"derived:{d.name}:default", All(tuple(Not(p) for p in previous)))
            self.cases[f"derived:{d.name}:default"] = (d.name, d.default)
        self.reads[f"derived:{d.name}"] = tuple(r for case in d.cases for r in refs_of(case.when))

    def rule(self, rule: Rule) -> None:
        """A rule's question (when a field it asks about is blank), its proportion cases (each excluding those
        before it), then the rule at its own severity."""
        scope = None
        if rule.for_each is not None:
            scope = self.keys.plan.scopes.setdefault(rule.for_each, _slug(rule.for_each))
            self.keys.plan.items.setdefault(rule.for_each, {})
        cases = (*_cases_of(rule), *rule.proportion)
        refs = refs_of(rule.when) + [r for p in cases for r in refs_of(p.when)]
        self.reads[rule.id] = tuple(refs_of(rule.when))
        # The first stage in whose facts every derived fact it reads is decided.
        stage = max([self.stage_of[r.path[0]] + 1 for r in refs if r.scope == "derived"], default=0)
        previous: list[Any] = []
        if rule.ask:
            blank = AnyOf(tuple(Check(ref, "missing") for ref in rule.ask))
            self.add(stage, f"{rule.id}?", All((rule.when, blank)), scope, True)
            self.variants[f"{rule.id}?"] = Variant(rule, rule.severity, None, question=True)
            previous.append(blank)
        for j, p in enumerate(cases, start=1):
            self.add(stage, f"{rule.id}#{j}", All((rule.when, p.when, *[Not(q) for q in previous])), scope, True)
            self.variants[f"{rule.id}#{j}"] = Variant(rule, p.severity, p.because, case=p)
            previous.append(p.when)
        cond = All((rule.when, *[Not(q) for q in previous])) if previous else rule.when
        self.add(stage, rule.id, cond, scope, True)
        self.variants[rule.id] = Variant(rule, rule.severity, None)


def _cases_of(rule: Rule) -> list[Proportion]:
    """A rule's `adapt` entries as cases. An entry that gives no severity of its own keeps the rule's as its
    `proportion` entries lighten it: it becomes one case per proportion entry that can hold with it (that
    entry's severity, both reasons, the adapted texts), then the entry itself at the rule's severity."""
    out: list[Proportion] = []
    for a in rule.adapt:
        if not a.own_severity:
            for p in rule.proportion:
                if contradiction([rule.when, a.when, p.when]) is None:
                    out.append(replace(a, when=All((a.when, p.when)), severity=p.severity,
                                       because=f"{a.because} {p.because}", own_severity=True))
        out.append(a)
    return out


def compile_rules(ruleset: RuleSet) -> Compiled:
    """Compile a checked rule set: stage by derived-fact dependencies, lower conditions, plan the facts."""
    compiler = _Compiler(ruleset)
    for d in ruleset.derived:
        compiler.derived(d)
    for rule in ruleset.rules:
        compiler.rule(rule)
    staged = compiler.staged
    return Compiled(
        ruleset=ruleset,
        stages=tuple(ir.Stage(i, tuple(staged.get(i, ()))) for i in range(max(staged, default=-1) + 1)),
        plan=compiler.keys.plan,
        variants=compiler.variants,
        cases=compiler.cases,
        reads=compiler.reads,
    )
