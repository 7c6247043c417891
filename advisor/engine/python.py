"""The pure-Python engine: runs the compiled rules as closures, with the same semantics as the durable engine."""

from __future__ import annotations

import operator
from typing import Any, Callable, Sequence

from ..ir import And, Cmp, EngineRule, Exists, Facts, Missing, Node, Or, Quant, Stage

Predicate = Callable[[dict[str, Any]], bool]

_OPS = {"eq": operator.eq, "neq": operator.ne, "lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


def compile_node(node: Node) -> Predicate:
    """Turn an IR condition into a function of a fact dict."""
    if isinstance(node, Cmp):
        key, value, op = node.key, node.value, _OPS[node.op]
        absent = object()

        def cmp(fact: dict[str, Any]) -> bool:
            got = fact.get(key, absent)
            return got is not absent and op(got, value)

        return cmp
    if isinstance(node, Exists):
        key = node.key
        return lambda fact: key in fact
    if isinstance(node, Missing):
        key = node.key
        return lambda fact: key not in fact
    if isinstance(node, And):
        parts = tuple(compile_node(item) for item in node.items)
        if len(parts) == 1:
            return parts[0]
        return lambda fact: all(part(fact) for part in parts)
    if isinstance(node, Or):
        parts = tuple(compile_node(item) for item in node.items)
        if len(parts) == 1:
            return parts[0]
        return lambda fact: any(part(fact) for part in parts)
    if isinstance(node, Quant):
        inner, list_key = compile_node(node.cond), node.list_key
        if node.mode == "any":
            return lambda fact: any(inner(item) for item in fact.get(list_key, ()))

        def every(fact: dict[str, Any]) -> bool:
            items = fact.get(list_key, ())
            return bool(items) and all(inner(item) for item in items)

        return every
    raise TypeError(f"not an IR node: {node!r}")


class PythonBackend:
    """Evaluates each stage's rules directly; built once, reused for every profile."""

    name = "python"

    def __init__(self, stages: Sequence[Stage]):
        self._stages = [
            [(rule.id, rule.scope, compile_node(rule.condition)) for rule in stage.rules] for stage in stages
        ]

    def run(self, stage: int, facts: Facts) -> set[tuple[str, int | None]]:
        fired: set[tuple[str, int | None]] = set()
        for rule_id, scope, predicate in self._stages[stage]:
            if scope is None:
                if predicate(facts.profile):
                    fired.add((rule_id, None))
            else:
                for item in facts.items.get(scope, ()):
                    if predicate(item):
                        fired.add((rule_id, item["idx"]))
        return fired

    def close(self) -> None:
        """Nothing to release; present for symmetry with the durable engine."""
