"""The compiled form of the rules: conditions in negation normal form over flat fact keys, run by both engines.

Semantics (both backends must give exactly these):

* A fact is a flat dict from key (an identifier: ``[a-z0-9_]+``) to a JSON scalar
  (str, int, float, bool) or, for quantified lists, to a list of flat item dicts.
  A key that is absent means "not set".
* ``Cmp(key, op, value)``: op is one of eq, neq, lt, lte, gt, gte. False when the key
  is absent (also for neq). Values are pre-checked to have the field's type, so
  no cross-type comparison happens (bools are only compared with eq / neq).
* ``Exists(key)`` / ``Missing(key)``: whether the key is present.
* ``And`` / ``Or``: as in logic; And() is true, Or() is false.
* ``Quant('any', list_key, cond)``: true when the list has an item for which cond
  holds; ``Quant('all', list_key, cond)``: true when the list is non-empty and cond
  holds for every item (durable-rules' $iall is false on an empty list; the compiler
  adds an explicit count test where "every" must be true on an empty list).
  cond reads the keys of the item dicts only. An absent list key counts as empty.
  Quantifiers are never nested.
* There is no negation node: the compiler pushes ``not`` down to the leaves.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

OPS = ("eq", "neq", "lt", "lte", "gt", "gte")


@dataclass(frozen=True)
class Cmp:
    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class Exists:
    key: str


@dataclass(frozen=True)
class Missing:
    key: str


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Quant:
    mode: str  # "any" | "all"
    list_key: str
    cond: "Node"


Node = Union[Cmp, Exists, Missing, And, Or, Quant]

TRUE: Node = And(())
FALSE: Node = Or(())


@dataclass(frozen=True)
class EngineRule:
    """One rule as an engine sees it: an id, a condition, and the scope of facts it matches.

    ``scope`` is None for rules matching the profile fact, or a collection name
    ("partners", "goals", "kpis", "risks") for rules that fire once per item of it:
    those match item facts, whose keys are the item's own keys plus the profile keys
    the rule reads. ``deferrable`` says that no later stage reads whether the rule fired
    (it makes a finding, not a derived fact), so an engine may run it in any later stage
    too: the facts only grow from stage to stage.
    """

    id: str
    condition: Node
    scope: str | None = None
    deferrable: bool = False


@dataclass(frozen=True)
class Stage:
    """Rules that run together; derived facts decided in one stage are in the facts of the next.

    Each rule is in the first stage whose facts hold everything it reads.
    """

    index: int
    rules: tuple[EngineRule, ...]
    #: Rules grouped by hand into the durable backend's rulesets (tests only: the compiler
    #: leaves this empty and the durable backend groups the rules itself).
    chunks: tuple[tuple[EngineRule, ...], ...] = field(default=())

    @cached_property
    def reads(self) -> dict[str | None, frozenset[str]]:
        """Per scope (None for the profile), every top-level fact key the stage's rules of that scope read."""
        out: dict[str | None, set[str]] = {}
        for rule in self.rules:
            out.setdefault(rule.scope, set()).update(keys_of(rule.condition))
        return {scope: frozenset(keys) for scope, keys in out.items()}

    # A stage is cached with the rules (advisor.cache) as its index, what it reads and its rules pickled apart: the
    # engines start from what was made of the conditions when the rules were built (the python engine's compiled
    # stages, the durable engine's plan), so a start that only runs the rules never unpickles their ~3,300 condition
    # nodes, a sixth of the cache entry's objects; the rules are unpickled when something reads them.
    def __reduce_ex__(self, protocol: Any) -> Any:
        if self.chunks:
            return object.__reduce_ex__(self, protocol)
        rules = self.__dict__.get("_pickled_rules")
        if rules is None:
            rules = pickle.dumps(self.rules, protocol=pickle.HIGHEST_PROTOCOL)
        return _unpickled_stage, (self.index, self.reads, rules)

    def __getattr__(self, name: str) -> Any:  # only for what the instance lacks: a pickled stage's rules
        pickled = self.__dict__.get("_pickled_rules") if name == "rules" else None
        if pickled is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        rules = pickle.loads(pickled)
        object.__setattr__(self, "rules", rules)
        del self.__dict__["_pickled_rules"]
        return rules


def _unpickled_stage(index: int, reads: dict[str | None, frozenset[str]], rules: bytes) -> Stage:
    """A stage read from a pickle, its rules still pickled (see Stage.__reduce_ex__)."""
    stage = object.__new__(Stage)
    stage.__dict__.update(index=index, reads=reads, _pickled_rules=rules)
    return stage


class Facts:
    """The facts of one profile for one stage: the profile fact and, per scope, the item facts.

    ``rows`` holds each item's own keys (and ``idx``); ``items`` the item facts as an engine
    that matches one fact at a time needs them: the row plus the profile keys the scope's
    rules read (built on first use, since the python engine reads the profile fact directly).
    """

    __slots__ = ("profile", "rows", "_shared", "_items")

    def __init__(self, profile: dict[str, Any], rows: dict[str, list[dict[str, Any]]] | None = None,
                 shared: dict[str, tuple[str, ...]] | None = None):
        self.profile = profile
        self.rows = rows or {}
        self._shared = shared
        self._items: dict[str, list[dict[str, Any]]] | None = None

    @property
    def items(self) -> dict[str, list[dict[str, Any]]]:
        if self._items is None:
            if self._shared is None:
                self._items = self.rows
            else:
                out = {}
                for scope, rows in self.rows.items():
                    shared = {k: self.profile[k] for k in self._shared.get(scope, ()) if k in self.profile}
                    out[scope] = [{**row, **shared} for row in rows]
                self._items = out
        return self._items


def keys_of(node: Node) -> set[str]:
    """Every top-level fact key a condition reads (not the item keys inside quantifiers)."""
    if isinstance(node, (Cmp, Exists, Missing)):
        return {node.key}
    if isinstance(node, (And, Or)):
        out: set[str] = set()
        for item in node.items:
            out |= keys_of(item)
        return out
    if isinstance(node, Quant):
        return {node.list_key}
    raise TypeError(node)


def is_true(node: Node) -> bool:
    return isinstance(node, And) and not node.items


def is_false(node: Node) -> bool:
    return isinstance(node, Or) and not node.items


def simplify(node: Node) -> Node:
    """Fold TRUE (And()) and FALSE (Or()) away and flatten nested And/Or; the result is TRUE, FALSE or free of both."""
    if isinstance(node, (And, Or)):
        conj = isinstance(node, And)
        items: list[Node] = []
        for item in node.items:
            item = simplify(item)
            if is_true(item) if conj else is_false(item):
                continue
            if is_false(item) if conj else is_true(item):
                return item
            if isinstance(item, And if conj else Or):
                items.extend(item.items)
            else:
                items.append(item)
        if len(items) == 1:
            return items[0]
        return And(tuple(items)) if conj else Or(tuple(items))
    if isinstance(node, Quant):
        cond = simplify(node.cond)
        if is_false(cond):
            return cond  # no item satisfies FALSE: any is false, and all is false on a list that has items
        return Quant(node.mode, node.list_key, cond)
    if isinstance(node, (Cmp, Exists, Missing)):
        return node
    raise TypeError(f"not an IR node: {node!r}")
