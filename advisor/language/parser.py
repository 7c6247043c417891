"""Parses the records of rule files: conditions, templates, computed and decided derived facts, each checked against the profile model."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from ..errors import Location, RuleError, did_you_mean
from ..profile import schema
from ..profile.schema import FieldType
from ..vocabulary import KINDS, RULE_COLLECTIONS as COLLECTIONS, SEVERITIES
from ..words import quoted as shown
from ..yamlio import YamlDocument as Document
from .contradiction import contradiction
from .syntax import All, AnyOf, Case, Check, Compare, Count, Derived, Not, Proportion, Quantifier, Ref, Rule, RuleSet, Template, refs_of

RULE_ID = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")

COMPARE_OPS = {"equals": "eq", "not_equals": "neq", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
SET_OPS = ("in", "not_in")
PATH_OPS = ("exists", "missing", "empty", "non_empty", "is_true", "not_true")
QUANTIFIERS = ("some", "every", "none")
COUNT_OPS = ("equals", "not_equals", "lt", "lte", "gt", "gte")
_QUOTE_BOOLEANS = "; put yes/no/on/off in quotes ('yes'): YAML reads them as true/false"
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


class Parser:
    """Parses the records of rule files into rules and derived facts, checking each against the profile model."""

    def __init__(self, knowledge: Any, ruleset: RuleSet):
        self.knowledge = knowledge
        self.ruleset = ruleset
        self.derived_by_name: dict[str, Derived] = {}
        self.rule_ids: dict[str, Location] = {}
        self._pending_cases: dict[str, tuple[Document, tuple, dict]] = {}

    # -- errors -----------------------------------------------------------------
    def fail(self, doc: Document, path: tuple, what: str, message: str) -> None:
        raise RuleError(f"{what}: {message}", doc.location(path))

    def mapping(self, doc, path, item, what, required, optional) -> dict:
        if not isinstance(item, dict):
            self.fail(doc, path, what, "must be a mapping")
        allowed = list(required) + list(optional)
        for key in item:
            if key not in allowed:
                self.fail(doc, path + (key,), what, f"unknown key '{key}'{did_you_mean(key, allowed)}")
        for key in required:
            if key not in item:
                self.fail(doc, path, what, f"missing required key '{key}'")
        return item

    def text(self, doc, path, value, what, key) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(doc, path, what, f"'{key}' must be non-empty text")
        return value.strip()

    def choice(self, doc, path, value, what, key, choices) -> str:
        if not isinstance(value, str) or value not in choices:
            hint = did_you_mean(value, choices) if isinstance(value, str) else _QUOTE_BOOLEANS if isinstance(value, bool) else ""
            self.fail(doc, path, what, f"'{key}' is {shown(value)}; expected one of {', '.join(choices)}{hint}")
        return value

    def guide_refs(self, doc, path, value, what) -> tuple[str, ...]:
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(doc, path, what, "'refs' must be a list of guide citation ids")
        out = []
        for i, ref in enumerate(value):
            ref = str(ref)
            if ref not in self.knowledge:
                self.fail(doc, path + (i,), what, f"guide ref '{ref}' is not in the knowledge base{did_you_mean(ref, self.knowledge.sections)}")
            out.append(ref)
        return tuple(out)

    # -- derived facts ----------------------------------------------------------
    def derived(self, doc: Document, path: tuple, item: Any) -> None:
        name = item.get("name") if isinstance(item, dict) else None
        what = f"derived fact '{name}'" if isinstance(name, str) else f"derived[{path[-1]}]"
        item = self.mapping(doc, path, item, what, ["name", "description"], ["compute", "for_each", "values", "cases", "default", "refs"])
        if not isinstance(name, str) or not NAME.match(name):
            self.fail(doc, path + ("name",), what, "'name' must be lower_case_with_underscores")
        if name in self.derived_by_name:
            self.fail(doc, path + ("name",), what, f"duplicate derived fact (first at {self.derived_by_name[name].source}); give this one a name of its own")
        description = self.text(doc, path + ("description",), item["description"], what, "description")
        refs = self.guide_refs(doc, path + ("refs",), item["refs"], what) if "refs" in item else ()
        loc = doc.location(path)
        if ("compute" in item) == ("cases" in item):
            self.fail(doc, path, what, "give either 'compute' or 'cases' (with 'values')")
        if "compute" in item:
            for key in ("values", "default"):
                if key in item:
                    self.fail(doc, path + (key,), what, f"'{key}' belongs to a derived fact with 'cases', not 'compute'")
            for_each = None
            if "for_each" in item:
                for_each = self.collection(doc, path + ("for_each",), item["for_each"], what)
            func, args = self.compute(doc, path + ("compute",), item["compute"], what, for_each)
            derived = Derived(name, description, loc, compute=(func, args), for_each=for_each, refs=refs)
            if for_each is not None:
                fields = schema.lookup(for_each).fields
                if name in fields:
                    self.fail(doc, path + ("name",), what, f"'{name}' is already a field of {'.'.join(for_each)}")
        else:
            if "for_each" in item:
                self.fail(doc, path + ("for_each",), what, "'for_each' is only for computed derived facts")
            values = item.get("values")
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and NAME.match(v) for v in values):
                hint = _QUOTE_BOOLEANS if isinstance(values, list) and any(isinstance(v, bool) for v in values) else ""
                self.fail(doc, path + ("values",), what, f"'values' must be a list of lower_case names{hint}")
            default = item.get("default")
            if default is not None and default not in values:
                self.fail(doc, path + ("default",), what, f"default '{default}' is not one of its values: {', '.join(values)}")
            derived = Derived(name, description, loc, values=tuple(values), default=default, refs=refs)
            self._pending_cases[name] = (doc, path, item)
        self.derived_by_name[name] = derived
        self.ruleset.derived.append(derived)

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
                    self.fail(doc, path + ("cases",), f"derived fact '{cycle[0]}'",
                              f"derived facts read each other in a cycle ({' -> '.join(cycle)}); "
                              "decide one of them from profile fields only")
                if state.get(other) is None:
                    visit(other, trail + [name])
            state[name] = 2

        for d in self.ruleset.derived:
            if state.get(d.name) is None:
                visit(d.name, [])

    def derived_cases(self, derived: Derived) -> None:
        pending = self._pending_cases.get(derived.name)
        if pending is None:
            return
        doc, path, item = pending
        what = f"derived fact '{derived.name}'"
        cases_raw = item.get("cases")
        if not isinstance(cases_raw, list) or not cases_raw:
            self.fail(doc, path + ("cases",), what, "'cases' must be a non-empty list of {value, when}")
        cases = []
        for i, case in enumerate(cases_raw):
            cpath = path + ("cases", i)
            case = self.mapping(doc, cpath, case, what, ["value", "when"], [])
            value = self.choice(doc, cpath + ("value",), case["value"], what, "value", derived.values)
            when = self.condition(doc, cpath + ("when",), case["when"], what, None, reading=derived.name)
            cases.append(Case(value, when))
        index = self.ruleset.derived.index(derived)
        self.ruleset.derived[index] = Derived(
            derived.name, derived.description, derived.source, values=derived.values,
            cases=tuple(cases), default=derived.default, refs=derived.refs,
        )
        self.derived_by_name[derived.name] = self.ruleset.derived[index]

    def compute(self, doc, path, spec, what, for_each) -> tuple[str, tuple[Ref, ...]]:
        if not isinstance(spec, dict) or len(spec) != 1:
            self.fail(doc, path, what, f"'compute' must be one function: {', '.join(COMPUTE)}")
        func, args = next(iter(spec.items()))
        if func not in COMPUTE:
            self.fail(doc, path + (func,), what, f"unknown function '{func}'{did_you_mean(func, COMPUTE)}; known: {', '.join(COMPUTE)}")
        apath = path + (func,)
        arity = {"count": 1, "distinct": 1, "count_set": 1, "common": 1, "days_since": 1, "overlap": 2, "ratio": 2, "difference": 2, "progress": 3}[func]
        if arity == 1:
            args = [args]
        if not isinstance(args, list) or len(args) != arity:
            self.fail(doc, apath, what, f"'{func}' takes {arity} paths")
        refs = []
        for i, arg in enumerate(args):
            ipath = apath + (i,) if arity > 1 else apath
            if func in ("distinct", "count_set", "common"):
                refs.append(self.collection_field(doc, ipath, arg, what))
                continue
            ref = self.ref(doc, ipath, arg, what, for_each, allow_derived=False)
            want = {"count": ("list", "collection"), "overlap": ("list", "enum", "str"), "days_since": ("date",)}.get(func, ("int", "number"))
            if ref.type.kind not in want:
                self.fail(doc, ipath, what, f"'{func}' needs {' or '.join(want)} values, but '{arg}' is {ref.type.describe()}")
            refs.append(ref)
        return func, tuple(refs)

    def collection_field(self, doc, path, arg, what) -> Ref:
        parts = tuple(str(arg).split(".")) if isinstance(arg, str) else ()
        for n in (2, 1):
            coll = parts[:n]
            if coll and ".".join(coll) in COLLECTIONS and len(parts) > n:
                ftype = schema.lookup(parts[n:], schema.lookup(coll))
                if ftype is None:
                    self.fail(doc, path, what, f"'{arg}': no field '{'.'.join(parts[n:])}' in {'.'.join(coll)}{did_you_mean(parts[n], schema.children((), schema.lookup(coll)))}")
                return Ref("item", parts[n:], ftype, coll)
        self.fail(doc, path, what, f"'{arg}' must name a field of a collection ({', '.join(c + '.FIELD' for c in COLLECTIONS)})")

    def collection(self, doc, path, value, what) -> tuple[str, ...]:
        if value not in COLLECTIONS:
            self.fail(doc, path, what, f"'{value}' is not a collection; expected one of {', '.join(COLLECTIONS)}{did_you_mean(value, COLLECTIONS)}")
        return tuple(value.split("."))

    # -- rules ------------------------------------------------------------------
    def rule(self, doc: Document, path: tuple, item: Any) -> None:
        rid = item.get("id") if isinstance(item, dict) else None
        what = f"rule '{rid}'" if isinstance(rid, str) else f"rules[{path[-1]}]"
        item = self.mapping(doc, path, item, what, ["id", "kind", "severity", "title", "message", "advice", "refs", "when"],
                            ["for_each", "proportion", "description"])
        if not isinstance(rid, str) or not RULE_ID.match(rid):
            self.fail(doc, path + ("id",), what, "'id' must look like 'area.short-name' (lower case, dots and dashes)")
        if rid in self.rule_ids:
            first = self.rule_ids[rid]
            where = f"line {first.line}" if first.source == doc.source else str(first)
            self.fail(doc, path + ("id",), what, f"duplicate rule id (first at {where}); give this rule an id of its own")
        kind = self.choice(doc, path + ("kind",), item["kind"], what, "kind", KINDS)
        severity = self.choice(doc, path + ("severity",), item["severity"], what, "severity", SEVERITIES)
        title = self.text(doc, path + ("title",), item["title"], what, "title")
        description = self.text(doc, path + ("description",), item["description"], what, "description") if "description" in item else None
        for_each = self.collection(doc, path + ("for_each",), item["for_each"], what) if "for_each" in item else None
        refs = self.guide_refs(doc, path + ("refs",), item["refs"], what)
        when = self.condition(doc, path + ("when",), item["when"], what, for_each)
        message = self.template(doc, path + ("message",), item["message"], what, for_each, "message")
        advice = self.template(doc, path + ("advice",), item["advice"], what, for_each, "advice")
        proportion = []
        raw = item.get("proportion") or []
        if not isinstance(raw, list):
            self.fail(doc, path + ("proportion",), what, "'proportion' must be a list of {when, severity, because}")
        for i, p in enumerate(raw):
            ppath = path + ("proportion", i)
            p = self.mapping(doc, ppath, p, what, ["when", "severity", "because"], [])
            sev = self.choice(doc, ppath + ("severity",), p["severity"], what, "severity", SEVERITIES)
            if SEVERITIES.index(sev) <= SEVERITIES.index(severity):
                self.fail(doc, ppath + ("severity",), what, f"proportion severity '{sev}' must be lower than the rule's '{severity}'")
            pwhen = self.condition(doc, ppath + ("when",), p["when"], what, for_each)
            dead = contradiction([when, pwhen])
            if dead:
                self.fail(doc, ppath + ("when",), what, f"this proportion can never apply together with the rule's condition: {dead}")
            proportion.append(Proportion(pwhen, sev, self.text(doc, ppath + ("because",), p["because"], what, "because")))
        loc = doc.location(path)
        self.rule_ids[rid] = loc
        self.ruleset.rules.append(Rule(rid, kind, severity, title, message, advice, refs, when, for_each, tuple(proportion), loc, description))

    # -- paths ------------------------------------------------------------------
    def ref(self, doc, path, text, what, item_of, allow_derived=True) -> Ref:
        if not isinstance(text, str) or not text:
            self.fail(doc, path, what, f"a field path must be text, not {text!r}")
        parts = tuple(text.split("."))
        if parts[0] == "derived":
            if not allow_derived:
                self.fail(doc, path, what, f"'{text}': a computed fact reads profile fields only")
            name = ".".join(parts[1:])
            derived = self.derived_by_name.get(name)
            if derived is None or derived.for_each is not None:
                known = [n for n, d in self.derived_by_name.items() if d.for_each is None]
                self.fail(doc, path, what, f"'{text}' is not a derived fact{did_you_mean(name, known)}")
            return Ref("derived", (name,), derived.type)
        if parts[0] == "item":
            if item_of is None:
                self.fail(doc, path, what, f"'{text}': 'item.' is only valid inside some/every/none or in a for_each rule")
            root = schema.lookup(item_of)
            ftype = schema.lookup(parts[1:], root) if len(parts) > 1 else None
            if ftype is None and len(parts) == 2:
                derived = self.derived_by_name.get(parts[1])
                if derived is not None and derived.for_each == item_of:
                    return Ref("item", parts[1:], derived.type, item_of)
            if ftype is None:
                extra = [n for n, d in self.derived_by_name.items() if d.for_each == item_of]
                self.fail(doc, path, what, f"'{text}': {'.'.join(item_of)} items have no field '{'.'.join(parts[1:])}'"
                          f"{did_you_mean(parts[-1], list(root.fields) + extra)}")
            return Ref("item", parts[1:], ftype, item_of)
        # Walk the path: name the first part that does not exist, and suggest from its siblings.
        for n in range(1, len(parts) + 1):
            parent = schema.lookup(parts[: n - 1])
            if parent is not None and parent.kind == "collection":
                coll = ".".join(parts[: n - 1])
                self.fail(doc, path, what, f"'{text}': {coll} is a list; read its items with "
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
                self.fail(doc, path, what, f"'{text}' is not a profile field{hint}")
        return Ref("profile", parts, schema.lookup(parts))

    # -- conditions -------------------------------------------------------------
    def condition(self, doc, path, cond, what, item_of, reading: str | None = None) -> Any:
        if not isinstance(cond, dict) or not cond:
            self.fail(doc, path, what, "a condition must be a mapping such as {path: ..., equals: ...}, {all: [...]}, {missing: ...}")
        keys = set(cond)
        for combinator, ctor in (("all", All), ("any", AnyOf)):
            if combinator in keys:
                if len(keys) != 1:
                    self.fail(doc, path, what, f"'{combinator}' must stand alone in its condition (found also {', '.join(sorted(keys - {combinator}))})")
                items = cond[combinator]
                if not isinstance(items, list) or not items:
                    self.fail(doc, path + (combinator,), what, f"'{combinator}' takes a non-empty list of conditions")
                parsed = tuple(self.condition(doc, path + (combinator, i), c, what, item_of, reading) for i, c in enumerate(items))
                node = ctor(parsed)
                if ctor is All:
                    self.check_satisfiable(doc, path, what, parsed)
                return node
        if "not" in keys:
            if len(keys) != 1:
                self.fail(doc, path, what, "'not' must stand alone in its condition")
            return Not(self.condition(doc, path + ("not",), cond["not"], what, item_of, reading))
        for mode in QUANTIFIERS:
            if mode in keys:
                extra = keys - {mode, "where"}
                if extra or "where" not in keys:
                    self.fail(doc, path, what, f"'{mode}' takes a collection and 'where': {{{mode}: partners, where: {{...}}}}")
                coll = self.collection(doc, path + (mode,), cond[mode], what)
                if getattr(self, "_in_quantifier", False):
                    self.fail(doc, path, what, "quantifiers (some/every/none) cannot be nested")
                self._in_quantifier = True
                try:
                    where = self.condition(doc, path + ("where",), cond["where"], what, coll, reading)
                finally:
                    self._in_quantifier = False
                return Quantifier(mode, Ref("profile", coll, schema.lookup(coll)), where)
        if "count" in keys:
            ops = keys - {"count"}
            if len(ops) != 1 or next(iter(ops)) not in COUNT_OPS:
                self.fail(doc, path, what, f"'count' takes one comparison: {', '.join(COUNT_OPS)}")
            op = next(iter(ops))
            ref = self.ref(doc, path + ("count",), cond["count"], what, item_of)
            self.derived_guard(doc, path, what, ref, reading)
            if ref.type.kind not in ("list", "collection"):
                self.fail(doc, path + ("count",), what, f"'count' needs a list, but '{ref.text}' is {ref.type.describe()}")
            n = cond[op]
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                self.fail(doc, path + (op,), what, f"a count is compared with a whole number, not {n!r}")
            if op == "lt" and n == 0:
                self.fail(doc, path, what, f"condition can never be true: the number of items of {ref.text} is never below 0")
            return Count(ref, COMPARE_OPS[op], n)
        for op in PATH_OPS:
            if op in keys:
                if len(keys) != 1:
                    self.fail(doc, path, what, f"'{op}' takes just a field path: {{{op}: some.field}}")
                ref = self.ref(doc, path + (op,), cond[op], what, item_of)
                self.derived_guard(doc, path, what, ref, reading)
                kind = ref.type.kind
                if op in ("empty", "non_empty") and kind not in ("list", "collection"):
                    self.fail(doc, path + (op,), what, f"'{op}' needs a list, but '{ref.text}' is {ref.type.describe()}; use exists/missing")
                if op in ("is_true", "not_true"):
                    if kind != "bool":
                        other = "use exists/missing" if kind in ("object", "date") else "use count, empty or contains" if kind in ("list", "collection") else "compare it with {path: ..., equals: ...}"
                        self.fail(doc, path + (op,), what, f"'{op}' needs a true/false field, but '{ref.text}' is {ref.type.describe()}; {other}")
                    node = Compare(ref, "eq", True)
                    return node if op == "is_true" else Not(node)
                return Check(ref, op)
        if "path" in keys:
            ops = keys - {"path"}
            valid = list(COMPARE_OPS) + list(SET_OPS) + ["contains"]
            if len(ops) != 1:
                self.fail(doc, path, what, f"'path' takes exactly one operator ({', '.join(valid)}); "
                                           "to test two things, put two conditions under 'all'")
            op = next(iter(ops))
            if op not in valid:
                self.fail(doc, path + (op,), what, f"unknown operator '{op}'{did_you_mean(op, valid + list(PATH_OPS))}")
            ref = self.ref(doc, path + ("path",), cond["path"], what, item_of)
            self.derived_guard(doc, path, what, ref, reading)
            return self.comparison(doc, path + (op,), what, ref, op, cond[op])
        known = ["all", "any", "not", "path", "count", *QUANTIFIERS, *PATH_OPS]
        first = sorted(keys, key=str)[0]
        if str(first).lower() in _YAML_BOOLEANS:
            op = "is_true" if _YAML_BOOLEANS[str(first).lower()] else "not_true"
            target = cond[first] if isinstance(cond[first], str) else "FIELD"
            self.fail(doc, path + (first,), what, f"unknown condition '{first}': YAML reads a bare {first} as a yes/no value, "
                                                  f"not a condition; write '{op}: {target}'")
        hint = did_you_mean(first, known) or f"; expected one of {', '.join(known)}"
        self.fail(doc, path + (first,), what, f"unknown condition '{first}'{hint}")

    def derived_guard(self, doc, path, what, ref, reading):
        if reading is not None and ref.scope == "derived" and ref.path[0] == reading:
            self.fail(doc, path, what, "a derived fact cannot read itself")

    def comparison(self, doc, path, what, ref: Ref, op: str, value: Any) -> Any:
        kind = ref.type.kind
        if op == "contains":
            if kind != "list":
                self.fail(doc, path, what, f"'contains' needs a list of values, but '{ref.text}' is {ref.type.describe()}")
            return Compare(ref, "contains", self.literal(doc, path, what, ref.type.item, value, ref))
        if kind in ("list", "collection", "object"):
            self.fail(doc, path, what, f"'{ref.text}' is {ref.type.describe()}; use count, empty, contains or exists")
        if kind == "date":
            self.fail(doc, path, what, f"'{ref.text}' is a date; compare a derived fact such as days_since instead")
        if op in SET_OPS:
            if not isinstance(value, list) or not value:
                self.fail(doc, path, what, f"'{op}' takes a non-empty list of values")
            values = tuple(self.literal(doc, path + (i,), what, ref.type, v, ref) for i, v in enumerate(value))
            return Compare(ref, op, values)
        cop = COMPARE_OPS[op]
        if cop in ("lt", "lte", "gt", "gte") and kind not in ("int", "number"):
            self.fail(doc, path, what, f"'{op}' needs a number, but '{ref.text}' is {ref.type.describe()}; use equals or in")
        return Compare(ref, cop, self.literal(doc, path, what, ref.type, value, ref))

    def literal(self, doc, path, what, ftype: FieldType, value: Any, ref: Ref) -> Any:
        kind = ftype.kind
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
            "enum": isinstance(value, str) and value in ftype.values,
        }.get(kind, False)
        if ok and isinstance(value, float) and not math.isfinite(value):
            self.fail(doc, path, what, f"{value!r} is not a usable number for {ref.text}; give a finite number")
        if not ok:
            if kind == "enum" and isinstance(value, str):
                self.fail(doc, path, what, f"'{value}' is not a value of {ref.text}; expected one of {', '.join(ftype.values)}{did_you_mean(value, ftype.values)}")
            hint = "; use is_true/not_true, or write true or false without quotes" if kind == "bool" else \
                "; write a plain number without quotes" if kind in ("int", "number") else ""
            self.fail(doc, path, what, f"{shown(value)} does not fit {ref.text}, which is {ftype.describe()}{hint}")
        return float(value) if kind == "number" and not isinstance(value, float) else value

    def check_satisfiable(self, doc, path, what, parsed: tuple) -> None:
        """Refuse an `all` that no profile can meet, e.g. one field equal to two values, or set and missing."""
        problem = contradiction(parsed)
        if problem:
            self.fail(doc, path, what, f"condition can never be true: {problem}; remove one of them, or use 'any' if either will do")

    # -- templates --------------------------------------------------------------
    _PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

    def template(self, doc, path, text, what, item_of, key) -> Template:
        text = self.text(doc, path, text, what, key)
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
                self.fail(doc, path, what, f"unmatched '{token}' in {key}; write '{token * 2}' for a literal brace")
            body = m.group(1).strip()
            name, _, fmt = body.partition(":")
            if fmt not in ("", "%", ","):
                self.fail(doc, path, what, f"unknown format ':{fmt}' in {{{body}}}; use ':%' or ':,'")
            ref = self.ref(doc, path, name.strip(), f"{what}: {key} {{{body}}}", item_of)
            if ref.type.kind in ("object", "collection"):
                self.fail(doc, path, what, f"{{{name}}} is {ref.type.describe()} and cannot be shown in a {key}")
            parts.append((ref, fmt))
        parts.append(text[pos:])
        return Template(text, tuple(p for p in parts if p != ""))
