"""Shared fixtures: one Advisor per engine for the whole run (rules compile once)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

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
