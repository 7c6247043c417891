"""Chooses and builds a rules engine: durable-rules where it imports, else the pure-Python one."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Protocol, Sequence

from ..errors import UsageError
from .ir import Facts, Stage

ENGINES = ("durable", "python")


class Backend(Protocol):
    """A rules engine, built once from the compiled stages (see create()) and run for many profiles."""

    name: str

    def run(self, stage: int, facts: Facts) -> Iterable[tuple[str, int | None]]:
        """The (engine rule id, item index or None) of every rule of the stage that fires on these facts."""
        ...

    def close(self) -> None:
        """Release what the engine holds; it cannot run afterwards."""
        ...


@lru_cache(maxsize=1)
def durable_problem() -> str | None:
    """Why the durable engine cannot be used here, or None when it can."""
    try:
        from . import durable  # noqa: F401
    except Exception as exc:  # ImportError, or the C extension failing to load on Python 3.13+
        return f"durable-rules cannot be imported ({type(exc).__name__}: {exc})"
    return None


def default_engine() -> str:
    return "durable" if durable_problem() is None else "python"


def check(name: str | None) -> str:
    """The engine that `name` stands for (None = the default), or a UsageError saying why it cannot run here."""
    name = name or default_engine()
    if name not in ENGINES:
        raise UsageError(f"unknown engine '{name}'; expected one of {', '.join(ENGINES)}")
    problem = durable_problem() if name == "durable" else None
    if problem:
        raise UsageError(f"engine 'durable' is not available: {problem}; use --engine python")
    return name


def create(name: str | None, stages: Sequence[Stage], durable_plan: Any = None, python_code: Any = None) -> Backend:
    """Build the named engine (None = the default) for these compiled stages; durable_plan, when given, is
    engine.durable_form.plan(stages) worked out before, python_code the python engine's compiled stages
    (engine.python.stage_code of each)."""
    if check(name) == "python":
        from .python import PythonBackend

        return PythonBackend(stages, python_code)
    from .durable import DurableBackend

    return DurableBackend(stages, durable_plan)
