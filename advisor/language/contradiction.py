"""Finds conditions that no profile can meet: an `all` whose tests of one field exclude each other."""

from __future__ import annotations

from typing import Any, Iterable

from .syntax import All, Check, Compare, Count, Not, Ref

_MISSING = object()


def _atoms(items: Iterable[Any]) -> Iterable[Any]:
    """The conditions an `all` requires, nested `all`s flattened."""
    for node in items:
        if isinstance(node, All):
            yield from _atoms(node.items)
        else:
            yield node


def _variable(node: Any) -> Ref | None:
    """The one field a condition constrains, when it is a plain test of one field (else None)."""
    if isinstance(node, Not):
        if isinstance(node.item, Compare) and node.item.op == "contains":
            return None  # 'not contains' says nothing about the list's size or presence
        return _variable(node.item)
    if isinstance(node, (Compare, Check, Count)):
        return node.ref
    return None


def _holds(node: Any, value: Any) -> bool:
    """Whether a test of one field holds for a candidate value (_MISSING, a scalar, or a (present, count) pair)."""
    if isinstance(node, Not):
        return not _holds(node.item, value)
    listlike = isinstance(value, tuple)
    present = value[0] if listlike else value is not _MISSING
    if isinstance(node, Check):
        if node.op in ("exists", "missing"):
            return present == (node.op == "exists")
        count = value[1] if listlike else 0
        return (count == 0) == (node.op == "empty")
    if isinstance(node, Count):
        return _compare(value[1] if listlike else 0, node.op, node.value)
    if node.op == "contains":
        return listlike and value[0] and value[1] > 0
    if not present or listlike:
        return False
    if node.op == "in":
        return value in node.value
    if node.op == "not_in":
        return value not in node.value
    return _compare(value, node.op, node.value)


def _compare(value: Any, op: str, other: Any) -> bool:
    if op == "eq":
        return value == other and type(value) is not bool or value is other
    if op == "neq":
        return not _compare(value, "eq", other)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return {"lt": value < other, "lte": value <= other, "gt": value > other, "gte": value >= other}[op]


def _constants(nodes: list) -> list:
    out = []
    for node in nodes:
        while isinstance(node, Not):
            node = node.item
        if isinstance(node, Compare):
            out.extend(node.value if node.op in ("in", "not_in") else [node.value])
        elif isinstance(node, Count):
            out.append(node.value)
    return out


def _candidates(ref: Ref, nodes: list) -> list:
    """Values that stand for every case the tests on this field can tell apart."""
    kind = ref.type.kind
    consts = [c for c in _constants(nodes) if isinstance(c, (int, float)) and not isinstance(c, bool)]
    if kind in ("list", "collection"):
        counts = {0, 1} | {n + d for n in consts for d in (-1, 0, 1) if n + d >= 0}
        return [(False, 0)] + [(True, n) for n in sorted(counts)]
    if kind == "bool":
        return [_MISSING, True, False]
    if kind == "enum":
        return [_MISSING, *ref.type.values]
    if kind in ("int", "number"):
        points = sorted(set(consts)) or [0]
        found = set(points)
        for c in points:
            found |= {c - 1, c + 1}
        if kind == "number":
            found |= {(a + b) / 2 for a, b in zip(points, points[1:])}
        return [_MISSING, *sorted(found)]
    if kind == "str":
        return [_MISSING, *dict.fromkeys(c for c in _constants(nodes) if isinstance(c, str)), "\x00another value"]
    return [_MISSING, "\x00set"]  # a date or a section: only set or missing can be told


def _const(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _describe_test(node: Any) -> str:
    if isinstance(node, Not):
        inner = node.item
        if isinstance(inner, Compare) and inner.op == "eq" and inner.value is True:
            return "not true"
        return f"not {_describe_test(inner)}"
    if isinstance(node, Check):
        return {"exists": "set", "missing": "missing", "empty": "empty", "non_empty": "non-empty"}[node.op]
    words = {"eq": "", "neq": "other than ", "lt": "below ", "lte": "at most ", "gt": "above ", "gte": "at least "}
    if isinstance(node, Count):
        return f"{words[node.op] or 'exactly '}{node.value}"
    if node.op == "eq" and node.value is True:
        return "true"
    if node.op == "contains":
        return f"a list holding {_const(node.value)}"
    if node.op in ("in", "not_in"):
        listed = ", ".join(_const(v) for v in node.value)
        return f"one of [{listed}]" if node.op == "in" else f"none of [{listed}]"
    return f"{words[node.op]}{_const(node.value)}"


def _explain(ref: Ref, tests: list) -> str:
    if len(tests) == 2:
        a, b = tests
        if all(isinstance(t, Compare) and t.op == "eq" for t in tests):
            return f"{ref.text} cannot equal both {_const(a.value)} and {_const(b.value)}"
        if {getattr(t, "op", None) for t in tests} == {"exists", "missing"}:
            return f"{ref.text} cannot be both set and missing"
    described = " and ".join(dict.fromkeys(_describe_test(t) for t in tests))
    if isinstance(tests[0], Count) or (isinstance(tests[0], Not) and isinstance(tests[0].item, Count)):
        return f"the number of items of {ref.text} cannot be {described}"
    return f"{ref.text} cannot be {described}"


def contradiction(items: Iterable[Any]) -> str | None:
    """Why the conditions (all required) can never hold together, or None when some profile may meet them.

    Only tests of one field each are weighed (with nested `all`s), field by field: a field's
    tests are tried on every value that tells them apart, and a field inside a section that
    must be missing must be missing too. Anything else (any, quantifiers, derived facts against
    the fields they read) is assumed satisfiable, so this never refuses a condition that can hold.
    """
    atoms = list(_atoms(items))
    by_ref: dict[Ref, list] = {}
    for node in atoms:
        ref = _variable(node)
        if ref is not None:
            by_ref.setdefault(ref, []).append(node)
    feasible: dict[Ref, list] = {}
    for ref, tests in by_ref.items():
        values = _candidates(ref, tests)
        ok = [v for v in values if all(_holds(t, v) for t in tests)]
        if not ok:
            # Name the smallest set of tests that clash: a pair when there is one.
            for i, a in enumerate(tests):
                for b in tests[i + 1:]:
                    if not any(_holds(a, v) and _holds(b, v) for v in values):
                        return _explain(ref, [a, b])
            for a in tests:
                if not any(_holds(a, v) for v in values):
                    return _explain(ref, [a])
            return _explain(ref, tests)
        feasible[ref] = ok
    for section, ok in feasible.items():
        if section.type.kind != "object" or any(v is not _MISSING for v in ok):
            continue
        for ref, values in feasible.items():
            inside = ref.scope == section.scope and ref.path[: len(section.path)] == section.path and ref != section
            if inside and not any(v is _MISSING or v == (False, 0) for v in values):
                return f"{ref.text} cannot be set when {section.text} is missing"
    for node in atoms:
        if isinstance(node, Not) and node.item in atoms:
            return "a condition and its own 'not' are both required"
    return None
