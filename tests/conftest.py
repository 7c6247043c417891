"""Shared fixtures (one Advisor per engine and the shipped rulebook, loaded once per run) and the split
between the everyday run and the slow tests.

`python -m pytest` leaves out the tests marked `slow` (pyproject.toml: `-m "not slow"`); `python -m pytest
-m slow` runs only those. Property tests (hypothesis) run in both: a tenth of their examples in the everyday
run (hypothesis profile "quick"), all of them whenever the run takes in the slow tests (profile "long"),
and then they count as slow tests themselves.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression
from hypothesis import is_hypothesis_test, settings

# Compiled rules are cached per user; the tests keep theirs apart (and start cold).
if "ADVISOR_CACHE_DIR" not in os.environ:
    os.environ["ADVISOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="advisor-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ADVISOR_CACHE_DIR"], ignore_errors=True)

import advisor
from advisor.engine import durable_problem

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "advisor" / "examples"
AS_OF = "2026-11-25"

ENGINES = ["python"] + (["durable"] if durable_problem() is None else [])

#: Hypothesis profiles. A property test states how many examples it tries in the long run; a profile's
#: max_examples is the percentage of those it tries (see examples()): all in "long", a tenth in "quick".
settings.register_profile("long", max_examples=100)
settings.register_profile("quick", max_examples=10)


def runs_slow_tests(config: pytest.Config) -> bool:
    """Whether this run's -m expression takes in tests marked slow (`-m slow`, `-m ""`), not `-m "not slow"`."""
    expression = config.option.markexpr
    return not expression or Expression.compile(expression).evaluate(lambda name, **_: name == "slow")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", None):  # an explicit --hypothesis-profile wins
        settings.load_profile("long" if runs_slow_tests(config) else "quick")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if runs_slow_tests(config):
        for item in items:
            if isinstance(item, pytest.Function) and is_hypothesis_test(item.obj):
                item.add_marker(pytest.mark.slow)


def examples(long_run: int) -> int:
    """How many examples a property test tries: long_run in the long profile, a tenth (at least 2) in the quick one."""
    return max(2, long_run * settings.default.max_examples // 100)


_advisors: dict[str, advisor.Advisor] = {}


def get_advisor(engine: str) -> advisor.Advisor:
    if engine not in _advisors:
        _advisors[engine] = advisor.Advisor(engine=engine)
    return _advisors[engine]


@pytest.fixture(params=ENGINES)
def any_advisor(request) -> advisor.Advisor:
    return get_advisor(request.param)


@pytest.fixture
def py_advisor() -> advisor.Advisor:
    return get_advisor("python")


@pytest.fixture(scope="session")
def shipped_rules() -> advisor.Rulebook:
    """The shipped rule files, loaded and checked once for the whole run."""
    return advisor.load_rules()
