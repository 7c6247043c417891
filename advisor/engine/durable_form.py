"""What durable-rules is given for the compiled stages, and whether it can take it, worked out without durable-rules.

The rulesets' JSON definitions, the generated property names and the fact layout of every
stage (see advisor.engine.durable for how the IR maps onto durable-rules, and why) are plain
Python: the durable backend builds its rulesets from this plan, and the rulebook makes the
same plan when rules are loaded, whatever the engine, so that a rule durable-rules cannot
take is refused once, at load, on both engines alike (a DurableLimit naming the rule), not
met in every worker process.
"""

from __future__ import annotations

import itertools
import json
import marshal
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import EngineError
from .ir import TRUE, FALSE, And, Cmp, EngineRule, Exists, Missing, Node, Or, Quant, Stage, is_false, is_true, simplify

#: Most rules per ruleset: a fact matching more than 64 sibling conditions fails (error 303).
CHUNK = 50
#: Most children an added head node lets any alpha node have (durable's stack holds 64).
FANOUT = 8
#: Most $and/$or in one durable pattern (error 113 past 15).
MAX_OPS = 15
#: Most alpha nodes one rule's condition may leave on durable's 64-entry stack; the rest is for the
#: discriminator and up to three levels of head tests above the rule (error 303 past 64).
STACK_BUDGET = 64 - (1 + 3 * FANOUT) - 3
#: Most alpha nodes the rules under one discriminator may leave on durable's stack at once (64, less a margin).
STACK_LIMIT = 60
#: Most durable rules one IR rule may be split into, and most durable rules per fact type in a ruleset.
MAX_PIECES = 64
MAX_RULES = FANOUT**3
#: Longest string sent, in UTF-8 bytes (durable keeps string lengths in 16 bits when comparing; hex doubles them).
MAX_STRING = 32000
#: Most properties a fact may have (durable: 255 with its own sid and id); we add T and N.
MAX_FIELDS = 250

#: How an absent key that rules compare with strings alone (as codes) and test for presence is sent (_Names.absent).
ABSENT = '"a"'

#: The discriminator of the start fact asserted once into each session, and the name of the rule it fires.
START = -1
START_RULE = "s"

_OPS = {"neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_INT64 = (-(2**63), 2**63 - 1)


class DurableLimit(EngineError):
    """Rules durable-rules cannot take: past one of its limits. `rule_id` names the engine rule, when one is to blame."""

    def __init__(self, message: str, rule_id: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.rule_id = rule_id
        #: What is too large, in words that fit after the rule's name.
        self.reason = reason or message.removeprefix("durable-rules backend: ")


def _fnv(name: str) -> int:
    """durable-rules' property-name hash (FNV-1a, 32 bits)."""
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


class _Raw(str):
    """Text that goes into the rules JSON as it is (an already encoded value)."""


# -- values -------------------------------------------------------------------------


def _float(value: float) -> str:
    if math.isnan(value):
        raise EngineError("durable-rules cannot take the float NaN in a fact or condition")
    if math.isinf(value):
        return "1.0e999" if value > 0 else "-1.0e999"
    text = repr(value)
    if "e" in text and "." not in text:  # durable's JSON parser wants a dot before an exponent
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _int(value: int) -> str:
    if not _INT64[0] <= value <= _INT64[1]:
        raise EngineError(f"durable-rules cannot take the integer {value} (outside 64 bits)")
    return int.__repr__(value)


def _str(value: str) -> str:
    # durable compares strings over lengths it keeps in 16 bits: cut long ones. Comparing a string with a
    # constant (all shorter than MAX_STRING bytes) depends only on its first len(constant) + 1 bytes.
    data = value.encode("utf-8", "surrogatepass")
    return '"s' + (data if len(data) <= MAX_STRING else data[:MAX_STRING]).hex() + '"'


def _scalar(value: Any) -> str:
    """One scalar as durable JSON text, encoded the same way in facts and conditions."""
    kind = type(value)
    if kind is str:
        return _str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return _int(value)
    if kind is float:
        return _float(value)
    if value is None:
        return '"n"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int(int(value))
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, str):
        return _str(str(value))
    # A list or dict that no quantifier reads: rules can only test whether it is there.
    if isinstance(value, (list, tuple)):
        return "[]"
    if isinstance(value, dict):
        return "{}"
    raise EngineError(f"durable-rules cannot take the value {value!r} ({type(value).__name__}) in a fact")


def _write(obj: Any) -> str:
    """Rules as JSON text, with values already encoded (_Raw) written as they are."""
    if isinstance(obj, _Raw):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _write(v) for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(_write(v) for v in obj) + "]"
    if isinstance(obj, str):
        return json.dumps(obj)
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return _int(obj)
    raise TypeError(obj)


# -- conditions ---------------------------------------------------------------------


#: durable-rules keeps an alpha node's children in a table indexed by their property's hash & 31 (linear probing),
#: and at every node it visits looks each property of the fact up there, reading every child node (about 1.8 KB
#: each, so mostly a cache miss) until a free slot. The head tests of a node are all on "T": they fill the slots
#: from T's onwards, and a fact property whose slot falls among them walks them all at every node visited. Fact
#: properties are named so that their slots are not there, nor on "id" or "sid" (in every fact).
_BUCKETS = 31
_CROWDED = frozenset({0, 15} | {(_fnv("T") + k) & _BUCKETS for k in range(FANOUT)})


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _LETTERS + "0123456789"


def _short(n: int) -> str:
    """The n-th name in order of length: a letter, then a letter followed by letters or digits (no "." nor "$",
    which durable reads as nesting and as its own names)."""
    size, count = 1, len(_LETTERS)
    while n >= count:
        n -= count
        size, count = size + 1, count * len(_ALNUM)
    tail = []
    for _ in range(size - 1):
        n, k = divmod(n, len(_ALNUM))
        tail.append(_ALNUM[k])
    return _LETTERS[n] + "".join(reversed(tail))


class _Names:
    """Generated property names with durable hashes distinct from each other and from the engine's own."""

    def __init__(self) -> None:
        self._hashes = {_fnv(n) for n in ("sid", "id", "T", "N", "$s", "$forward", "$i", "$l", "$r")}
        self._counts: dict[str, itertools.count] = {}
        self.top: dict[str, str] = {}
        self.item: dict[str, str] = {}
        #: Per (in an item, key): the codes of the strings rules compare it with (see strings), or None when a rule
        #: orders it against a string (then its strings are sent in hex, as every string once was).
        self.strings: dict[tuple[bool, str], dict[str, str] | None] = {}
        #: Keys of a fact (not of a quantified list's items) compared with anything but strings, for equality only.
        self._other: set[str] = set()
        #: Keys of a fact (not inside quantifiers) that rules test for presence or absence.
        self._presence: set[str] = set()
        #: Per (in an item, key): the kinds of constant rules compare it with ("bool", "number", "str"): the
        #: generated encoders test a key's values for the kind its rules expect first (see kind).
        self._kinds: dict[tuple[bool, str], set[str]] = {}

    def learn(self, node: Node, in_item: bool = False) -> None:
        """Note how a condition compares keys with strings (before any condition is compiled)."""
        if isinstance(node, Cmp):
            value = node.value
            kind = "bool" if type(value) is bool else "number" if type(value) in (int, float) else "str"
            self._kinds.setdefault((in_item, node.key), set()).add(kind)
        if isinstance(node, Cmp) and isinstance(node.value, str):
            where = (in_item, node.key)
            if node.op not in ("eq", "neq"):
                self.strings[where] = None
            else:
                known = self.strings.setdefault(where, {})
                if known is not None and node.value not in known:
                    known[node.value] = f'"c{len(known)}"'
        elif isinstance(node, Cmp):
            if not in_item:
                self._other.add(node.key)
        elif isinstance(node, (Exists, Missing)):
            if not in_item:
                self._presence.add(node.key)
        elif isinstance(node, (And, Or)):
            for item in node.items:
                self.learn(item, in_item)
        elif isinstance(node, Quant):
            self._other.add(node.list_key)  # sent as a list
            self.learn(node.cond, True)

    def absent(self, key: str) -> bool:
        """Whether a fact's key is sent even when absent, as ABSENT: a key rules compare with strings alone, for
        equality only (its strings are sent as codes), and test for presence. Then "missing" is one equality test
        on it and "present" one $neq, and ``x != v or x is missing`` (rules with exceptions are full of them) is
        the single test ``x != v``: durable visits an Or's branches and then a node of its own after them."""
        return (key in self._presence and key not in self._other
                and self.strings.get((False, key)) is not None)

    def kind(self, in_item: bool, key: str) -> str | None:
        """The one kind of constant ("bool", "number" or "str") rules compare a key with, else None."""
        kinds = self._kinds.get((in_item, key), ())
        return next(iter(kinds)) if len(kinds) == 1 else None

    def table(self, in_item: bool, key: str) -> tuple[tuple[str, str], ...] | None:
        """How a key's string values are sent: None for hex, else (string, code) of the strings rules compare
        it with; any other string is sent as STRANGER."""
        known = self.strings.get((in_item, key), {})
        return None if known is None else tuple(sorted(known.items()))

    def new(self, family: str, hashed_prefix: str = "") -> str:
        """A new name of a family ("F" fact keys, "G" item keys, "Q" keys no item has): the shortest not yet taken
        (one letter, then a letter and a letter or digit...). durable parses, hashes and writes back every name in
        every fact and action message, so short names make all of them shorter (F<n>, G<n> were 2-4 characters)."""
        counter = self._counts.setdefault(family, itertools.count())
        while True:
            name = _short(next(counter))
            h = _fnv(hashed_prefix + name)
            if h not in self._hashes and (family != "F" or h & _BUCKETS not in _CROWDED):
                self._hashes.add(h)
                return name

    def field(self, key: str) -> str:
        if key not in self.top:
            self.top[key] = self.new("F")
        return self.top[key]

    def item_field(self, key: str) -> str:
        if key not in self.item:
            self.item[key] = self.new("G", "$i.")
        return self.item[key]


class _Compiler:
    """Turns simplified IR conditions into durable-rules condition dicts for one ruleset."""

    def __init__(self, names: _Names):
        self.names = names
        self.heads = itertools.count(1)

    def head(self) -> dict:
        """An always-true test on the discriminator, distinct from every other (so never shared)."""
        return {"$neq": {"T": -next(self.heads)}}

    def item_head(self) -> dict:
        """An always-true test on an item: a property no item has is missing."""
        return {"$nex": {"$i." + self.names.new("Q", "$i."): 1}}

    def expr(self, node: Node, in_item: bool = False, unguarded: str | None = None) -> dict:
        """The condition for durable; `unguarded` names a key sent as ABSENT when absent whose $neq tests need not
        also exclude ABSENT (the Or they are in has a "missing" branch for it, left out)."""
        if isinstance(node, Cmp):
            name = "$i." + self.names.item_field(node.key) if in_item else self.names.field(node.key)
            if isinstance(node.value, str) and len(node.value.encode("utf-8", "surrogatepass")) >= MAX_STRING:
                raise EngineError(f"durable-rules backend: a condition's string is longer than {MAX_STRING - 1} bytes")
            known = self.names.strings.get((in_item, node.key)) if isinstance(node.value, str) else None
            value = _Raw(known[node.value] if known is not None else _scalar(node.value))
            if node.op == "eq":
                return {name: value}
            if node.op == "neq" and not in_item and node.key != unguarded and self.names.absent(node.key):
                return {"$and": [{"$neq": {name: value}}, {"$neq": {name: _Raw(ABSENT)}}]}
            return {_OPS[node.op]: {name: value}}
        if isinstance(node, (Exists, Missing)):
            name = "$i." + self.names.item_field(node.key) if in_item else self.names.field(node.key)
            if not in_item and self.names.absent(node.key):
                return {name: _Raw(ABSENT)} if isinstance(node, Missing) else {"$neq": {name: _Raw(ABSENT)}}
            return {"$ex" if isinstance(node, Exists) else "$nex": {name: 1}}
        if isinstance(node, And):
            tests = [self.expr(item, in_item, unguarded) for item in node.items]
            return {"$and": tests if in_item else _order(tests)}
        if isinstance(node, Or):
            if not in_item:
                # A branch made only of $neq tests on a key sent as ABSENT holds when the key is missing: the Or's
                # "missing" branch for that key is left out, and that branch's tests need not exclude ABSENT.
                inequal = [self._inequal(item) for item in node.items]
                missing = {item.key for item in node.items if isinstance(item, Missing) and self.names.absent(item.key)}
                absorbed = missing & set(inequal)
                kept = [(item, key) for item, key in zip(node.items, inequal)
                        if not (isinstance(item, Missing) and item.key in absorbed)]
                branches = [self.expr(_exclusive(item, kept), unguarded=key if key in absorbed else None)
                            for item, key in kept]
                return branches[0] if len(branches) == 1 else {"$or": branches}
            # Inside a quantifier durable tries $nex tests in turn and stops at the first success, but lets
            # a later failing test override an earlier match among the others: start each branch with a $nex.
            branches = []
            for item in node.items:
                branch = self.expr(item, True)
                branches.append(branch if isinstance(item, Missing) else {"$and": [self.item_head(), *_parts(branch)]})
            return {"$or": branches}
        if isinstance(node, Quant):
            if in_item:
                raise EngineError("durable-rules backend: a quantifier inside a quantifier is not supported")
            if node.mode not in ("any", "all"):
                raise EngineError(f"durable-rules backend: unknown quantifier mode {node.mode!r}")
            inner = self.item_head() if is_true(node.cond) else self.expr(node.cond, True)
            return {"$iany" if node.mode == "any" else "$iall": {self.names.field(node.list_key): inner}}
        raise TypeError(f"not an IR node: {node!r}")

    def _inequal(self, node: Node) -> str | None:
        """The key, when the condition is one or more $neq tests (And-ed) on a key sent as ABSENT, else None."""
        tests = node.items if isinstance(node, And) else (node,)
        keys = {t.key if isinstance(t, Cmp) and t.op == "neq" and isinstance(t.value, str) else None for t in tests}
        if len(keys) != 1:
            return None
        (key,) = keys
        return key if key is not None and self.names.absent(key) else None

    def pieces(self, rule_id: str, cond: Node) -> list[list]:
        """The condition as the tests of one or more durable patterns whose union it is, each within durable's limits.

        A pattern may hold at most MAX_OPS $and/$or (error 113), and its Or's must not leave more than
        STACK_BUDGET alpha nodes to visit at once (error 303); a condition past either is split at an Or
        (distributing And over it) into several durable rules for the same rule id.
        """
        pending, done = [cond], []
        while pending:
            cond = pending.pop()
            try:
                tests = [] if is_true(cond) else _parts(self.expr(cond))
            except EngineError as exc:
                what = exc.message.removeprefix("durable-rules backend: ").removeprefix("durable-rules ")
                raise DurableLimit(exc.message, rule_id, f"the durable engine cannot run it: {what}") from None
            if 1 + _ops(tests) <= MAX_OPS and _stack(tests) <= STACK_BUDGET:
                done.append(tests)
                continue
            alternatives = _alternatives(cond)
            if alternatives is None:
                raise DurableLimit(f"durable-rules backend: the condition of rule '{rule_id}' is too complex for durable",
                                   rule_id, "its condition is too complex for the durable engine; split it into several rules")
            pending.extend(a for a in alternatives if not is_false(a))
            if len(done) + len(pending) > MAX_PIECES:
                raise DurableLimit(f"durable-rules backend: rule '{rule_id}' needs more than {MAX_PIECES} durable rules",
                                   rule_id, f"its condition is too large for the durable engine (it would need more than {MAX_PIECES} "
                                   "durable-rules rules); split it into several rules or shorten its lists")
        return done


# -- pruning tests settled by others -------------------------------------------------------


def prune(node: Node) -> Node:
    """The condition with every test that the tests And-ed with it settle folded away: the same condition (on any
    fact), with fewer tests for durable-rules to evaluate.

    Rules with exceptions compile into variants that repeat each other's tests, negated: ``x is set and x != v``
    Or-ed with ``x is missing``, beside ``x is set``; an Or of which one branch is a test already required. durable
    visits an alpha node per test (an Or adds a node, and its branches wait on the 64-entry stack) and parses the
    list again for every quantifier: what is settled need not be tested. Only sound folds are made: a test equal
    to one required is true; a key required present (Exists, or any comparison) makes Missing false and Exists
    true, required missing makes Exists and comparisons false; a comparison with a key required equal to a
    constant is worked out when both constants are strings, both booleans, or both numbers (not booleans);
    an absent list makes a quantifier false. Inside a quantifier only the item's own tests settle each other."""
    return simplify(_prune(simplify(node), frozenset()))


def _settled(test: Node, known: frozenset) -> bool | None:
    """Whether a test (Exists, Missing, Cmp or Quant) holds when every test of known does; None when not settled."""
    if test in known:
        return True
    if isinstance(test, Quant):
        return False if Missing(test.list_key) in known else None
    key = test.key
    present = Exists(key) in known or any(isinstance(k, Cmp) and k.key == key for k in known)
    if isinstance(test, Exists):
        return True if present else (False if Missing(key) in known else None)
    if isinstance(test, Missing):
        return False if present else None
    if Missing(key) in known:
        return False  # a comparison is false on a missing key
    for k in known:
        if isinstance(k, Cmp) and k.key == key:
            if k.op == "eq" and _same_kind(k.value, test.value):
                return _compare(k.value, test.op, test.value)
            if k.op == "neq" and test.op == "eq" and _same_kind(k.value, test.value) and k.value == test.value:
                return False
    return None


def _same_kind(a: Any, b: Any) -> bool:
    if type(a) is str or type(b) is str:
        return type(a) is str and type(b) is str
    if type(a) is bool or type(b) is bool:
        return type(a) is bool and type(b) is bool
    return type(a) in (int, float) and type(b) in (int, float)


def _compare(a: Any, op: str, b: Any) -> bool:
    return {"eq": a == b, "neq": a != b, "lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]


_LITERALS = (Exists, Missing, Cmp, Quant)


def _prune(node: Node, known: frozenset) -> Node:
    if isinstance(node, _LITERALS):
        settled = _settled(node, known)
        if settled is not None:
            return TRUE if settled else FALSE
        if isinstance(node, Quant):
            return Quant(node.mode, node.list_key, simplify(_prune(node.cond, frozenset())))
        return node
    if isinstance(node, Or):
        branches = []
        for item in node.items:
            item = simplify(_prune(item, known))
            if is_true(item):
                return TRUE
            if not is_false(item) and item not in branches:
                branches.append(item)
        return simplify(Or(tuple(branches)))
    if isinstance(node, And):
        items = list(node.items)
        for _ in range(64):  # each turn settles more; a bound, in case one never ends
            literals = [i for i, item in enumerate(items) if isinstance(item, _LITERALS)]
            kept: list[Node] = []
            changed = False
            out: list[Node] = []
            for n, item in enumerate(items):
                if not isinstance(item, _LITERALS):
                    out.append(item)
                    continue
                # Settled by the tests around it: those known, those kept before it, those after it.
                later = frozenset(items[i] for i in literals if i > n)
                settled = _settled(item, known | frozenset(kept) | later)
                if settled is False:
                    return FALSE
                if settled:
                    changed = True
                    continue
                if isinstance(item, Quant):
                    inner = simplify(_prune(item.cond, frozenset()))
                    if inner != item.cond:
                        item, changed = Quant(item.mode, item.list_key, inner), True
                kept.append(item)
                out.append(item)
            items = []
            required = known | frozenset(kept)
            for item in out:
                if isinstance(item, _LITERALS):
                    items.append(item)
                    continue
                pruned = simplify(_prune(item, required))
                if pruned != item:
                    changed = True
                if is_false(pruned):
                    return FALSE
                if is_true(pruned):
                    continue
                if isinstance(pruned, And):
                    items.extend(pruned.items)
                elif pruned not in items:
                    items.append(pruned)
                else:
                    changed = True
            if not changed:
                break
        return simplify(And(_subsumed_ors_dropped(items)))
    raise TypeError(f"not an IR node: {node!r}")


def _exclusive(item: Node, kept: list[tuple[Node, str | None]]) -> Node:
    """An Or's branch made exclusive of the Or's "k is missing" branches: And-ed with "k is set" for each of them that it
    does not already exclude (a comparison or a "set" test on k is false when k is missing). The Or holds on the same
    facts; durable follows every branch that holds to the Or's forward node and fires the rule again for each, so a
    fact that held both a branch and "k is missing" fired it twice (and was matched twice against what follows the Or).
    (Excluding "k == v" branches too, with one $neq on a key sent as ABSENT, fired fewer duplicates but cost as much
    as it saved: 2,079k instructions per profile either way.)"""
    if isinstance(item, Missing):
        return item
    tests = item.items if isinstance(item, And) else (item,)
    excluded = {t.key for t in tests if isinstance(t, (Cmp, Exists))}
    extra = tuple(Exists(other.key) for other, _ in kept if isinstance(other, Missing) and other.key not in excluded)
    return And((item, *extra)) if extra else item


def _subsumed_ors_dropped(items: list[Node]) -> tuple[Node, ...]:
    """The tests of an And without each Or that holds whenever another Or beside it does: one whose branches include
    all of another's (the earliest of equal ones stays). Variants of a rule with exceptions repeat an exception's
    ``x != v or x is missing`` inside a wider Or; durable visits the wider Or's branches and its forward node, and
    fires the rule once more for every branch of it that holds."""
    ors = [(n, frozenset(item.items)) for n, item in enumerate(items) if isinstance(item, Or)]
    if len(ors) < 2:
        return tuple(items)
    dropped = {n for n, branches in ors
               if any(other < branches or (other == branches and m < n) for m, other in ors if m != n)}
    return tuple(item for n, item in enumerate(items) if n not in dropped)


def _order(tests: list) -> list:
    """The tests of an $and (outside quantifiers, where durable's order matters) in the order durable-rules
    follows them cheapest: it visits a node only while the tests before it hold, so equality tests (most often
    false) come first, then other comparisons, missing keys, Or's, and quantifiers last (durable parses every
    item of the list again for each quantifier it evaluates); within each kind by their text, so rules with
    the same tests share nodes (durable merges a test equal to one already under the same node)."""
    flat = [part for test in tests for part in _parts(test)]
    return sorted(flat, key=_rank)


def _rank(test: dict) -> tuple[int, str]:
    (key,) = test
    if not key.startswith("$"):
        kind = 0
    elif key in ("$iany", "$iall"):
        kind = 4
    elif key == "$or":
        kind = 3
    elif key == "$nex":
        kind = 2
    else:
        kind = 1
    return kind, _write(test)


def _parts(cond: dict) -> list:
    """The tests of an $and (to splice into an enclosing $and), or the one test."""
    return list(cond["$and"]) if len(cond) == 1 and "$and" in cond else [cond]


def _ops(expr: Any) -> int:
    """How many $and/$or an expression holds (durable: at most 15 in a pattern)."""
    if isinstance(expr, dict):
        return sum((k in ("$and", "$or")) + _ops(v) for k, v in expr.items())
    if isinstance(expr, list):
        return sum(_ops(v) for v in expr)
    return 0


def _stack(tests: list) -> int:
    """An upper bound of the alpha nodes the tests of a pattern leave on durable's stack at once.

    The engine visits alpha nodes depth first, pushing every matching child of a node: a chain of
    tests holds one at a time, but the branches of an Or wait there while one is followed (and keep
    waiting while the rest of the chain after the Or is matched).
    """
    peak, waiting = _and_stack(tests)
    return peak


def _and_stack(tests: list) -> tuple[int, int]:
    """(peak, still waiting after the chain) for a chain of tests."""
    peak = waiting = 0
    for test in tests:
        if "$and" in test:
            p, w = _and_stack(test["$and"])
        elif "$or" in test:
            branches = [_and_stack(_parts(b)) for b in test["$or"]]
            p = len(branches) + 1 + max(b[0] for b in branches)  # all pushed, one followed, then its forward node
            w = len(branches) - 1 + max(b[1] for b in branches)
        else:
            p, w = 1, 0  # one test; a quantifier is matched without the stack
        peak = max(peak, waiting + p)
        waiting += w
    return peak, waiting


def _halves(items: tuple[Node, ...]) -> list[Node]:
    half = (len(items) + 1) // 2
    return [simplify(Or(items[:half])), simplify(Or(items[half:]))]


def _alternatives(cond: Node) -> list[Node] | None:
    """Conditions whose Or is cond: its top Or cut in two, or an And distributed over one; None when it has no Or."""
    if isinstance(cond, Or):
        return _halves(cond.items)
    if isinstance(cond, Quant) and cond.mode == "any" and isinstance(cond.cond, Or):
        return [Quant("any", cond.list_key, half) for half in _halves(cond.cond.items)]
    if isinstance(cond, And):
        best = None
        for i, item in enumerate(cond.items):
            alternatives = _alternatives(item)
            if alternatives is not None:
                weight = _ops_ir(item)
                if best is None or weight > best[0]:
                    best = (weight, i, alternatives)
        if best is not None:
            _, i, alternatives = best
            rest = cond.items[:i] + cond.items[i + 1:]
            return [simplify(And(rest + (a,))) for a in alternatives]
    return None


def _ops_ir(node: Node) -> int:
    """Roughly how many $and/$or (and Or branches) a condition turns into: which part to split first."""
    if isinstance(node, (And, Or)):
        return 1 + len(node.items) * isinstance(node, Or) + sum(_ops_ir(item) for item in node.items)
    if isinstance(node, Quant):
        return _ops_ir(node.cond)
    return 0


def _reads(node: Node, top: set[str], lists: dict[str, set[str]], in_list: str | None = None) -> None:
    """Collect the top-level keys a condition reads, and per quantified list the item keys."""
    if isinstance(node, (Cmp, Exists, Missing)):
        (lists[in_list] if in_list else top).add(node.key)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            _reads(item, top, lists, in_list)
    elif isinstance(node, Quant):
        top.add(node.list_key)
        lists.setdefault(node.list_key, set())
        _reads(node.cond, top, lists, node.list_key)


# -- facts --------------------------------------------------------------------------

Field = tuple  # (key, ',"name":', item fields (key, '"name":', strings) or None, strings, what is sent when absent)
#: The keys of an item's own row start with this; its fact's other keys are the profile's (read from the profile, as
#: the python engine reads them).
ITEM_PREFIX = "item__"
#: How a string is sent for a key that rules compare only for equality with strings, when it is none of those.
STRANGER = '"x"'


def _fields(names: _Names, top: set[str], lists: dict[str, set[str]]) -> tuple[Field, ...]:
    """The fields sent for these keys. A key that no rule orders against a string has its strings sent as short
    codes, '"c<n>"' for each string rules compare it with and STRANGER for any other: equality with every
    constant is as it was, and durable parses, stores and writes back far shorter facts (no hex)."""
    out = []
    for key in sorted(top):
        sub = None
        if key in lists:
            sub = tuple((k, '"' + names.item_field(k) + '":', names.table(True, k), names.kind(True, k))
                        for k in sorted(lists[key]))
        prefix = ',"' + names.field(key) + '":'
        absent = prefix + ABSENT if sub is None and names.absent(key) else ""
        out.append((key, prefix, sub, names.table(False, key), absent, names.kind(False, key)))
    return tuple(out)


def _coded(prefix: str, value: Any, strings: tuple[tuple[str, str], ...] | None) -> str:
    """prefix + the value encoded for a field whose strings are sent as codes (strings not None)."""
    if strings is not None and isinstance(value, str):
        return prefix + dict(strings).get(str(value), STRANGER)
    if strings is not None and isinstance(value, (list, tuple, dict)):
        return prefix + STRANGER  # as the generated encoders send it (_value_lines)
    return _piece(prefix, value)


#: Encoded fields ('"name":value') by (prefix, type, value): the same values come back in every stage and
#: in most profiles (flags, choices, small numbers), and a look-up costs a third of encoding one.
_PIECES: dict[tuple, str] = {}
#: Most entries kept (cleared when full), and the longest string kept.
MAX_PIECES_CACHED = 4096
MAX_CACHED_STRING = 64
_ABSENT = object()


def _piece(prefix: str, value: Any) -> str:
    """prefix + the value encoded, from _PIECES when it was written before."""
    kind = value.__class__
    if kind is str and len(value) > MAX_CACHED_STRING:
        return prefix + _str(value)
    try:
        key = (prefix, kind, value)
        piece = _PIECES.get(key)
    except TypeError:  # an unhashable value (a list or dict no quantifier reads)
        return prefix + _scalar(value)
    if piece is None:
        piece = prefix + _scalar(value)  # NaN never equals itself, so is never found: _scalar refuses it
        if len(_PIECES) >= MAX_PIECES_CACHED:
            _PIECES.clear()
        _PIECES[key] = piece
    return piece


def _list(value: Any, sub: tuple) -> str:
    if not isinstance(value, (list, tuple)):
        return _scalar(value)
    items = []
    for item in value:
        if not isinstance(item, dict):
            raise EngineError(f"durable-rules backend: a quantified list holds {type(item).__name__}, not item dicts")
        get = item.get
        items.append("{" + ",".join([_coded(prefix, v, strings) for k, prefix, strings, _ in sub
                                     if (v := get(k, _ABSENT)) is not _ABSENT]) + "}")
    return "[" + ",".join(items) + "]"


#: Most strings (each at most MAX_CACHED_STRING long), and most ints, kept per field by a generated encoder (see encoder).
MAX_STRINGS_PER_FIELD = 32


def _new_string(cache: dict[str, str], prefix: str, value: str) -> str:
    """prefix + the string encoded, kept in the field's cache when short (cleared when full)."""
    piece = prefix + _str(value)
    if len(value) <= MAX_CACHED_STRING:
        if len(cache) >= MAX_STRINGS_PER_FIELD:
            cache.clear()
        cache[value] = piece
    return piece


def _new_int(cache: dict[int, str], prefix: str, value: int) -> str:
    """prefix + the int written (EngineError outside 64 bits), kept in the field's cache (cleared when full)."""
    piece = prefix + _int(value)
    if len(cache) >= MAX_STRINGS_PER_FIELD:
        cache.clear()
    cache[value] = piece
    return piece


def _value_lines(out: str, prefix: str, cache: str, indent: str, coded: bool, kind: str | None = None) -> list[str]:
    """Generated lines setting `out` to prefix + the encoded value of `v` (present): strings by their code
    (coded: the dict `cache` holds prefix + code of each string rules compare the field with) or from the field's
    own cache (a look-up by the string alone, whose hash Python keeps), booleans and 64-bit ints written
    directly, ints from the field's own cache (`cache` with _I for _C: writing an int's digits cost ~4 look-ups),
    anything else by _piece (or _coded, for a coded field's str subclasses). The kind of value the field's rules
    compare it with is tested for first: a boolean by identity (`v is True`, no call of type()), an int before a
    string; the same text comes out whatever the order (each test is exact: bool is no subclass of anything but
    int, and `type(v) is int` is false for a bool)."""
    ints = cache.replace("_C", "_I", 1)
    if coded:
        string = f"{out} = {cache}.get(v, {prefix + STRANGER!r})"
        # A list or dict is sent as STRANGER: unequal to every string, as in Python (durable finds an array or
        # object neither equal nor unequal to a string: "[]" failed `x != "v"`).
        other = (f"{out} = {cache}.get(str(v), {prefix + STRANGER!r}) if isinstance(v, str) else "
                 f"{prefix + STRANGER!r} if isinstance(v, (list, tuple, dict)) else _piece({prefix!r}, v)")
    else:
        string = f"{out} = {cache}.get(v) or _new_string({cache}, {prefix!r}, v)"
        other = f"{out} = _piece({prefix!r}, v)"
    true, false = f"{out} = {prefix + 'true'!r}", f"{out} = {prefix + 'false'!r}"
    # an exact int: its decimal digits, as repr() writes them, kept by value
    integer = f"{out} = {ints}.get(v) or _new_int({ints}, {prefix!r}, v)"
    # One string of several lines per field (the sources are written at every start, to find their compiled code).
    i, j, k = indent, indent + "    ", indent + "        "
    if kind == "bool":
        return [(f"{i}if v is True:\n{j}{true}\n{i}elif v is False:\n{j}{false}\n{i}else:\n{j}c = type(v)\n"
                f"{j}if c is str:\n{k}{string}\n{j}elif c is int:\n{k}{integer}\n{j}else:\n{k}{other}")]
    if kind == "number":
        return [(f"{i}c = type(v)\n{i}if c is int:\n{j}{integer}\n{i}elif c is str:\n{j}{string}\n"
                f"{i}elif c is bool:\n{j}{true} if v else {prefix + 'false'!r}\n{i}else:\n{j}{other}")]
    return [(f"{i}c = type(v)\n{i}if c is str:\n{j}{string}\n{i}elif c is bool:\n{j}{true} if v else {prefix + 'false'!r}\n"
            f"{i}elif c is int:\n{j}{integer}\n{i}else:\n{j}{other}")]


def encoder(fields: tuple[Field, ...], picks: Sequence[tuple[int, ...]], head: str = "") -> Callable[[dict], list[str]]:
    """A function from a fact to the bodies of the facts sent to several rulesets: for each of picks (indices into
    fields), head, then the fields picked, each as durable JSON text (',"name":value'), then the closing brace.

    Generated Python, as the python engine's stage functions are (a loop over the fields cost twice as much):
    it reads each field once, writes booleans and ints directly, takes strings from a cache of the field's own,
    writes each quantified list with a function generated for the item keys it sends, and embeds the keys and
    property names only as repr()'d literals. Its code comes compiled from the rules cache where it was kept
    (adopt_encoders)."""
    source, names = _encoder_source(fields, picks, head)
    exec(_compiled(source, "<durable facts encoder>"), names)  # noqa: S102 (literals only)
    return names["encode"]


def item_encoder(fields: tuple[Field, ...], picks: Sequence[tuple[int, ...]],
                 head: str = "") -> tuple[Callable[[dict, tuple], list[str]], Callable[[dict], tuple]]:
    """encoder() for the item facts of a scope: (encode, encode_shared). An item fact holds its row's keys (ITEM_PREFIX)
    and the profile keys its rules read, as the python engine reads them (from the profile): encode_shared(profile)
    writes the profile's once per run, and encode(row, those) each item fact's bodies."""
    source, names = _encoder_source(fields, picks, head, item=True)
    exec(_compiled(source, "<durable facts encoder>"), names)  # noqa: S102 (literals only)
    return names["encode"], names["encode_shared"]


#: Compiled encoders (marshalled) by their source, as the rules cache hands them over (adopt_encoders): compiling
#: them took ~16 ms of every durable start (8 functions, ~57,000 characters, for the shipped rules). A source not
#: found here is compiled as before.
_ENCODERS: dict[str, bytes] = {}


def _compiled(source: str, name: str) -> Any:
    cached = _ENCODERS.get(source)
    return marshal.loads(cached) if cached is not None else compile(source, name, "exec")


def encoder_code(plans: Sequence[StagePlan]) -> dict[str, bytes]:
    """The encoders a backend makes for these stage plans (as durable._StagePlan picks them) and the list encoders
    they use, compiled and marshalled: what the rules cache keeps for adopt_encoders."""
    code = {}
    for stage in plans:
        picks = scope_picks(stage)
        for scope, fields in stage.fields.items():
            source = _encoder_source(fields, picks[scope], stage.heads[scope], lists=False, item=scope is not None)[0]
            code[source] = marshal.dumps(compile(source, "<durable facts encoder>", "exec"))
            for field in fields:
                if field[2] is not None:
                    source = _list_encoder_source(field[2])[0]
                    code[source] = marshal.dumps(compile(source, "<durable list encoder>", "exec"))
    return code


def scope_picks(stage: StagePlan) -> dict[str | None, list[tuple[int, ...]]]:
    """Per fact type, the fields sent to each of the stage's rulesets that match it, in ruleset order: the bodies
    the type's encoder writes (encoder's picks)."""
    picks: dict[str | None, list[tuple[int, ...]]] = {scope: [] for scope in stage.fields}
    for chunk in stage.chunks:
        for scope in chunk.scopes:
            picks[scope].append(chunk.picks[scope])
    return picks


def adopt_encoders(code: dict[str, bytes] | None) -> None:
    """Let encoder() use these compiled encoders (encoder_code's, from the rules cache) instead of compiling them."""
    _ENCODERS.update(code or {})


def _encoder_source(fields: tuple[Field, ...], picks: Sequence[tuple[int, ...]], head: str,
                    lists: bool = True, item: bool = False) -> tuple[str, dict[str, Any]]:
    """encoder()'s function as source, and the names it uses (with its list encoders made only when `lists`); with
    `item`, item_encoder()'s two functions."""
    names: dict[str, Any] = {"_A": _ABSENT, "_piece": _piece, "_new_string": _new_string, "_new_int": _new_int}
    shared = [i for i, field in enumerate(fields) if item and not field[0].startswith(ITEM_PREFIX)]
    lines = ["def encode(fact, shared):" if item else "def encode(fact):", "    get = fact.get"]
    for j, i in enumerate(shared):
        lines.append(f"    e{i} = shared[{j}]")
    lines += _field_lines(fields, [i for i in range(len(fields)) if i not in shared], names, lists)
    bodies = ["''.join((" + repr(head) + ", " + "".join(f"e{i}, " for i in pick) + "'}'))" for pick in picks]
    lines.append("    return [" + ", ".join(bodies) + "]")
    if item:
        lines += ["def encode_shared(fact):", "    get = fact.get", *_field_lines(fields, shared, names, lists),
                  "    return (" + "".join(f"e{i}, " for i in shared) + ")"]
    return "\n".join(lines) + "\n", names


def _field_lines(fields: tuple[Field, ...], which: list[int], names: dict[str, Any], lists: bool) -> list[str]:
    """Generated lines setting e<i> to the encoded field i of `fact` (read with `get`), for each i of which."""
    lines = []
    for i in which:
        key, prefix, sub, strings, absent, kind = fields[i]
        lines.append(f"    v = get({key!r}, _A)")
        if sub is not None:
            if lists:
                names[f"_L{i}"] = _list_encoder(sub)
            lines.append(f"    e{i} = '' if v is _A else {prefix!r} + _L{i}(v)")
            continue
        names[f"_C{i}"] = {} if strings is None else {text: prefix + code for text, code in strings}
        names[f"_I{i}"] = {}
        lines += ["    if v is _A:", f"        e{i} = {absent!r}", "    else:",
                  *_value_lines(f"e{i}", prefix, f"_C{i}", "        ", strings is not None, kind)]
    return lines


def _list_encoder(sub: tuple) -> Callable[[Any], str]:
    """A function writing a quantified list as durable JSON text with the item keys of sub (as _list does)."""
    source, names = _list_encoder_source(sub)
    exec(_compiled(source, "<durable list encoder>"), names)  # noqa: S102 (literals only)
    return names["encode_list"]


def _list_encoder_source(sub: tuple) -> tuple[str, dict[str, Any]]:
    """_list_encoder()'s function as source, and the names it uses."""
    lines = ["def encode_list(value):", "    if type(value) is not list:", "        return _list(value, _SUB)",
             "    out = []", "    for item in value:", "        if type(item) is not dict:",
             "            return _list(value, _SUB)", "        get = item.get"]
    names: dict[str, Any] = {"_A": _ABSENT, "_SUB": sub, "_list": _list, "_piece": _piece, "_new_string": _new_string,
                             "_new_int": _new_int}
    for i, (key, prefix, strings, kind) in enumerate(sub):
        names[f"_C{i}"] = {} if strings is None else {text: "," + prefix + code for text, code in strings}
        names[f"_I{i}"] = {}
        lines += [f"        v = get({key!r}, _A)", "        if v is _A:", f"            e{i} = ''", "        else:",
                  *_value_lines(f"e{i}", "," + prefix, f"_C{i}", "            ", strings is not None, kind)]
    # Each piece starts with a comma: the first is cut.
    # one f-string (BUILD_STRING) rather than a chain of +: a quarter less per item
    lines += ["        out.append('{' + f'" + "".join(f"{{e{i}}}" for i in range(len(sub))) + "'[1:] + '}')",
              "    return '[' + ','.join(out) + ']'"]
    return "\n".join(lines) + "\n", names


def _chunks(stages: Sequence[Stage]) -> list[list[tuple[EngineRule, ...]]]:
    """The rules of each stage's rulesets: packed into few rulesets, per-item rules together, CHUNK at most each."""
    if any(stage.chunks for stage in stages):  # grouped by hand
        return [list(stage.chunks) or _split(stage.rules) for stage in stages]
    placed = _pack([list(stage.rules) for stage in stages])
    # Rules of one scope together, so item facts go to as few rulesets as possible.
    return [_split(tuple(sorted(rules, key=lambda r: r.scope or ""))) for rules in placed]


def _split(rules: tuple[EngineRule, ...]) -> list[tuple[EngineRule, ...]]:
    return [rules[k:k + CHUNK] for k in range(0, len(rules), CHUNK)]


def _pack(stages: list[list[EngineRule]]) -> list[list[EngineRule]]:
    """Move deferrable rules to later stages so that the stages need few rulesets and few asserts.

    Per-item rules all go to the last stage any of them is in, since a ruleset holding any gets
    an assert per item. Then a stage's part-full last ruleset takes the part-full tail of an
    earlier stage when it fits. Rules that decide derived facts stay where they are.
    """
    placed = [list(rules) for rules in stages]
    scoped = [(s, r) for s, rules in enumerate(placed) for r in rules if r.scope and r.deferrable]
    if scoped:
        home = max(s for s, _ in scoped)
        placed = [[r for r in rules if not (r.scope and r.deferrable)] for rules in placed]
        placed[home].extend(r for _, r in scoped)
    for s in range(len(placed) - 1, 0, -1):
        if not placed[s]:
            continue
        room = -len(placed[s]) % CHUNK
        for t in range(s - 1, -1, -1):
            tail = len(placed[t]) % CHUNK
            movable = [r for r in placed[t] if not r.scope and r.deferrable]
            if 0 < tail <= room and tail <= len(movable):
                moved = movable[-tail:]
                ids = {r.id for r in moved}
                placed[t] = [r for r in placed[t] if r.id not in ids]
                placed[s].extend(moved)
                room -= tail
    return placed


# -- the plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkPlan:
    """One ruleset: its definition as durable JSON text, its rule names and the fact types it matches."""

    label: str
    text: str
    #: durable rule name -> engine rule id (None for the rule the start fact fires)
    rule_ids: dict[str, str | None]
    #: The fact types this ruleset matches: None for the profile, else item scopes.
    scopes: tuple[str | None, ...]
    #: Per scope, which of the stage's fields (StagePlan.fields) this ruleset's rules read: its facts hold
    #: those alone (each property costs durable-rules time at every alpha node it visits).
    picks: dict[str | None, tuple[int, ...]]


@dataclass(frozen=True)
class StagePlan:
    """The rulesets of one stage and how to write its facts (once per run, shared by all its rulesets)."""

    fields: dict[str | None, tuple[Field, ...]]
    heads: dict[str | None, str]
    chunks: tuple[ChunkPlan, ...]


def plan(stages: Sequence[Stage]) -> list[StagePlan]:
    """What durable-rules is given for these stages; DurableLimit when it cannot take them."""
    names = _Names()
    codes: dict[str | None, int] = {None: 0}
    chunked = _chunks(stages)
    pruned = {id(rule): prune(rule.condition) for chunks in chunked for chunk in chunks for rule in chunk}
    for cond in pruned.values():
        names.learn(cond)
    return [_stage(names, codes, stage.index, chunks, pruned) for stage, chunks in zip(stages, chunked)]


def _stage(names: _Names, codes: dict[str | None, int], index: int, chunks: list[tuple[EngineRule, ...]],
           pruned: dict[int, Node]) -> StagePlan:
    reads: dict[str | None, tuple[set[str], dict[str, set[str]]]] = {}
    kept_chunks = []
    for chunk in chunks:
        kept = []
        chunk_reads: dict[str | None, tuple[set[str], dict[str, set[str]]]] = {}
        for rule in chunk:
            cond = pruned[id(rule)]
            if is_false(cond):
                continue  # can never fire
            kept.append((rule, cond))
            if rule.scope not in codes:
                codes[rule.scope] = len(codes)
            _reads(cond, *reads.setdefault(rule.scope, (set(), {})))
            _reads(cond, *chunk_reads.setdefault(rule.scope, (set(), {})))
        if kept:
            kept_chunks.append((kept, chunk_reads))
    for scope, (top, lists) in reads.items():
        found = _fields(names, top, lists)
        widest = max([len(found)] + [len(field[2]) for field in found if field[2] is not None])
        if widest > MAX_FIELDS:
            what = "the profile" if scope is None else f"a {scope} item"
            raise DurableLimit(f"durable-rules backend: stage {index} reads {widest} keys of {what} or its items; "
                               f"at most {MAX_FIELDS}")
    # Each ruleset is sent the keys its own rules read, and in a quantified list the item keys its own rules
    # read (durable parses every item again for each quantifier it evaluates); the stage's fields are these,
    # each written once per run.
    fields: dict[str | None, list[Field]] = {scope: [] for scope in reads}
    positions: dict[str | None, dict[Field, int]] = {scope: {} for scope in reads}
    plans = []
    for n, (kept, chunk_reads) in enumerate(kept_chunks):
        picks = {}
        for scope, (top, lists) in chunk_reads.items():
            picked = []
            for field in _fields(names, top, lists):
                if field not in positions[scope]:
                    positions[scope][field] = len(fields[scope])
                    fields[scope].append(field)
                picked.append(positions[scope][field])
            picks[scope] = tuple(picked)
        plans.append((kept, picks, n))
    heads = {scope: ',"T":' + str(codes[scope]) for scope in fields}
    return StagePlan({scope: tuple(found) for scope, found in fields.items()}, heads,
                     tuple(_chunk(names, codes, f"stage {index} chunk {n}", kept, picks) for kept, picks, n in plans))


def _chunk(names: _Names, codes: dict[str | None, int], label: str, kept: list[tuple[EngineRule, Node]],
           picks: dict[str | None, tuple[int, ...]]) -> ChunkPlan:
    compiler = _Compiler(names)
    rule_ids: dict[str, str | None] = {}
    definition: dict[str, Any] = {}
    by_scope: dict[str | None, list[tuple[str, list]]] = {}
    for rule, cond in kept:
        for tests in compiler.pieces(rule.id, cond):
            by_scope.setdefault(rule.scope, []).append((rule.id, tests))
    scopes = tuple(sorted(by_scope, key=lambda s: codes[s]))
    number = itertools.count()
    for scope in scopes:
        group = by_scope[scope]
        if len(group) > MAX_RULES:
            raise DurableLimit(f"durable-rules backend: {label} needs over {MAX_RULES} durable rules for one fact type")
        for (rule_id, tests), path in zip(group, _paths(compiler, [tests for _, tests in group])):
            name = f"r{next(number)}"
            rule_ids[name] = rule_id
            definition[name] = {"all": [{"m": {"$and": [{"T": codes[scope]}, *path, *tests]}}]}
    # The rule the start fact fires: a session runs one action (the first one frees what durable-rules leaves
    # unset in a new session, which delete_state would otherwise free) before any other fact is asserted.
    rule_ids[START_RULE] = None
    definition[START_RULE] = {"all": [{"m": {"T": START}}]}
    return ChunkPlan(label, _write(definition), rule_ids, scopes, picks)


_NEGATIVE_ZERO = re.compile(r"-0\.0(?![0-9e])")


class _Network:
    """The alpha network durable-rules builds for one fact type of a ruleset, as far as its stack is concerned.

    Modelled on durable's rete.c (createAlpha, findAlpha): the tests of an $and are chained, each under
    the one before; a test equal to one already under the same parent (same property, operator and value)
    is that node; an $or puts its branches under the parent and a new node (the "forward" node) under
    the last node of each branch, and what follows the $or goes under that node; a quantifier is always
    a new node (its item tests are matched without the stack).
    """

    def __init__(self) -> None:
        self.children: list[dict[Any, int]] = [{}]

    def _new(self) -> int:
        self.children.append({})
        return len(self.children) - 1

    def add(self, tests: list, parent: int = 0) -> int:
        for test in tests:
            parent = self._test(parent, test)
        return parent

    def _test(self, parent: int, test: dict) -> int:
        if "$and" in test:
            return self.add(test["$and"], parent)
        if "$or" in test:
            tails = [self.add(_parts(branch), parent) for branch in test["$or"]]
            forward = self._new()
            for tail in tails:
                self.children[tail][("forward", forward)] = forward
            return forward
        if "$iany" in test or "$iall" in test:
            node = self._new()
            self.children[parent][("quantifier", node)] = node
            return node
        key = _NEGATIVE_ZERO.sub("0.0", _write(test))  # durable compares numbers by value: -0.0 is 0.0
        node = self.children[parent].get(key)
        if node is None:
            node = self.children[parent][key] = self._new()
        return node

    def peak(self) -> int:
        """The most nodes on durable's stack at once (the stack starts with this network's root popped) if every
        test matched: a node pushes all its children, then each is followed in turn while the others wait."""
        peaks = [0] * len(self.children)
        for node in range(len(self.children) - 1, -1, -1):  # a node's children are made after it
            kids = self.children[node].values()
            if kids:
                peaks[node] = len(kids) - 1 + max(1, max(peaks[k] for k in kids))
        return peaks[0]


def _width(tests: list) -> int:
    """How many nodes the tests of a pattern put directly under its parent (an $or's branches all go there)."""
    if not tests:
        return 0
    first = tests[0]
    if "$and" in first:
        return _width(first["$and"])
    if "$or" in first:
        return sum(_width(_parts(b)) for b in first["$or"])
    return 1


def _fits(pieces: list[list], paths: list[list[dict]]) -> bool:
    network = _Network()
    for tests, path in zip(pieces, paths):
        network.add(path + tests)
    return network.peak() <= STACK_LIMIT


def _paths(compiler: _Compiler, pieces: list[list]) -> list[list[dict]]:
    """Head tests above each durable rule (given as its list of tests, under the discriminator).

    Every alpha node durable-rules visits costs it a look-up per property of the fact, and every head
    is visited by every fact of its type: as few heads as durable's 64-entry stack allows (worked out
    on a model of the network, _Network). The rules go straight under the discriminator when they fit,
    else into g groups under a head each; when no single level of heads fits, groups of at most FANOUT
    under every node, then one head per rule (at most 3 * (FANOUT - 1) waiting, which STACK_BUDGET
    leaves room for).
    """
    count = len(pieces)
    widths = [max(1, _width(tests)) for tests in pieces]
    total = sum(widths)
    for groups in range(1, FANOUT + 1):
        # Consecutive rules, about total / groups nodes under each head.
        paths: list[list[dict]] = []
        head: list[dict] = [] if groups == 1 else [compiler.head()]
        filled = 0
        for width in widths:
            if head and filled and filled + width > -(-total // groups):
                head, filled = [compiler.head()], 0
            paths.append(head)
            filled += width
        if _fits(pieces, paths):
            return paths
    paths = [[compiler.head()] for _ in range(count)]
    groups_ = [[i] for i in range(count)]
    while len(groups_) > FANOUT:
        merged = [list(itertools.chain.from_iterable(groups_[k:k + FANOUT])) for k in range(0, len(groups_), FANOUT)]
        for members in merged:
            head = compiler.head()
            for i in members:
                paths[i].insert(0, head)
        groups_ = merged
    return paths
