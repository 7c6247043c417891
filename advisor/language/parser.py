"""Parses what rule-file records say in the rule language (conditions, templates, computed facts) against the profile model."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, NoReturn

from ..errors import Location, RuleError, did_you_mean
from ..profile import schema
from ..profile.schema import FieldType
from ..vocabulary import ACTION_KINDS, RULE_COLLECTIONS as COLLECTIONS, SEVERITIES
from ..words import quoted as shown
from ..yamlio import YamlDocument as Document
from .contradiction import contradiction
from .records import (AdaptRecord, CaseRecord, DerivedRecord, ProblemRecord, ProportionRecord, RankingRecord, RuleRecord,
                      collection_problem, validate)
from .syntax import (All, AnyOf, Case, Check, Compare, Count, Derived, Not, ProblemDef, Proportion, Quantifier, Ranking, Ref,
                     Rule, RuleSet, Template, refs_of)

COMPARE_OPS = {"equals": "eq", "not_equals": "neq", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
SET_OPS = ("in", "not_in")
PATH_OPS = ("exists", "missing", "empty", "non_empty", "is_true", "not_true")
QUANTIFIERS = ("some", "every", "none")
COUNT_OPS = ("equals", "not_equals", "lt", "lte", "gt", "gte")
#: Keys YAML 1.1 reads as true/false: `true: governance.protocol` is a slip for `is_true:`.
_YAML_BOOLEANS = {"true": True, "yes": True, "on": True, "y": True, "false": False, "no": False, "off": False, "n": False}

#: Functions a derived fact may compute from profile values (evaluated when the facts are built).
COMPUTE = {
    "count": "number of items in a list (0 when absent)",
    "distinct": "number of distinct values of a field over a collection, e.g. partners.sector",
    "count_set": "number of items of a collection whose field is set and not empty, e.g. partners.benefits",
    "common": "number of values every item of a collection lists in a field, e.g. partners.values",
    "overlap": "number of values two lists share, e.g. [item.values, values.shared]; a single value counts as a list of one",
    "ratio": "first value divided by the second, e.g. [funding.budget_committed, funding.budget_required]",
    "difference": "first value minus the second",
    "days_since": "days from a date to the evaluation date (--as-of)",
    "progress": "share of the way from baseline to target that actual has come: [item.baseline, item.target, item.actual]",
}
_ARITY = {"count": 1, "distinct": 1, "count_set": 1, "common": 1, "days_since": 1, "overlap": 2, "ratio": 2, "difference": 2, "progress": 3}
#: The kinds of value each function of one field per argument reads (number for the rest).
_WANTS = {"count": ("list", "collection"), "overlap": ("list", "enum", "str"), "days_since": ("date",)}


@dataclass(frozen=True)
class _At:
    """What is being parsed: the document, the rule or fact that errors name, and what its paths may read."""

    doc: Document
    what: str
    item_of: tuple[str, ...] | None = None  # the collection `item.` reads
    reading: str | None = None  # the derived fact whose cases these are (it cannot read itself)
    quantified: bool = False  # inside some/every/none

    def fail(self, path: tuple, message: str) -> NoReturn:
        raise RuleError(f"{self.what}: {message}", self.doc.location(path))


class Parser:
    """Turns checked records into rules and derived facts, parsing their conditions, templates and computations."""

    def __init__(self, knowledge: Any, ruleset: RuleSet):
        self.knowledge = knowledge
        self.ruleset = ruleset
        self.derived_by_name: dict[str, Derived] = {}
        self.rule_ids: dict[str, Location] = {}
        self._pending_cases: dict[str, tuple[Document, tuple, DerivedRecord]] = {}
        #: (rule id, problem id, where) of each `part_of`, checked once every file's problems are known
        self.parts: list[tuple[str, str, _At, tuple]] = []

    # -- derived facts ----------------------------------------------------------
    def derived(self, doc: Document, path: tuple, item: Any) -> None:
        """Add a derived fact; the cases of a decided one wait for derived_cases(), once every fact is known."""
        name = item.get("name") if isinstance(item, dict) else None
        what = f"derived fact '{name}'" if isinstance(name, str) else f"derived[{path[-1]}]"
        record = validate(DerivedRecord, item, doc, path, what, knowledge=self.knowledge, derived=self.derived_by_name)
        loc = doc.location(path)
        if "compute" in record.model_fields_set:
            compute = self.compute(_At(doc, what), path + ("compute",), record.compute, record.for_each)
            derived = Derived(name, record.description, loc, compute=compute, for_each=record.for_each, refs=record.refs)
        else:
            derived = Derived(name, record.description, loc, values=tuple(record.values), default=record.default, refs=record.refs)
            self._pending_cases[name] = (doc, path, record)
        self.derived_by_name[name] = derived
        self.ruleset.derived.append(derived)

    def derived_cases(self, derived: Derived) -> None:
        """Parse the cases of a derived fact decided by the engine."""
        pending = self._pending_cases.get(derived.name)
        if pending is None:
            return
        doc, path, record = pending
        what = f"derived fact '{derived.name}'"
        at = _At(doc, what, reading=derived.name)
        parsed = []
        for i, raw in enumerate(record.cases):
            cpath = path + ("cases", i)
            case = validate(CaseRecord, raw, doc, cpath, what, values=derived.values)
            parsed.append(Case(case.value, self.condition(at, cpath + ("when",), case.when)))
        index = self.ruleset.derived.index(derived)
        self.ruleset.derived[index] = self.derived_by_name[derived.name] = replace(derived, cases=tuple(parsed))

    def check_cycles(self) -> None:
        """Derived facts decided by the engine must not read each other in a circle (they run in stages)."""
        reads = {
            d.name: [r.path[0] for case in d.cases for r in refs_of(case.when) if r.scope == "derived"]
            for d in self.ruleset.derived
        }
        state: dict[str, int] = {}  # 1 = being visited, 2 = done

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            for other in reads.get(name, ()):
                if state.get(other) == 1:
                    cycle = trail[trail.index(other):] + [name, other] if other in trail else [name, other]
                    doc, path, _ = self._pending_cases[cycle[0]]
                    _At(doc, f"derived fact '{cycle[0]}'").fail(
                        path + ("cases",), f"derived facts read each other in a cycle ({' -> '.join(cycle)}); "
                        "decide one of them from profile fields only")
                if state.get(other) is None:
                    visit(other, trail + [name])
            state[name] = 2

        for d in self.ruleset.derived:
            if state.get(d.name) is None:
                visit(d.name, [])

    def compute(self, at: _At, path: tuple, spec: Any, for_each: tuple[str, ...] | None) -> tuple[str, tuple[Ref, ...]]:
        if not isinstance(spec, dict) or len(spec) != 1:
            at.fail(path, f"'compute' must be one function: {', '.join(COMPUTE)}")
        func, args = next(iter(spec.items()))
        if func not in COMPUTE:
            at.fail(path + (func,), f"unknown function '{func}'{did_you_mean(func, COMPUTE)}; known: {', '.join(COMPUTE)}")
        path = path + (func,)
        arity = _ARITY[func]
        if arity == 1:
            args = [args]
        if not isinstance(args, list) or len(args) != arity:
            at.fail(path, f"'{func}' takes {arity} paths")
        refs = []
        for i, arg in enumerate(args):
            apath = path + (i,) if arity > 1 else path
            if func in ("distinct", "count_set", "common"):
                refs.append(self.collection_field(at, apath, arg))
                continue
            ref = self.ref(replace(at, item_of=for_each), apath, arg, allow_derived=False)
            want = _WANTS.get(func, ("int", "number"))
            if ref.type.kind not in want:
                at.fail(apath, f"'{func}' needs {' or '.join(want)} values, but '{arg}' is {ref.type.describe()}")
            refs.append(ref)
        return func, tuple(refs)

    def collection_field(self, at: _At, path: tuple, arg: Any) -> Ref:
        parts = tuple(str(arg).split(".")) if isinstance(arg, str) else ()
        for n in (2, 1):
            coll = parts[:n]
            if coll and ".".join(coll) in COLLECTIONS and len(parts) > n:
                ftype = schema.lookup(parts[n:], schema.lookup(coll))
                if ftype is None:
                    at.fail(path, f"'{arg}': no field '{'.'.join(parts[n:])}' in {'.'.join(coll)}"
                                  f"{did_you_mean(parts[n], schema.children((), schema.lookup(coll)))}")
                return Ref("item", parts[n:], ftype, coll)
        at.fail(path, f"'{arg}' must name a field of a collection ({', '.join(c + '.FIELD' for c in COLLECTIONS)})")

    # -- rules ------------------------------------------------------------------
    def rule(self, doc: Document, path: tuple, item: Any) -> None:
        """Add a rule: its record checked, its condition, templates and proportion cases parsed."""
        rid = item.get("id") if isinstance(item, dict) else None
        what = f"rule '{rid}'" if isinstance(rid, str) else f"rules[{path[-1]}]"
        record = validate(RuleRecord, item, doc, path, what, knowledge=self.knowledge, rule_ids=self.rule_ids, source=doc.source)
        at = _At(doc, what, item_of=record.for_each)
        when = self.condition(at, path + ("when",), record.when)
        message = self.template(at, path + ("message",), record.message, "message")
        advice = self.template(at, path + ("advice",), record.advice, "advice")
        proportion = []
        for i, raw in enumerate(record.proportion):
            ppath = path + ("proportion", i)
            p = validate(ProportionRecord, raw, doc, ppath, what, rule_severity=record.severity)
            pwhen = self.condition(at, ppath + ("when",), p.when)
            dead = contradiction([when, pwhen])
            if dead:
                at.fail(ppath + ("when",), f"this proportion can never apply together with the rule's condition: {dead}")
            proportion.append(Proportion(pwhen, p.severity, p.because))
        adapt = tuple(self.adaptation(at, path + ("adapt", i), raw, record, when) for i, raw in enumerate(record.adapt))
        ask = self.asked(at, path + ("ask",), record.ask, when)
        loc = doc.location(path)
        self.rule_ids[rid] = loc
        self.ruleset.rules.append(Rule(rid, record.kind, record.severity, record.title, message, advice, record.refs, when,
                                       record.for_each, tuple(proportion), loc, record.description, ask,
                                       record.part_of, record.due, record.harm, record.blocks, adapt))
        if record.part_of is not None:
            self.parts.append((rid, record.part_of, at, path + ("part_of",)))

    def adaptation(self, at: _At, path: tuple, raw: Any, record: RuleRecord, when: Any) -> Proportion:
        """One `adapt` entry: its condition (which must be able to hold with the rule's), severity and texts."""
        a = validate(AdaptRecord, raw, at.doc, path, at.what, knowledge=self.knowledge)
        awhen = self.condition(at, path + ("when",), a.when)
        dead = contradiction([when, awhen])
        if dead:
            at.fail(path + ("when",), f"this adaptation can never apply together with the rule's condition: {dead}")
        message = self.template(at, path + ("message",), a.message, "message") if a.message else None
        advice = self.template(at, path + ("advice",), a.advice, "advice") if a.advice else None
        return Proportion(awhen, a.severity or record.severity, a.because, message, advice, a.refs,
                          own_severity=a.severity is not None)

    def asked(self, at: _At, path: tuple, fields: tuple[str, ...], when: Any) -> tuple[Ref, ...]:
        """The fields of `ask`: each read by the condition, a profile or item field whose blank is a question."""
        read = set(refs_of(when))
        out = []
        for i, text in enumerate(fields):
            ref = self.ref(at, path + (i,), text, allow_derived=False)
            if ref.type.kind in ("object", "collection"):
                at.fail(path + (i,), f"'{text}' is a section or a list of items; ask about one of its fields")
            if ref not in read:
                at.fail(path + (i,), f"'{text}' is not read by the rule's condition; ask only about what it reads")
            out.append(ref)
        return tuple(out)

    def problem(self, doc: Document, path: tuple, item: Any) -> None:
        """Add a problem definition: the words a committee reads for the findings that are part of it."""
        pid = item.get("id") if isinstance(item, dict) else None
        what = f"problem '{pid}'" if isinstance(pid, str) else f"problems[{path[-1]}]"
        record = validate(ProblemRecord, item, doc, path, what, problems=self.ruleset.problems, source=doc.source)
        self.ruleset.problems[pid] = ProblemDef(pid, record.title, record.message, record.advice, doc.location(path))

    def ranking(self, doc: Document, path: tuple, item: Any) -> None:
        """The ranking of problems (declared once, in one rule file)."""
        if self.ruleset.ranking is not None:
            raise RuleError(f"'ranking' is declared twice (first at {self.ruleset.ranking.source}); keep one",
                            doc.location(path))
        weights = {"severity": SEVERITIES, "kind": ACTION_KINDS + ("structure",)}
        record = validate(RankingRecord, item, doc, path, "ranking", weights=weights)
        self.ruleset.ranking = Ranking(record.severity, record.kind, record.harm, record.blocks,
                                       record.question_severity, doc.location(path))

    def check_parts(self) -> None:
        """Every `part_of` names a declared problem."""
        for rid, pid, at, path in self.parts:
            if pid not in self.ruleset.problems:
                # Every id starts 'problem.': compare what follows, or every id looks close.
                short = {known.split(".", 1)[-1]: known for known in self.ruleset.problems}
                close = difflib.get_close_matches(pid.split(".", 1)[-1], list(short), n=1, cutoff=0.6)
                hint = f"; did you mean '{short[close[0]]}'?" if close else \
                    "; `advisor rules list` ends with the problems declared"
                at.fail(path, f"problem '{pid}' is not declared under 'problems:'{hint}")

    # -- paths ------------------------------------------------------------------
    def ref(self, at: _At, path: tuple, text: Any, allow_derived: bool = True) -> Ref:
        """The value a field path names: a profile field, `item.FIELD` or `derived.NAME`."""
        if not isinstance(text, str) or not text:
            at.fail(path, f"a field path must be text, not {text!r}")
        parts = tuple(text.split("."))
        if parts[0] == "derived":
            if not allow_derived:
                at.fail(path, f"'{text}': a computed fact reads profile fields only")
            return self._derived_ref(at, path, text, ".".join(parts[1:]))
        if parts[0] == "item":
            return self._item_ref(at, path, text, parts[1:])
        return self._profile_ref(at, path, text, parts)

    def _derived_ref(self, at: _At, path: tuple, text: str, name: str) -> Ref:
        derived = self.derived_by_name.get(name)
        if derived is None or derived.for_each is not None:
            known = [n for n, d in self.derived_by_name.items() if d.for_each is None]
            at.fail(path, f"'{text}' is not a derived fact{did_you_mean(name, known)}")
        return Ref("derived", (name,), derived.type)

    def _item_ref(self, at: _At, path: tuple, text: str, parts: tuple[str, ...]) -> Ref:
        item_of = at.item_of
        if item_of is None:
            at.fail(path, f"'{text}': 'item.' is only valid inside some/every/none or in a for_each rule")
        root = schema.lookup(item_of)
        ftype = schema.lookup(parts, root) if parts else None
        if ftype is None and len(parts) == 1:
            derived = self.derived_by_name.get(parts[0])
            if derived is not None and derived.for_each == item_of:
                return Ref("item", parts, derived.type, item_of)
        if ftype is None:
            extra = [n for n, d in self.derived_by_name.items() if d.for_each == item_of]
            at.fail(path, f"'{text}': {'.'.join(item_of)} items have no field '{'.'.join(parts)}'"
                          f"{did_you_mean(parts[-1] if parts else 'item', list(root.fields) + extra)}")
        return Ref("item", parts, ftype, item_of)

    def _profile_ref(self, at: _At, path: tuple, text: str, parts: tuple[str, ...]) -> Ref:
        # Walk the path: name the first part that does not exist, and suggest from its siblings.
        for n in range(1, len(parts) + 1):
            parent = schema.lookup(parts[: n - 1])
            if parent is not None and parent.kind == "collection":
                coll = ".".join(parts[: n - 1])
                at.fail(path, f"'{text}': {coll} is a list; read its items with "
                              f"{{some: {coll}, where: {{...}}}} (or for_each: {coll}) and 'item.{'.'.join(parts[n - 1:])}'")
            if schema.lookup(parts[:n]) is None:
                siblings = schema.children(parts[: n - 1]) + (["derived", "item"] if n == 1 else [])
                close = difflib.get_close_matches(parts[n - 1], siblings, n=1, cutoff=0.6)
                if close:
                    hint = f"; did you mean '{'.'.join(parts[: n - 1] + (close[0],))}'?"
                elif n > 1 and siblings:
                    hint = f"; {'.'.join(parts[: n - 1])} has: {', '.join(siblings)}"
                else:
                    hint = "; see rules/REFERENCE.md or `advisor schema` for the fields"
                at.fail(path, f"'{text}' is not a profile field{hint}")
        return Ref("profile", parts, schema.lookup(parts))

    # -- conditions -------------------------------------------------------------
    def condition(self, at: _At, path: tuple, cond: Any) -> Any:
        """A condition's syntax tree; every path, operator and value checked, and an `all` that can never hold refused."""
        if not isinstance(cond, dict) or not cond:
            at.fail(path, "a condition must be a mapping such as {path: ..., equals: ...}, {all: [...]}, {missing: ...}")
        keys = set(cond)
        for form, parse in _FORMS:
            if form in keys:
                return parse(self, at, path, cond, form)
        self._unknown(at, path, cond)

    def _all_or_any(self, at: _At, path: tuple, cond: dict, form: str) -> Any:
        if len(cond) != 1:
            at.fail(path, f"'{form}' must stand alone in its condition (found also {', '.join(sorted(set(cond) - {form}))})")
        items = cond[form]
        if not isinstance(items, list) or not items:
            at.fail(path + (form,), f"'{form}' takes a non-empty list of conditions")
        parsed = tuple(self.condition(at, path + (form, i), c) for i, c in enumerate(items))
        if form == "any":
            return AnyOf(parsed)
        problem = contradiction(parsed)
        if problem:
            at.fail(path, f"condition can never be true: {problem}; remove one of them, or use 'any' if either will do")
        return All(parsed)

    def _not(self, at: _At, path: tuple, cond: dict, form: str) -> Any:
        if len(cond) != 1:
            at.fail(path, "'not' must stand alone in its condition")
        return Not(self.condition(at, path + ("not",), cond["not"]))

    def _quantifier(self, at: _At, path: tuple, cond: dict, mode: str) -> Any:
        if set(cond) != {mode, "where"}:
            at.fail(path, f"'{mode}' takes a collection and 'where': {{{mode}: partners, where: {{...}}}}")
        wrong = collection_problem(cond[mode])
        if wrong:
            at.fail(path + (mode,), wrong)
        if at.quantified:
            at.fail(path, "quantifiers (some/every/none) cannot be nested")
        coll = tuple(cond[mode].split("."))
        where = self.condition(replace(at, item_of=coll, quantified=True), path + ("where",), cond["where"])
        return Quantifier(mode, Ref("profile", coll, schema.lookup(coll)), where)

    def _count(self, at: _At, path: tuple, cond: dict, form: str) -> Any:
        ops = set(cond) - {"count"}
        if len(ops) != 1 or next(iter(ops)) not in COUNT_OPS:
            at.fail(path, f"'count' takes one comparison: {', '.join(COUNT_OPS)}")
        op = next(iter(ops))
        ref = self._read(at, path, "count", cond)
        if ref.type.kind not in ("list", "collection"):
            at.fail(path + ("count",), f"'count' needs a list, but '{ref.text}' is {ref.type.describe()}")
        n = cond[op]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            at.fail(path + (op,), f"a count is compared with a whole number, not {n!r}")
        if op == "lt" and n == 0:
            at.fail(path, f"condition can never be true: the number of items of {ref.text} is never below 0")
        return Count(ref, COMPARE_OPS[op], n)

    def _field_test(self, at: _At, path: tuple, cond: dict, op: str) -> Any:
        if len(cond) != 1:
            at.fail(path, f"'{op}' takes just a field path: {{{op}: some.field}}")
        ref = self._read(at, path, op, cond)
        kind = ref.type.kind
        if op in ("empty", "non_empty") and kind not in ("list", "collection"):
            at.fail(path + (op,), f"'{op}' needs a list, but '{ref.text}' is {ref.type.describe()}; use exists/missing")
        if op not in ("is_true", "not_true"):
            return Check(ref, op)
        if kind != "bool":
            other = "use exists/missing" if kind in ("object", "date") else "use count, empty or contains" \
                if kind in ("list", "collection") else "compare it with {path: ..., equals: ...}"
            at.fail(path + (op,), f"'{op}' needs a true/false field, but '{ref.text}' is {ref.type.describe()}; {other}")
        node = Compare(ref, "eq", True)
        return node if op == "is_true" else Not(node)

    def _path(self, at: _At, path: tuple, cond: dict, form: str) -> Any:
        ops = set(cond) - {"path"}
        valid = list(COMPARE_OPS) + list(SET_OPS) + ["contains"]
        if len(ops) != 1:
            at.fail(path, f"'path' takes exactly one operator ({', '.join(valid)}); "
                          "to test two things, put two conditions under 'all'")
        op = next(iter(ops))
        if op not in valid:
            at.fail(path + (op,), f"unknown operator '{op}'{did_you_mean(op, valid + list(PATH_OPS))}")
        ref = self._read(at, path, "path", cond)
        return self.comparison(at, path + (op,), ref, op, cond[op])

    def _read(self, at: _At, path: tuple, key: str, cond: dict) -> Ref:
        """The value a condition reads (under key), which a derived fact's own cases must not be."""
        ref = self.ref(at, path + (key,), cond[key])
        if at.reading is not None and ref.scope == "derived" and ref.path[0] == at.reading:
            at.fail(path, "a derived fact cannot read itself")
        return ref

    def _unknown(self, at: _At, path: tuple, cond: dict) -> NoReturn:
        known = ["all", "any", "not", "path", "count", *QUANTIFIERS, *PATH_OPS]
        first = sorted(cond, key=str)[0]
        if str(first).lower() in _YAML_BOOLEANS:
            op = "is_true" if _YAML_BOOLEANS[str(first).lower()] else "not_true"
            target = cond[first] if isinstance(cond[first], str) else "FIELD"
            at.fail(path + (first,), f"unknown condition '{first}': YAML reads a bare {first} as a yes/no value, "
                                     f"not a condition; write '{op}: {target}'")
        hint = did_you_mean(first, known) or f"; expected one of {', '.join(known)}"
        at.fail(path + (first,), f"unknown condition '{first}'{hint}")

    def comparison(self, at: _At, path: tuple, ref: Ref, op: str, value: Any) -> Any:
        kind = ref.type.kind
        if op == "contains":
            if kind != "list":
                at.fail(path, f"'contains' needs a list of values, but '{ref.text}' is {ref.type.describe()}")
            return Compare(ref, "contains", self.literal(at, path, ref.type.item, value, ref))
        if kind in ("list", "collection", "object"):
            at.fail(path, f"'{ref.text}' is {ref.type.describe()}; use count, empty, contains or exists")
        if kind == "date":
            at.fail(path, f"'{ref.text}' is a date; compare a derived fact such as days_since instead")
        if op in SET_OPS:
            if not isinstance(value, list) or not value:
                at.fail(path, f"'{op}' takes a non-empty list of values")
            return Compare(ref, op, tuple(self.literal(at, path + (i,), ref.type, v, ref) for i, v in enumerate(value)))
        cop = COMPARE_OPS[op]
        if cop in ("lt", "lte", "gt", "gte") and kind not in ("int", "number"):
            at.fail(path, f"'{op}' needs a number, but '{ref.text}' is {ref.type.describe()}; use equals or in")
        return Compare(ref, cop, self.literal(at, path, ref.type, value, ref))

    def literal(self, at: _At, path: tuple, ftype: FieldType, value: Any, ref: Ref) -> Any:
        kind = ftype.kind
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
            "enum": isinstance(value, str) and value in ftype.values,
        }.get(kind, False)
        if ok and isinstance(value, float) and not math.isfinite(value):
            at.fail(path, f"{value!r} is not a usable number for {ref.text}; give a finite number")
        if not ok:
            if kind == "enum" and isinstance(value, str):
                at.fail(path, f"'{value}' is not a value of {ref.text}; expected one of {', '.join(ftype.values)}"
                              f"{did_you_mean(value, ftype.values)}")
            hint = "; use is_true/not_true, or write true or false without quotes" if kind == "bool" else \
                "; write a plain number without quotes" if kind in ("int", "number") else ""
            at.fail(path, f"{shown(value)} does not fit {ref.text}, which is {ftype.describe()}{hint}")
        return float(value) if kind == "number" and not isinstance(value, float) else value

    # -- templates --------------------------------------------------------------
    _PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

    def template(self, at: _At, path: tuple, text: str, key: str) -> Template:
        """A message or advice: literal text and the values it shows, each checked."""
        parts: list[Any] = []
        pos = 0
        for m in self._PLACEHOLDER.finditer(text):
            parts.append(text[pos:m.start()])
            pos = m.end()
            token = m.group(0)
            if token in ("{{", "}}"):
                parts.append(token[0])
                continue
            if m.group(1) is None:
                at.fail(path, f"unmatched '{token}' in {key}; write '{token * 2}' for a literal brace")
            body = m.group(1).strip()
            name, _, fmt = body.partition(":")
            if fmt not in ("", "%", ","):
                at.fail(path, f"unknown format ':{fmt}' in {{{body}}}; use ':%' or ':,'")
            ref = self.ref(replace(at, what=f"{at.what}: {key} {{{body}}}"), path, name.strip())
            if ref.type.kind in ("object", "collection"):
                at.fail(path, f"{{{name}}} is {ref.type.describe()} and cannot be shown in a {key}")
            parts.append((ref, fmt))
        parts.append(text[pos:])
        return Template(text, tuple(p for p in parts if p != ""))


_Form = Callable[[Parser, _At, tuple, dict, str], Any]
#: The forms of a condition by the key that marks each, in the order they are looked for.
_FORMS: tuple[tuple[str, _Form], ...] = (
    ("all", Parser._all_or_any),
    ("any", Parser._all_or_any),
    ("not", Parser._not),
    *((mode, Parser._quantifier) for mode in QUANTIFIERS),
    ("count", Parser._count),
    *((op, Parser._field_test) for op in PATH_OPS),
    ("path", Parser._path),
)
