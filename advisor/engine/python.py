"""The pure-Python engine: compiles each stage's rules into one Python function, with the durable engine's semantics."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..ir import And, Cmp, Exists, Facts, Missing, Node, Or, Quant, Stage

_SYMBOL = {"eq": "==", "neq": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _literal(value: Any) -> str:
    # Rule values are checked at load to be str, int, float or bool: repr() is a safe literal.
    if not isinstance(value, (str, int, float, bool)):
        raise TypeError(f"unexpected literal {value!r}")
    return repr(value)


def expression(node: Node, fact: str = "f") -> str:
    """A Python expression over the fact dict `fact` that is true exactly when the IR condition holds."""
    if isinstance(node, Cmp):
        key, op = repr(node.key), _SYMBOL[node.op]
        if node.op == "eq":  # the sentinel equals nothing, so an absent key is false
            return f"({fact}.get({key}, _ABSENT) == {_literal(node.value)})"
        return f"({key} in {fact} and {fact}[{key}] {op} {_literal(node.value)})"
    if isinstance(node, Exists):
        return f"({node.key!r} in {fact})"
    if isinstance(node, Missing):
        return f"({node.key!r} not in {fact})"
    if isinstance(node, And):
        return "(" + " and ".join(expression(n, fact) for n in node.items) + ")" if node.items else "True"
    if isinstance(node, Or):
        return "(" + " or ".join(expression(n, fact) for n in node.items) + ")" if node.items else "False"
    if isinstance(node, Quant):
        inner = expression(node.cond, "i")
        items = f"{fact}.get({node.list_key!r}, ())"
        if node.mode == "any":
            return f"any({inner} for i in {items})"
        return f"_every({items}, lambda i: {inner})"
    raise TypeError(f"not an IR node: {node!r}")


def _every(items: Sequence[dict], predicate: Callable[[dict], bool]) -> bool:
    # durable-rules' $iall is false on an empty list; the compiler adds the empty case where needed
    return bool(items) and all(predicate(i) for i in items)


def stage_source(stage: Stage, name: str) -> str:
    """The source of one function running every rule of a stage on a profile's facts."""
    lines = [f"def {name}(f, items):", "    fired = []"]
    by_scope: dict[str | None, list] = {}
    for rule in stage.rules:
        by_scope.setdefault(rule.scope, []).append(rule)
    for rule in by_scope.pop(None, []):
        lines.append(f"    if {expression(rule.condition)}:")
        lines.append(f"        fired.append(({rule.id!r}, None))")
    for scope, rules in by_scope.items():
        lines.append(f"    for it in items.get({scope!r}, ()):")
        for rule in rules:
            lines.append(f"        if {expression(rule.condition, 'it')}:")
            lines.append(f"            fired.append(({rule.id!r}, it['idx']))")
    lines.append("    return fired")
    return "\n".join(lines) + "\n"


class PythonBackend:
    """Runs each stage as one generated function; built once, reused for every profile."""

    name = "python"

    def __init__(self, stages: Sequence[Stage]):
        self._runs = []
        for stage in stages:
            name = f"stage_{stage.index}"
            namespace: dict[str, Any] = {"_ABSENT": object(), "_every": _every}
            exec(compile(stage_source(stage, name), f"<advisor rules, stage {stage.index}>", "exec"), namespace)
            self._runs.append(namespace[name])

    def run(self, stage: int, facts: Facts) -> set[tuple[str, int | None]]:
        return set(self._runs[stage](facts.profile, facts.items))

    def close(self) -> None:
        """Nothing to release; present for symmetry with the durable engine."""
