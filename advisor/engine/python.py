"""The pure-Python engine: compiles each stage's rules into one Python function, with the durable engine's semantics."""

from __future__ import annotations

import marshal
from collections import Counter
from typing import Any, Callable, Iterator, Sequence

from .ir import And, Cmp, Exists, Facts, Missing, Node, Or, Quant, Stage, keys_of

_SYMBOL = {"eq": "==", "neq": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _literal(value: Any) -> str:
    # Rule values are checked at load to be str, int, float or bool: repr() is a safe literal.
    if not isinstance(value, (str, int, float, bool)):
        raise TypeError(f"unexpected literal {value!r}")
    return repr(value)


def _local(key: str) -> str:
    return "k_" + key


def expression(node: Node, item: bool = False, quantified: bool = False, shared: dict[Quant, str] | None = None) -> str:
    """A Python expression that is true exactly when the IR condition holds.

    Every key a stage reads is loaded once into a local variable (``k_<key>``, the sentinel
    _A when absent) at the top of the stage function, and an item's keys (``item__*``) at the
    top of its loop, so a test is a local compare rather than a dict lookup. Inside a
    quantifier the keys are read from the quantified item dict ``i``. A quantifier named in `shared` (one that
    several rules of the stage test) is worked out once, when a rule first needs it, into that local variable.
    """
    if quantified:
        def value(key: str) -> str:
            return f"i.get({key!r}, _A)"
    else:
        def value(key: str) -> str:
            return _local(key)

    if isinstance(node, Cmp):
        v = value(node.key)
        if node.op == "eq":  # the sentinel equals nothing, so an absent key is false
            return f"({v} == {_literal(node.value)})"
        if quantified:
            return f"({node.key!r} in i and i[{node.key!r}] {_SYMBOL[node.op]} {_literal(node.value)})"
        return f"({v} is not _A and {v} {_SYMBOL[node.op]} {_literal(node.value)})"
    if isinstance(node, Exists):
        return f"({node.key!r} in i)" if quantified else f"({value(node.key)} is not _A)"
    if isinstance(node, Missing):
        return f"({node.key!r} not in i)" if quantified else f"({value(node.key)} is _A)"
    if isinstance(node, And):
        return "(" + " and ".join(expression(n, item, quantified, shared) for n in node.items) + ")" if node.items else "True"
    if isinstance(node, Or):
        if not node.items:
            return "False"
        parts = {i: expression(n, item, quantified, shared) for i, n in enumerate(node.items)}
        for at, merged in _absorbed(node.items, quantified):
            parts[at] = merged
        return "(" + " or ".join(parts[i] for i in sorted(parts) if parts[i] is not None) + ")"
    if isinstance(node, Quant):
        inner = expression(node.cond, quantified=True)
        items = _local(node.list_key)
        if node.mode == "any":
            text = f"({items} is not _A and any({inner} for i in {items}))"
        else:
            text = f"({items} is not _A and _every({items}, lambda i: {inner}))"
        name = shared.get(node) if shared else None
        return text if name is None else f"({name} if {name} is not None else ({name} := {text}))"
    raise TypeError(f"not an IR node: {node!r}")


def _unset_differs(node: Node) -> str | None:
    """The key when node is `key neq v` or an And of such tests on one key, else None."""
    if isinstance(node, Cmp):
        return node.key if node.op == "neq" else None
    if isinstance(node, And) and node.items and all(isinstance(n, Cmp) and n.op == "neq" for n in node.items):
        keys = {n.key for n in node.items}
        return keys.pop() if len(keys) == 1 else None
    return None


def _absorbed(items: tuple[Node, ...], quantified: bool) -> list[tuple[int, str | None]]:
    """Where an Or holds `k neq v` (or an And of such tests on k) and `k missing` (how the compiler writes "not
    k eq v"), the two are one plain `!=`: the sentinel _A differs from every value, so `_A != v` is true as the
    missing key is. The merged test takes the place of the first of the two and the other is dropped (None); every
    other test keeps its place, so no test runs that ran not before."""
    missing = {n.key: i for i, n in enumerate(items) if isinstance(n, Missing)}
    out: list[tuple[int, str | None]] = []
    for i, n in enumerate(items):
        key = _unset_differs(n)
        if key is None or key not in missing:
            continue
        v = f"i.get({key!r}, _A)" if quantified else _local(key)
        tests = [n] if isinstance(n, Cmp) else list(n.items)  # type: ignore[union-attr]
        merged = "(" + " and ".join(f"{v} != {_literal(t.value)}" for t in tests) + ")"  # type: ignore[union-attr]
        j = missing.pop(key)
        out += [(min(i, j), merged), (max(i, j), None)]
    return out


def _quantifiers(node: Node) -> Iterator[Quant]:
    """The quantifiers of a condition (never nested)."""
    if isinstance(node, Quant):
        yield node
    elif isinstance(node, (And, Or)):
        for n in node.items:
            yield from _quantifiers(n)


def _every(items: Sequence[dict], predicate: Callable[[dict], bool]) -> bool:
    # durable-rules' $iall is false on an empty list; the compiler adds the empty case where needed
    return bool(items) and all(predicate(i) for i in items)


def stage_source(stage: Stage, name: str) -> str:
    """The source of one function running every rule of a stage on a profile's facts: it returns the
    fired (engine rule id, item index or None) pairs."""
    by_scope: dict[str | None, list] = {}
    for rule in stage.rules:
        by_scope.setdefault(rule.scope, []).append(rule)
    keys = sorted({k for rule in stage.rules for k in keys_of(rule.condition)})
    lines = [f"def {name}(f, items):", "    fired = []", "    get = f.get"]
    lines += [f"    {_local(k)} = get({k!r}, _A)" for k in keys if not k.startswith("item__")]
    # A quantifier several rules test (over a list of the profile fact, the same for every item) is a bool worked
    # out at most once: None until a rule needs it.
    counts = Counter(q for rule in stage.rules for q in _quantifiers(rule.condition))
    shared = {q: f"q_{n}" for n, q in enumerate(q for q, c in counts.items() if c > 1)}
    if shared:
        lines.append("    " + " = ".join(shared.values()) + " = None")
    for rule in by_scope.pop(None, []):
        lines.append(f"    if {expression(rule.condition, shared=shared)}:")
        lines.append(f"        fired.append(({rule.id!r}, None))")
    for scope, rules in by_scope.items():
        item_keys = sorted({k for rule in rules for k in keys_of(rule.condition) if k.startswith("item__")})
        lines.append(f"    for it in items.get({scope!r}, ()):")
        lines += [f"        {_local(k)} = it.get({k!r}, _A)" for k in item_keys]
        for rule in rules:
            lines.append(f"        if {expression(rule.condition, item=True, shared=shared)}:")
            lines.append(f"            fired.append(({rule.id!r}, it['idx']))")
    lines.append("    return fired")
    return "\n".join(lines) + "\n"


def stage_code(stage: Stage) -> bytes:
    """The compiled (and marshalled) stage function's module code: made once when the rules are built and cached
    with them (as Python caches bytecode), since compiling the stages costs far more than loading them."""
    source = stage_source(stage, f"stage_{stage.index}")
    return marshal.dumps(compile(source, f"<advisor rules, stage {stage.index}>", "exec"))


def _function(stage: Stage, code: bytes | None) -> Callable[[dict, dict], list[tuple[str, int | None]]]:
    namespace: dict[str, Any] = {"_A": object(), "_every": _every}
    exec(marshal.loads(code if code is not None else stage_code(stage)), namespace)
    return namespace[f"stage_{stage.index}"]


class PythonBackend:
    """Runs each stage as one generated function; built once, reused for every profile."""

    name = "python"

    def __init__(self, stages: Sequence[Stage], code: Sequence[bytes] | None = None):
        """code: stage_code() of each stage, made before (with the rules); compiled here when not given."""
        if code is not None and len(code) != len(stages):
            raise ValueError(f"{len(code)} compiled stages for {len(stages)} stages")
        self._runs = [_function(stage, code[i] if code is not None else None) for i, stage in enumerate(stages)]

    def run(self, stage: int, facts: Facts) -> list[tuple[str, int | None]]:
        """The (engine rule id, item index or None) of every rule of the stage that fires on these facts."""
        return self._runs[stage](facts.profile, facts.rows)

    def close(self) -> None:
        """Nothing to release; present for symmetry with the durable engine."""
