"""The durable-rules engine: runs the compiled rules as durable-rules (2.0.28) rulesets.

This is the only module of advisor that imports ``durable``; ``advisor.engine`` imports it
lazily, and an ImportError here means "durable-rules is not available".

How the IR (see ``advisor.ir``) maps onto durable-rules, and why:

* Rules are grouped into rulesets of at most CHUNK (a fact matching more than 64 sibling
  conditions fails with error 303), as few as the stages allow: a rule that makes a finding
  (``EngineRule.deferrable``) may run in any stage after its own, so it fills a later stage's
  part-full ruleset, and every per-item rule runs in one stage (a ruleset holding any gets an
  assert per item). The rulesets are built once per backend and reused; ``close()`` frees
  them (the stock Host never frees a ruleset).
  Each rule has one pattern ``{"m": {"$and": [...]}}`` whose first test is the positive
  discriminator ``{"T": code}`` (0 = profile fact, 1.. = item scopes), then always-true "head"
  tests ``{"$neq": {"T": -n}}`` (distinct ``n``) that put at most 8 rules under any node, then
  the condition. Every ruleset also has an always-firing rule ``{"T": code}`` per fact type it
  uses, so no assert is "not handled" and every session has run an action before it is deleted.
* Conditions: ``{field: v}`` (eq), ``{"$neq"|"$lt"|"$lte"|"$gt"|"$gte": {field: v}}``,
  ``{"$ex": {field: 1}}``, ``{"$nex": {field: 1}}``, ``{"$and": [..]}``, ``{"$or": [..]}``;
  quantifiers ``{"$iany"|"$iall": {list_field: cond}}`` with ``"$i.<field>"`` as item fields
  (operators wrap them as elsewhere: ``{"$gt": {"$i.x": 1}}``). TRUE (``And()``) is dropped from
  an And, FALSE (``Or()``) from an Or; a rule that is FALSE is left out, a rule that is TRUE is
  the discriminator and heads alone.
* durable-rules evaluates an Or inside a quantifier wrongly: a later item property tested
  overwrites an earlier match. Among ``$nex`` tests it stops at the first success, so there
  every Or branch starts with a ``$nex`` on a property no item has (``"$i.Q<n>"``); TRUE inside
  a quantifier is such a test alone (``$iany`` then means "the list has an item").
* durable-rules' limits are checked when building, not met at run time: a pattern holds at
  most 15 ``$and``/``$or`` (error 113), and the alpha nodes still to visit sit on a 64-entry
  stack (error 303: every matching Or branch waits there). A condition past either is split at
  an Or (distributing And over it) into several durable rules for the same rule id; one that
  cannot be split small enough is refused with EngineError.
* Values are encoded the same way in conditions and facts so that durable-rules compares them
  as Python does: a str becomes ``"s" + hex(utf-8)`` (durable compares strings with ``strncmp``
  over the raw JSON text and 16-bit lengths: wrong for escapes, for a prefix followed by a
  character below ``"``, and past 64 KiB; hex keeps order and equality exact, the ``s`` keeps a
  string from equalling a number as ``"5" == 5`` does in durable, and strings are cut to
  MAX_STRING bytes, which no comparison with a shorter constant can tell); None becomes
  ``"n"``; a float is written with a dot (``1.0e-05``: durable's parser rejects ``1e-05``),
  infinities as ``±1.0e999``; NaN and ints outside 64 bits are refused with EngineError.
  bool against int is left alone: ``True == 1`` holds in durable as it does in Python.
* Fact keys are renamed to short generated names (``F<n>``, ``G<n>`` inside items) whose
  durable property hashes (FNV-1a, 32 bits) differ from each other and from the engine's own
  (``sid``, ``id``, ...). A fact holds only the keys the stage's rules read; it is written once
  per run and sent to every ruleset of the stage.
* Actions: the stock Host runs each action through Closure/Promise objects and writes the
  session state back after it, about 30 us per fired rule. This backend uses a Host (without
  its timer threads) only to hold its rulesets and drives the engine's action queue itself:
  after each assert it takes the queued action messages and records the rule name each starts
  with. No code of ours runs inside the engine, so no exception can be swallowed there. Engine
  errors become EngineError naming the ruleset and the error code.

Sessions: each ``run`` uses a new session id, asserts the facts one by one (an item's idx is
known from which assert fired the rule; one batch was no faster) and deletes the session after
a clean run. After an engine error the session is left alone (durable-rules can crash deleting
it) and counted; a ruleset that collected MAX_LEAKED such sessions is replaced.

Not thread-safe: use one backend from one thread at a time (durable-rules never releases the
GIL, and the stock Host's timer threads, which crashed with several hosts, are not started).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import durable.engine as _durable

from ..errors import EngineError
from .ir import And, Cmp, EngineRule, Exists, Facts, Missing, Node, Or, Quant, Stage, is_false, is_true, simplify

_engine = _durable.durable_rules_engine  # the C extension durable.engine drives

#: Most rules per ruleset: a fact matching more than 64 sibling conditions fails (error 303).
CHUNK = 50
#: Most children an added head node lets any alpha node have (durable's stack holds 64).
FANOUT = 8
#: Most $and/$or in one durable pattern (error 113 past 15).
MAX_OPS = 15
#: Most alpha nodes one rule's condition may leave on durable's 64-entry stack; the rest is for the
#: discriminator and up to three levels of head tests above the rule (error 303 past 64).
STACK_BUDGET = 64 - (1 + 3 * FANOUT) - 3
#: Most durable rules one IR rule may be split into, and most durable rules per fact type in a ruleset.
MAX_PIECES = 64
MAX_RULES = FANOUT**3
#: Sessions left undeleted after engine errors before a ruleset is rebuilt (durable allows 1024 live ones).
MAX_LEAKED = 256
#: Longest string sent, in UTF-8 bytes (durable keeps string lengths in 16 bits when comparing; hex doubles them).
MAX_STRING = 32000
#: Most properties a fact may have (durable: 255 with its own sid and id); we add T and N.
MAX_FIELDS = 250

_OPS = {"neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_INT64 = (-(2**63), 2**63 - 1)
_CODES = {
    1: "message not handled",
    2: "fact already asserted",
    102: "unexpected type",
    106: "too many rules under one node",
    107: "too many $nex tests under one node",
    113: "too many expressions",
    201: "cannot parse a value",
    202: "cannot parse a string",
    203: "cannot parse a number",
    204: "cannot parse an object",
    205: "cannot parse an array",
    302: "a fact has too many properties",
    303: "a fact matches too many conditions at once",
    309: "session not found",
    313: "a fact is too large",
    314: "a fact value is too large",
}
_ruleset_ids = itertools.count(1)
_PREFIX = "advisor_" + uuid.uuid4().hex[:8]


def _fnv(name: str) -> int:
    """durable-rules' property-name hash (FNV-1a, 32 bits)."""
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


class _Raw(str):
    """Text that goes into the rules JSON as it is (an already encoded value)."""


def _engine_error(where: str, exc: BaseException) -> EngineError:
    found = re.search(r"error code: (\d+)", str(exc))
    if found:
        code = int(found.group(1))
        meaning = _CODES.get(code)
        suffix = f" ({meaning})" if meaning else ""
        return EngineError(f"durable-rules {where} failed with error code {code}{suffix}")
    return EngineError(f"durable-rules {where} failed: {exc}")


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


class _Names:
    """Generated property names with durable hashes distinct from each other and from the engine's own."""

    def __init__(self) -> None:
        self._hashes = {_fnv(n) for n in ("sid", "id", "T", "N", "$s", "$forward", "$i", "$l", "$r")}
        self._counts: dict[str, itertools.count] = {}
        self.top: dict[str, str] = {}
        self.item: dict[str, str] = {}

    def new(self, letter: str, hashed_prefix: str = "") -> str:
        counter = self._counts.setdefault(letter, itertools.count())
        while True:
            name = f"{letter}{next(counter)}"
            h = _fnv(hashed_prefix + name)
            if h not in self._hashes:
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

    def expr(self, node: Node, in_item: bool = False) -> dict:
        if isinstance(node, Cmp):
            name = "$i." + self.names.item_field(node.key) if in_item else self.names.field(node.key)
            if isinstance(node.value, str) and len(node.value.encode("utf-8", "surrogatepass")) >= MAX_STRING:
                raise EngineError(f"durable-rules backend: a condition's string is longer than {MAX_STRING - 1} bytes")
            value = _Raw(_scalar(node.value))
            return {name: value} if node.op == "eq" else {_OPS[node.op]: {name: value}}
        if isinstance(node, (Exists, Missing)):
            name = "$i." + self.names.item_field(node.key) if in_item else self.names.field(node.key)
            return {"$ex" if isinstance(node, Exists) else "$nex": {name: 1}}
        if isinstance(node, And):
            return {"$and": [self.expr(item, in_item) for item in node.items]}
        if isinstance(node, Or):
            if not in_item:
                return {"$or": [self.expr(item) for item in node.items]}
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

    def pieces(self, rule_id: str, cond: Node) -> list[list]:
        """The condition as the tests of one or more durable patterns whose union it is, each within durable's limits.

        A pattern may hold at most MAX_OPS $and/$or (error 113), and its Or's must not leave more than
        STACK_BUDGET alpha nodes to visit at once (error 303); a condition past either is split at an Or
        (distributing And over it) into several durable rules for the same rule id.
        """
        pending, done = [cond], []
        while pending:
            cond = pending.pop()
            tests = [] if is_true(cond) else _parts(self.expr(cond))
            if 1 + _ops(tests) <= MAX_OPS and _stack(tests) <= STACK_BUDGET:
                done.append(tests)
                continue
            alternatives = _alternatives(cond)
            if alternatives is None:
                raise EngineError(f"durable-rules backend: the condition of rule '{rule_id}' is too complex for durable")
            pending.extend(a for a in alternatives if not is_false(a))
            if len(done) + len(pending) > MAX_PIECES:
                raise EngineError(f"durable-rules backend: rule '{rule_id}' needs more than {MAX_PIECES} durable rules")
        return done


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

Field = tuple  # (key, ',"name":', item fields or None)


def _fields(names: _Names, top: set[str], lists: dict[str, set[str]]) -> tuple[Field, ...]:
    out = []
    for key in sorted(top):
        sub = None
        if key in lists:
            sub = tuple((k, '"' + names.item_field(k) + '":') for k in sorted(lists[key]))
        out.append((key, ',"' + names.field(key) + '":', sub))
    return tuple(out)


def _bool(value: bool) -> str:
    return "true" if value else "false"


_ENCODE: dict[type, Callable[[Any], str]] = {str: _str, int: _int, bool: _bool, float: _float}


def _list(value: Any, sub: tuple) -> str:
    if not isinstance(value, (list, tuple)):
        return _scalar(value)
    items = []
    for item in value:
        if not isinstance(item, dict):
            raise EngineError(f"durable-rules backend: a quantified list holds {type(item).__name__}, not item dicts")
        items.append("{" + ",".join(prefix + _scalar(item[k]) for k, prefix in sub if k in item) + "}")
    return "[" + ",".join(items) + "]"


def _serialise(head: str, fact: dict, fields: tuple[Field, ...]) -> str:
    """A fact as durable JSON text: head (sid, T, N) then the keys the rules read, encoded."""
    parts = [head]
    append = parts.append
    encode = _ENCODE.get
    for key, prefix, sub in fields:
        if key in fact:
            value = fact[key]
            if sub is None:
                enc = encode(type(value))
                append(prefix + (enc(value) if enc is not None else _scalar(value)))
            else:
                append(prefix + _list(value, sub))
    append("}")
    return "".join(parts)


# -- engine objects -------------------------------------------------------------------


class _Host(_durable.Host):
    """A durable Host that never starts the two timer threads of the stock one (they crashed with several hosts)."""

    def _run(self) -> None:  # the stock Host starts its dispatch and timer threads here
        pass

    def add(self, ruleset: _Ruleset) -> None:
        self._ruleset_directory[ruleset._name] = ruleset
        self._ruleset_list.append(ruleset)

    def remove(self, ruleset: _Ruleset) -> None:
        self._ruleset_directory.pop(ruleset._name, None)
        if ruleset in self._ruleset_list:
            self._ruleset_list.remove(ruleset)


class _Ruleset(_durable.Ruleset):
    """A ruleset built from JSON text we write ourselves (the stock one writes floats durable cannot read)."""

    def __init__(self, name: str, host: _Host, text: str):
        self._actions = {}
        self._name = name
        self._host = host
        self._definition = text
        try:
            self._handle = _engine.create_ruleset(name, text)
        except Exception as exc:
            raise _engine_error(f"ruleset '{name}': create_ruleset", exc) from exc


def _free(handles: list[int]) -> None:
    """Free rulesets in the engine (the stock Host never does); each handle once."""
    while handles:
        handle = handles.pop()
        with contextlib.suppress(_engine.error):  # an invalid handle: nothing left to free
            _engine.delete_ruleset(handle)


class _Chunk:
    """One ruleset: the rules of a chunk, the facts it needs, and its session bookkeeping."""

    def __init__(self, backend: DurableBackend, label: str, kept: list[tuple[EngineRule, Node]]):
        self.backend = backend
        self.label = label
        compiler = _Compiler(backend._names)
        codes = backend._codes
        self.rule_ids: dict[str, str | None] = {}
        definition: dict[str, Any] = {}
        by_scope: dict[str | None, list[tuple[str, list]]] = {}
        for rule, cond in kept:
            for tests in compiler.pieces(rule.id, cond):
                by_scope.setdefault(rule.scope, []).append((rule.id, tests))
        #: The fact types this ruleset matches: None for the profile, else item scopes.
        self.scopes = tuple(sorted(by_scope, key=lambda s: codes[s]))
        number = itertools.count()
        for scope in self.scopes:
            group = by_scope[scope]
            if len(group) > MAX_RULES:
                raise EngineError(f"durable-rules backend: {label} needs over {MAX_RULES} durable rules for one fact type")
            for (rule_id, tests), path in zip(group, self._paths(compiler, len(group))):
                name = f"r{next(number)}"
                self.rule_ids[name] = rule_id
                definition[name] = {"all": [{"m": {"$and": [{"T": codes[scope]}, *path, *tests]}}]}
            always = f"a{codes[scope]}"
            self.rule_ids[always] = None
            definition[always] = {"all": [{"m": {"T": codes[scope]}}]}
        self.text = _write(definition)
        self.leaked = 0
        self._build()

    @staticmethod
    def _paths(compiler: _Compiler, count: int) -> list[list[dict]]:
        """Head tests above each rule: groups of at most FANOUT under every node, then one head per rule."""
        paths: list[list[dict]] = [[compiler.head()] for _ in range(count)]
        groups = [[i] for i in range(count)]
        while len(groups) > FANOUT:
            merged = [list(itertools.chain.from_iterable(groups[k:k + FANOUT])) for k in range(0, len(groups), FANOUT)]
            for members in merged:
                head = compiler.head()
                for i in members:
                    paths[i].insert(0, head)
            groups = merged
        return paths

    def _build(self) -> None:
        name = f"{_PREFIX}_{next(_ruleset_ids)}"
        self.ruleset = _Ruleset(name, self.backend._host, self.text)
        self.backend._host.add(self.ruleset)
        self.handle = self.ruleset._handle
        self.backend._handles.append(self.handle)
        self.leaked = 0

    def run(self, texts: list[tuple[str, Any]], sid: str, fired: set) -> None:
        """Assert the facts one by one in a new session, record the rules fired, delete the session."""
        if not texts:
            return  # no fact of a type this ruleset matches: nothing can fire, and no session was made
        handle = self.handle
        rule_ids = self.rule_ids
        where = "assert_fact"
        try:
            for text, idx in texts:
                where = "assert_fact"
                result = _engine.assert_fact(handle, text)
                if result[0] != 0:
                    raise EngineError(
                        f"durable-rules ruleset '{self.ruleset._name}' ({self.label}): assert_fact returned code"
                        f" {result[0]} ({_CODES.get(result[0], 'unknown')})"
                    )
                where = "start_action_for_state"
                state = result[1]
                started = _engine.start_action_for_state(handle, state)
                if started and '"exception"' in started[0]:  # never set by us: no code of ours runs in the engine
                    raise EngineError(f"durable-rules ruleset '{self.ruleset._name}' ({self.label}): {started[0]}")
                message = started[1] if started else None
                while message:
                    # An action message is '{"<rule name>":{"m":<fact>}}'.
                    rule_id = rule_ids[message[2:message.find('"', 2)]]
                    if rule_id is not None:
                        fired.add((rule_id, idx))
                    where = "complete_and_start_action"
                    message = _engine.complete_and_start_action(handle, state)
        except EngineError:
            self._leak()
            raise
        except Exception as exc:
            error = _engine_error(f"ruleset '{self.ruleset._name}' ({self.label}): {where}", exc)
            self._leak()
            raise error from exc
        try:
            _engine.delete_state(handle, sid)
        except Exception as exc:
            raise _engine_error(f"ruleset '{self.ruleset._name}' ({self.label}): delete_state", exc) from exc

    def _leak(self) -> None:
        """After an engine error the session is not deleted (that can crash durable-rules); it stays in the
        ruleset. Past MAX_LEAKED such sessions (durable allows 1024 live ones) the ruleset is replaced."""
        self.leaked += 1
        if self.leaked >= MAX_LEAKED:
            old = self.ruleset
            self._build()
            self.backend._host.remove(old)
            handles = self.backend._handles
            if old._handle in handles:
                handles.remove(old._handle)
                _free([old._handle])


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


class _StagePlan:
    """The rulesets of one stage and how to write its facts (once per run, shared by all its rulesets)."""

    def __init__(self, backend: DurableBackend, index: int, chunks: list[tuple[EngineRule, ...]]):
        reads: dict[str | None, tuple[set[str], dict[str, set[str]]]] = {}
        kept_chunks = []
        for chunk in chunks:
            kept = []
            for rule in chunk:
                cond = simplify(rule.condition)
                if is_false(cond):
                    continue  # can never fire
                kept.append((rule, cond))
                if rule.scope not in backend._codes:
                    backend._codes[rule.scope] = len(backend._codes)
                _reads(cond, *reads.setdefault(rule.scope, (set(), {})))
            if kept:
                kept_chunks.append(kept)
        names = backend._names
        self.fields: dict[str | None, tuple[Field, ...]] = {}
        for scope, (top, lists) in reads.items():
            fields = _fields(names, top, lists)
            widest = max([len(fields)] + [len(sub) for _, _, sub in fields if sub is not None])
            if widest > MAX_FIELDS:
                what = "the profile" if scope is None else f"a {scope} item"
                raise EngineError(
                    f"durable-rules backend: stage {index} reads {widest} keys of {what} or its items; at most {MAX_FIELDS}"
                )
            self.fields[scope] = fields
        self.heads = {scope: ',"T":' + str(backend._codes[scope]) for scope in self.fields}
        self.chunks = [_Chunk(backend, f"stage {index} chunk {n}", kept) for n, kept in enumerate(kept_chunks)]

    def run(self, facts: Facts, sid: str) -> set[tuple[str, int | None]]:
        fired: set[tuple[str, int | None]] = set()
        if not self.chunks:
            return fired
        start = '{"sid":"' + sid + '"'
        texts: dict[str | None, list[tuple[str, Any]]] = {}
        n = 0
        for scope, fields in self.fields.items():
            if scope is None:
                texts[None] = [(_serialise(start + self.heads[None] + ',"N":0', facts.profile, fields), None)]
            else:
                out = texts[scope] = []
                head = start + self.heads[scope] + ',"N":'
                for item in facts.items.get(scope, ()):
                    n += 1
                    out.append((_serialise(head + str(n), item, fields), item["idx"]))
        for chunk in self.chunks:
            scopes = chunk.scopes
            chunk.run(texts[scopes[0]] if len(scopes) == 1 else [t for s in scopes for t in texts[s]], sid, fired)
        return fired


class DurableBackend:
    """Evaluates each stage's rules with durable-rules; built once, reused for every profile. Not thread-safe."""

    name = "durable"

    def __init__(self, stages: Sequence[Stage]):
        self._host = _Host()
        self._names = _Names()
        self._codes: dict[str | None, int] = {None: 0}
        self._handles: list[int] = []
        self._free = weakref.finalize(self, _free, self._handles)
        self._sessions = itertools.count(1)
        self._closed = False
        try:
            self._stages = [_StagePlan(self, stage.index, chunks) for stage, chunks in zip(stages, _chunks(stages))]
        except BaseException:
            self._free()
            raise

    def run(self, stage: int, facts: Facts) -> set[tuple[str, int | None]]:
        """The (rule id, item idx or None) of every rule that fires on these facts."""
        if self._closed:
            raise EngineError("the durable-rules engine was closed")
        return self._stages[stage].run(facts, str(next(self._sessions)))

    def close(self) -> None:
        """Free the engine's rulesets (the stock durable Host never does); the backend cannot run afterwards."""
        self._closed = True
        self._stages = []
        self._free()
