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
  discriminator ``{"T": code}`` (0 = profile fact, 1.. = item scopes), then, only where
  durable's 64-entry stack needs them, always-true "head" tests ``{"$neq": {"T": -n}}``
  (distinct ``n``) that group the rules under a few nodes, then the condition. durable-rules
  visits every head for every fact, and each node it visits costs it a look-up per property of
  the fact: the heads are as few as a model of the network (durable_form._Network) shows the
  stack allows, most often none. Every ruleset also has a rule for a start fact ``{"T": -1}``,
  asserted once into each session before any other: durable-rules leaves two pointers of a new
  session unset until an action completes, and delete_state frees them (it crashed deleting a
  session where no action had run). A fact no rule matches is then simply "not handled" (code 1
  from the C extension, which raises nothing; MessageNotHandledException is the Python wrapper's):
  durable stores nothing for it, so it starts no action and needs no retraction. (An always-firing
  rule per fact type did the start fact's job before: an extra action, drained, for every fact.)
* Conditions are first pruned (durable_form.prune): a test that the tests And-ed with it settle
  is folded away (variants of a rule with exceptions repeat each other's tests, negated), so
  durable visits fewer nodes, keeps fewer Or branches waiting and parses lists for fewer
  quantifiers; the pruned condition holds on exactly the same facts.
* Conditions: ``{field: v}`` (eq), ``{"$neq"|"$lt"|"$lte"|"$gt"|"$gte": {field: v}}``,
  ``{"$ex": {field: 1}}``, ``{"$nex": {field: 1}}``, ``{"$and": [..]}``, ``{"$or": [..]}``;
  quantifiers ``{"$iany"|"$iall": {list_field: cond}}`` with ``"$i.<field>"`` as item fields
  (operators wrap them as elsewhere: ``{"$gt": {"$i.x": 1}}``). TRUE (``And()``) is dropped from
  an And, FALSE (``Or()``) from an Or; a rule that is FALSE is left out, a rule that is TRUE is
  the discriminator and heads alone. durable follows an And's tests in order and stops at the
  first that fails: outside quantifiers they are written equality tests first and quantifiers
  last (durable parses the list's items again for each quantifier it evaluates), each kind
  sorted by text so that rules with the same tests share nodes.
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
  as Python does. A key that rules compare with strings only for equality (or not at all) has its
  strings sent as codes: ``"c<n>"`` for each string the rules name, ``"x"`` for any other string and for a
  list or dict (durable then parses, stores and writes back much shorter facts). Such a key that rules
  also test for presence is sent even when absent, as ``"a"`` (durable_form.ABSENT): "missing" is then
  one equality test and "present" one ``$neq``, and ``x != v or x is missing`` (rules with exceptions are
  full of them) the single test ``x != v`` where it was an Or, whose branches durable visits and then a
  node of its own (40% fewer ``$nex`` tests, 43% fewer ``$or`` in the shipped rules).
  Otherwise a str becomes ``"s" + hex(utf-8)`` (durable compares strings with ``strncmp``
  over the raw JSON text and 16-bit lengths: wrong for escapes, for a prefix followed by a
  character below ``"``, and past 64 KiB; hex keeps order and equality exact, the ``s`` keeps a
  string from equalling a number as ``"5" == 5`` does in durable, and strings are cut to
  MAX_STRING bytes, which no comparison with a shorter constant can tell); None becomes
  ``"n"``; a float is written with a dot (``1.0e-05``: durable's parser rejects ``1e-05``),
  infinities as ``±1.0e999``; NaN and ints outside 64 bits are refused with EngineError.
  bool against int is left alone: ``True == 1`` holds in durable as it does in Python.
* Fact keys are renamed to the shortest generated names (``a``, ``b``... ``ab``..., durable_form._short) whose
  durable property hashes (FNV-1a, 32 bits) differ from each other and from the engine's own
  (``sid``, ``id``, ...), and whose hash slots (hash & 31) avoid those the heads and ``id``,
  ``sid`` fill. A fact sent to a ruleset holds only the keys that ruleset's rules read (each
  property costs durable time at every node it visits); each key is encoded once per run,
  and the profile keys an item fact holds once for all its scope's items (durable_form.item_encoder). Each
  fact has an ``id`` of ours, so durable need not hash its text for one, and is retracted by
  its sid and id alone. The facts are written by a function generated per stage and fact type
  (durable_form.encoder), which keeps each field's encoded strings by value.
* Actions: the stock Host runs each action through Closure/Promise objects and writes the
  session state back after it, about 30 us per fired rule. This backend drives durable-rules' C
  extension (durable_rules_engine) directly, without its Python package (durable.engine, with
  logging, threading and the rest, whose import cost every start of the default engine ~17M
  instructions): it makes the rulesets itself and drives the engine's action queue: after each
  assert it takes the queued action messages and records the rule name each starts with. No code
  of ours runs inside the engine, so no exception can be swallowed there. Engine
  errors become EngineError naming the ruleset and the error code.

Sessions: each ``run`` asserts the facts one by one into the backend's session (an item's idx is
known from which assert fired the rule; one batch was no faster, and assert_facts silently drops a fact
it cannot parse and all after it, leaving the state offset it returns unset) and retracts those that fired a rule
after a clean run, so the session is empty for the next profile (a new session per profile, deleted after it,
cost about 30% more). After an engine error the session is left alone (durable-rules can crash
deleting it) and counted, and the backend takes a new session id; a ruleset that collected
MAX_LEAKED such sessions is replaced.

Rulesets are made once per process and shared by every backend with the same rules (_Pool).
Not thread-safe: use durable backends from one thread at a time (durable-rules never releases the
GIL, and the stock Host's timer threads, which crashed with several hosts, are never started: no Host is made).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import durable_rules_engine as _engine

from ..errors import EngineError
from .durable_form import (
    START,
    ChunkPlan,
    StagePlan,
    encoder,
    item_encoder,
    plan,
    scope_picks,
)
from .ir import Facts, Stage

# durable-rules' C extension, driven directly: its Python package (durable.engine) adds nothing this backend uses
# and cost ~17M instructions to import (with logging) on every start of the default engine.
# What durable-rules is given (rulesets as JSON text, property names, facts) is planned in
# advisor.engine.durable_form, which needs no durable-rules; this module builds and runs it.

#: Sessions left undeleted after engine errors before a ruleset is rebuilt (durable allows 1024 live ones).
MAX_LEAKED = 256
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


def _engine_error(where: str, exc: BaseException) -> EngineError:
    found = re.search(r"error code: (\d+)", str(exc))
    if found:
        code = int(found.group(1))
        meaning = _CODES.get(code)
        suffix = f" ({meaning})" if meaning else ""
        return EngineError(f"durable-rules {where} failed with error code {code}{suffix}")
    return EngineError(f"durable-rules {where} failed: {exc}")


# -- engine objects -------------------------------------------------------------------


class _Ruleset:
    """A ruleset of durable-rules' C extension, built from JSON text we write ourselves (durable.engine's Ruleset
    writes floats durable cannot read)."""

    def __init__(self, name: str, text: str):
        self._name = name
        self._definition = text
        try:
            self._handle = _engine.create_ruleset(name, text)
        except Exception as exc:
            raise _engine_error(f"ruleset '{name}': create_ruleset", exc) from exc


class _Pool:
    """The process's rulesets, one per ruleset text, shared by every backend and never deleted.

    durable-rules fails to create rulesets after some have been deleted (error 102 on a text it
    accepted before: measured on 2026-12-02, a loop making, running and closing an Advisor failed
    at its 13th turn in each of three processes, and never in 150 turns when no ruleset was
    deleted). ENGINE-NOTES says so too: build rulesets once per process. A backend takes its
    rulesets from here: making a thousand Advisors with the same rules makes each ruleset once,
    and the engine's memory grows only with the distinct rule sets a process uses.
    """

    def __init__(self) -> None:
        self.rulesets: dict[str, _Ruleset] = {}

    def get(self, text: str) -> _Ruleset:
        ruleset = self.rulesets.get(text)
        if ruleset is None:
            ruleset = self.rulesets[text] = self.fresh(text)
        return ruleset

    def fresh(self, text: str) -> _Ruleset:
        """A new ruleset for this text, taking the place of the old one (left alive, never deleted).

        durable-rules has refused, once in a CI run, a ruleset text it accepted in every other process (error
        102 on the third ruleset of a fresh process; not reproduced in about 30 runs here): a refused text is
        tried once more under a new name before the error stands. A text durable cannot take fails twice."""
        try:
            ruleset = _Ruleset(f"{_PREFIX}_{next(_ruleset_ids)}", text)
        except EngineError:
            ruleset = _Ruleset(f"{_PREFIX}_{next(_ruleset_ids)}", text)
        self.rulesets[text] = ruleset
        return ruleset


_POOL = _Pool()
#: Session ids, unique in the process: each backend has its own session in every ruleset it uses (emptied
#: after each run, deleted when the backend goes), and a new one after an engine error.
_session_ids = itertools.count(1)


def _end_sessions(chunks: list[_Chunk], session: list[str]) -> None:
    """Delete a backend's clean session from the shared rulesets it used (one after an error stays: deleting it
    can crash durable-rules)."""
    for chunk in chunks:  # each chunk's ruleset now (one replaced after errors is the new one)
        with contextlib.suppress(_engine.error):  # never asserted into: there is nothing to delete
            _engine.delete_state(chunk.handle, session[0])


def _message_keys(rule_ids: dict[str, str | None]) -> tuple[int, dict[str, str]]:
    """(width, keys): an action message '{"<rule name>":{"m":...' names its rule in characters 2 to width (the longest
    rule name and what follows it), so the rule is found by a slice and a look-up, without searching the message
    for the closing quote. The start rule (rule id None) is left out: only the start fact fires it (see _start)."""
    width = 2 + max(len(name) for name in rule_ids) + 1
    keys = {('{"' + name + '":{"m":')[2:width]: rule_id for name, rule_id in rule_ids.items() if rule_id is not None}
    return width, keys


class _Chunk:
    """One ruleset: built from its plan, with its session bookkeeping."""

    def __init__(self, backend: DurableBackend, plan: ChunkPlan):
        # A weak reference: a chunk does not keep its backend alive in a cycle.
        self.backend = weakref.proxy(backend)
        self.label = plan.label
        #: An action message's characters 2 to `width` (its rule's name and what follows it) -> the engine rule id;
        #: on_profile: -> (rule id, None), what a profile fact's rule records.
        self.width, self.rule_ids = _message_keys(plan.rule_ids)
        self.on_profile = {key: (rule_id, None) for key, rule_id in self.rule_ids.items()}
        self.scopes = plan.scopes
        self.text = plan.text
        self.leaked = 0
        #: The session id this ruleset's session was opened with (see _start), None before.
        self.session: str | None = None
        self._use(_POOL.get(self.text))

    def _use(self, ruleset: _Ruleset) -> None:
        self.ruleset = ruleset
        self.handle = ruleset._handle
        self.session = None  # the backend's session in this ruleset is opened on first use

    def run(self, facts: list[tuple[str, Any, str]], fired: set, sid: str) -> None:
        """Assert the facts (text, item idx, fact id) one by one in the backend's session, record the rules fired,
        then retract the facts that fired any."""
        handle = self.handle
        rule_ids, on_profile, width = self.rule_ids, self.on_profile, self.width
        assert_fact, start_action, complete = _engine.assert_fact, _engine.start_action_for_state, _engine.complete_and_start_action
        where = "assert_fact"
        try:
            if self.session != sid:
                self._start(sid)
            stored = []
            for text, idx, ident in facts:
                result = assert_fact(handle, text)
                code = result[0]
                if code:
                    if code == 1:  # no rule matched: durable-rules did not store the fact, nothing to retract
                        continue
                    raise self._error("assert_fact", code)
                stored.append(ident)
                where = "start_action_for_state"
                state = result[1]
                started = start_action(handle, state)
                if started and '"exception"' in started[0]:  # never set by us: no code of ours runs in the engine
                    raise self._error(started[0])
                message = started[1] if started else None
                where = "complete_and_start_action"
                # An action message is '{"<rule name>":{"m":<fact>}}': the rule is named by its first characters
                # (see _message_keys). Only the start fact fires the start rule, which is in neither table.
                if idx is None:
                    while message:
                        fired.add(on_profile[message[2:width]])
                        message = complete(handle, state)
                else:
                    while message:
                        fired.add((rule_ids[message[2:width]], idx))
                        message = complete(handle, state)
                where = "assert_fact"
            # The session is kept for the next profile, empty again: making and deleting a session cost about
            # a third of a ruleset's run. Retracting a fact starts no action (every rule matches one fact), and
            # needs only its sid and id (durable finds the stored fact by its id, not by parsing it again). One
            # call retracts them all (retract_facts reads the facts one after the other, as retract_fact each).
            if stored:
                where = "retract_facts"
                start = '{"sid":"' + sid + '","id":'
                result = _engine.retract_facts(handle, start + ("},"  + start).join(stored) + "}")
                if result[0] != 0:
                    raise self._error("retract_facts", result[0])
        except EngineError:
            self._leak()
            raise
        except Exception as exc:
            error = _engine_error(f"ruleset '{self.ruleset._name}' ({self.label}): {where}", exc)
            self._leak()
            raise error from exc

    def _start(self, sid: str) -> None:
        """Open the session: assert the start fact, run the one action it fires and retract it. durable-rules
        leaves two pointers of a new session unset until an action completes, and delete_state frees them
        (it crashed on a session where no action had run); each later fact then needs no rule that always
        fires (a fact no rule matches is neither stored nor acted on: assert_fact says code 1)."""
        handle = self.handle
        result = _engine.assert_fact(handle, '{"sid":"' + sid + '","id":"s","T":' + str(START) + "}")
        if result[0] != 0:
            raise self._error("the start fact", result[0])
        started = _engine.start_action_for_state(handle, result[1])
        message = started[1] if started else None
        ran = 0
        while message:
            ran += 1
            message = _engine.complete_and_start_action(handle, result[1])
        if ran != 1:
            raise self._error(f"the start fact ran {ran} actions, not 1")
        result = _engine.retract_fact(handle, '{"sid":"' + sid + '","id":"s"}')
        if result[0] != 0:
            raise self._error("retract_fact", result[0])
        self.session = sid

    def _error(self, what: str, code: int | None = None) -> EngineError:
        """An error of this ruleset: what failed, and the code durable-rules returned with its meaning."""
        returned = "" if code is None else f" returned code {code} ({_CODES.get(code, 'unknown')})"
        return EngineError(f"durable-rules ruleset '{self.ruleset._name}' ({self.label}): {what}{returned}")

    def _leak(self) -> None:
        """After an engine error the session is not deleted (that can crash durable-rules) nor used again: it stays
        in the ruleset, and the backend takes a new session. Past MAX_LEAKED such sessions (durable allows 1024
        live ones) the ruleset is replaced."""
        self.leaked += 1
        if self.leaked >= MAX_LEAKED:
            # Another backend may have replaced the shared ruleset already; else this one does.
            shared = _POOL.get(self.text)
            self._use(shared if shared is not self.ruleset else _POOL.fresh(self.text))
            self.leaked = 0
        self.backend._new_session()


class _StagePlan:
    """The rulesets of one stage and how to write its facts: each field is encoded once per run, and each ruleset
    is sent the fields its rules read."""

    def __init__(self, backend: DurableBackend, plan: StagePlan):
        self.chunks = [_Chunk(backend, chunk) for chunk in plan.chunks]
        picks = scope_picks(plan)
        #: per ruleset, (scope, which of the scope encoder's bodies) for each fact type it matches
        self.sends = []
        sent = dict.fromkeys(plan.fields, 0)
        for chunk in self.chunks:
            sends = []
            for scope in chunk.scopes:
                sends.append((scope, sent[scope]))
                sent[scope] += 1
            self.sends.append((chunk, sends))
        # Each body is the rest of a fact after its id: its head, its fields and the closing brace.
        self.profile = encoder(plan.fields[None], picks[None], plan.heads[None]) if None in plan.fields else None
        self.items = [(scope, *item_encoder(plan.fields[scope], picks[scope], plan.heads[scope]))
                      for scope in plan.fields if scope is not None]

    def run(self, facts: Facts, sid: str) -> set[tuple[str, int | None]]:
        fired: set[tuple[str, int | None]] = set()
        if not self.chunks:
            return fired
        # Each fact has an id of ours, unique in the run (0 the profile, 1.. the items): durable then need not hash
        # the fact's text for one, and a fact is retracted by its sid and id alone.
        start = '{"sid":"' + sid + '","id":'
        bodies: dict[str | None, list[tuple[str, list[str], Any]]] = {}
        if self.profile is not None:
            bodies[None] = [("0", self.profile(facts.profile), None)]
        n = 0
        if self.items:
            # An item fact is its row's keys and the profile keys its rules read (written once per run), as the
            # python engine reads them.
            rows = facts.rows
            for scope, encode, encode_shared in self.items:
                out = bodies[scope] = []
                scoped = rows.get(scope)
                if scoped:
                    shared = encode_shared(facts.profile)
                    for row in scoped:
                        n += 1
                        out.append((str(n), encode(row, shared), row["idx"]))
        for chunk, sends in self.sends:
            texts = [(start + ident + body[k], idx, ident) for scope, k in sends for ident, body, idx in bodies[scope]]
            if texts:  # else no fact of a type this ruleset matches: nothing can fire
                chunk.run(texts, fired, sid)
        return fired


class DurableBackend:
    """Evaluates each stage's rules with durable-rules; built once, reused for every profile. Not thread-safe."""

    name = "durable"

    def __init__(self, stages: Sequence[Stage], planned: list[StagePlan] | None = None):
        planned = plan(stages) if planned is None else planned
        self._session = [str(next(_session_ids))]  # a list, shared with the finalizer: the current session id
        self._closed = False
        self._stages = [_StagePlan(self, stage) for stage in planned]
        chunks = [chunk for stage in self._stages for chunk in stage.chunks]
        self._end = weakref.finalize(self, _end_sessions, chunks, self._session)

    @property
    def _sid(self) -> str:
        return self._session[0]

    def run(self, stage: int, facts: Facts) -> set[tuple[str, int | None]]:
        """The (rule id, item idx or None) of every rule that fires on these facts."""
        if self._closed:
            raise EngineError("the durable-rules engine was closed")
        return self._stages[stage].run(facts, self._sid)

    def _new_session(self) -> None:
        """Evaluations share one session per ruleset, emptied after each; after an engine error, a new one."""
        self._session[0] = str(next(_session_ids))

    def close(self) -> None:
        """The backend cannot run afterwards. Its rulesets stay in the process's pool for the next backend with
        the same rules (see _Pool: durable-rules cannot be trusted to create rulesets after deleting some)."""
        self._closed = True
        self._stages = []
        self._end()
