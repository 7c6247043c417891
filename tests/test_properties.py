"""Property tests (hypothesis): valid profiles never crash either engine and both engines agree; mutated
profiles (as data and as YAML text) always end in a report or one AdvisorError, and through the command
line in exit 0, 1 or 2 without a traceback."""

from __future__ import annotations

import json
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # the tests write YAML; advisor reads it with its own loader
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import advisor
from advisor.cli import EXIT_ERROR, cli

from conftest import ENGINES, examples, get_advisor
from fuzz_loader import mutate
from profilegen import random_profile

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RULES = get_advisor("python").ruleset
#: Sections a profile may leave out without breaking a cross-reference (goals are handled apart).
OPTIONAL = ["lead_partner", "stage", "stakeholder_mapping_done", "purpose", "values", "approach", "type", "funding",
            "duration", "level", "activities", "committee", "leadership", "governance", "communication", "resources",
            "risks", "monitoring", "trust"]

AMOUNTS = st.one_of(st.integers(0, 10**12), st.floats(0, 1e12, allow_nan=False, allow_infinity=False))
NUMBERS = st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
DATES = st.dates(date(1990, 1, 1), date(2060, 12, 31))
TEXT = st.text(min_size=1, max_size=40)


@st.composite
def valid_profiles(draw) -> dict[str, Any]:
    """A profile from tests/profilegen with a drawn seed, then varied by hypothesis within the schema."""
    seed = draw(st.integers(0, 2**32 - 1))
    partners = draw(st.one_of(st.none(), st.integers(1, 25)))
    profile = random_profile(random.Random(seed), partners=partners)
    for key in draw(st.sets(st.sampled_from(OPTIONAL), max_size=5)):
        profile.pop(key, None)
    if draw(st.booleans()):
        profile.pop("goals", None)
        for partner in profile["partners"]:
            partner.pop("objectives", None)
    if draw(st.booleans()):
        profile["name"] = draw(TEXT)
    if "funding" in profile and draw(st.booleans()):
        profile["funding"]["budget_required"] = draw(AMOUNTS)
        profile["funding"]["budget_committed"] = draw(AMOUNTS)
    if draw(st.booleans()):
        start = draw(DATES)
        profile["duration"] = draw(st.sampled_from([
            {"months": draw(st.floats(0, 600, allow_nan=False))},
            {"start": start, "end": start + timedelta(days=draw(st.integers(0, 4000)))},
            {"start": start},
        ]))
    if draw(st.booleans()):
        profile["committee"] = {"exists": draw(st.booleans()), "members": draw(st.integers(0, 10**6))}
    if draw(st.booleans()):
        kpis = [{"name": f"KPI {i}", **{k: draw(NUMBERS) for k in draw(st.sets(st.sampled_from(["baseline", "target", "actual"])))}}
                for i in range(draw(st.integers(0, 4)))]
        profile["monitoring"] = {"kpis": kpis, "last_review": draw(DATES)}
    if draw(st.booleans()):
        rule_ids = sorted(RULES.ids)
        profile["waivers"] = [{"rule": draw(st.sampled_from(rule_ids)), "reason": draw(TEXT),
                               **({"until": draw(DATES)} if draw(st.booleans()) else {})}
                              for _ in range(draw(st.integers(1, 3)))]
    return profile


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(value, dict):
        for key, sub in value.items():
            out += _paths(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out += _paths(sub, path + (i,))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=12), DATES,
    st.datetimes(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
    st.sampled_from(["", " ", "polce", "2026-02-30", "25/12/2026", "1e6", "R450 000", "{item.name}", "$ne", "<<"]),
)


@st.composite
def mutated_profiles(draw) -> dict[str, Any]:
    """A valid profile with one key deleted, one value of a wrong type, or one unknown key."""
    profile = draw(valid_profiles())
    path = draw(st.sampled_from(_paths(profile)))
    parent = _parent(profile, path)
    op = draw(st.sampled_from(["delete", "wrong type", "unknown key", "wrong type"]))
    if op == "delete":
        del parent[path[-1]]
    elif op == "wrong type":
        parent[path[-1]] = draw(WRONG)
    else:
        target = parent if isinstance(parent, dict) else profile
        target[draw(st.sampled_from(["sectr", "Name", "extra", "partner", "goal", "true", ""]))] = draw(WRONG)
    return profile


def _reports(profile: Any, as_of: date) -> list[str] | None:
    """The report of each engine as JSON, or None when the profile is refused with an AdvisorError."""
    try:
        loaded = advisor.load_profile(profile, RULES)
    except advisor.AdvisorError as exc:
        assert "\n" not in str(exc)
        return None
    return [get_advisor(engine).evaluate(loaded, as_of=as_of).to_json() for engine in ENGINES]


# --------------------------------------------------------------------------- valid profiles


@settings(max_examples=examples(300), **SETTINGS)
@given(valid_profiles(), DATES)
def test_valid_profiles_never_crash_and_both_engines_agree(profile: dict, as_of: date) -> None:
    reports = _reports(profile, as_of)
    assert reports is not None, "a generated profile should be valid"
    assert all(r == reports[0] for r in reports)
    assert json.loads(reports[0])["profile"]["name"] == profile["name"]


_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


@settings(max_examples=examples(150), **SETTINGS)
@given(valid_profiles(), DATES)
def test_compact_json_is_exactly_what_json_dumps_writes_for_the_report(profile: dict, as_of: date) -> None:
    # to_json() joins pieces encoded once (shared evidence rows, a rule's advice); it must be the
    # very text json.dumps gives for to_dict(), escapes and separators included.
    report = get_advisor(ENGINES[-1]).evaluate(advisor.load_profile(profile, RULES), as_of=as_of)
    expected = json.dumps(report.to_dict(), ensure_ascii=False, default=str).translate(_BREAKS)
    assert report.to_json() == expected
    assert json.loads(report.to_json(indent=2)) == json.loads(expected)


@settings(max_examples=examples(30), **SETTINGS)
@given(valid_profiles())
def test_reports_are_reproducible(profile: dict) -> None:
    first = _reports(profile, date(2026, 11, 25))
    assert first == _reports(profile, date(2026, 11, 25))


# --------------------------------------------------------------------------- mutations as data


@settings(max_examples=examples(300), **SETTINGS)
@given(mutated_profiles())
def test_profiles_mutated_as_data_end_in_a_report_or_an_advisor_error(profile: dict) -> None:
    reports = _reports(profile, date(2026, 11, 25))
    if reports is not None:
        assert all(r == reports[0] for r in reports)


# --------------------------------------------------------------------------- mutations of the YAML text


def _yaml(profile: dict) -> str:
    return yaml.safe_dump(profile, sort_keys=False, allow_unicode=True)


@st.composite
def mutated_texts(draw) -> str | bytes:
    """The YAML text of a valid profile after random edits: characters, tokens, truncation, indentation, bytes."""
    text = _yaml(draw(valid_profiles()))
    rng = draw(st.randoms(use_true_random=False))
    return mutate(rng, text, [text])


@settings(max_examples=examples(300), **SETTINGS)
@given(mutated_texts())
def test_profiles_mutated_as_text_end_in_a_report_or_an_advisor_error(data: str | bytes) -> None:
    from advisor.profile.reading import profile_from_text
    from advisor.yamlio import YamlError, decode

    try:
        text = decode(data, "<text>") if isinstance(data, bytes) else data
        loaded = profile_from_text(text, "<text>", RULES.ids)
    except (advisor.AdvisorError, YamlError) as exc:
        assert "\n" not in str(exc)
        return
    reports = [get_advisor(engine).evaluate(loaded, as_of="2026-11-25").to_json() for engine in ENGINES]
    assert all(r == reports[0] for r in reports)


# --------------------------------------------------------------------------- through the command line


BATCH = 12


@settings(max_examples=examples(12), **SETTINGS)
@given(st.lists(st.one_of(mutated_profiles().map(_yaml), mutated_texts()), min_size=BATCH, max_size=BATCH),
       st.sampled_from(ENGINES), st.sampled_from(["json", "text"]))
def test_mutated_profiles_through_the_command_line_exit_0_1_or_2_without_a_traceback(
        inputs: list, engine: str, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, data in enumerate(inputs):
            path = Path(tmp) / f"p{i}.yaml"
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
            paths.append(str(path))
        result = CliRunner().invoke(cli, ["evaluate", "--engine", engine, "--format", fmt, "--as-of", "2026-11-25", *paths],
                                    catch_exceptions=False)
    assert result.exit_code in (0, 1, 2)
    assert "Traceback" not in result.stdout + result.stderr
    errors = result.stderr.splitlines()
    assert all(line.startswith(f"error: {tmp}/p") for line in errors), [e for e in errors if not e.startswith(f"error: {tmp}/p")]
    assert (result.exit_code == EXIT_ERROR) == bool(errors)
    if fmt == "json":
        for line in result.stdout.splitlines():
            json.loads(line)


# --------------------------------------------------------------------------- byte-identical across runs


@pytest.mark.parametrize("fmt", ["json", pytest.param("text", marks=pytest.mark.slow)])  # four processes each
def test_output_is_byte_identical_across_processes_hash_seeds_and_engines(tmp_path: Path, fmt: str) -> None:
    import os
    import subprocess
    import sys

    from conftest import EXAMPLES, ROOT

    paths = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    for seed in range(3):
        path = tmp_path / f"generated-{seed}.yaml"
        path.write_text(_yaml(random_profile(random.Random(seed), partners=12)), encoding="utf-8")
        paths.append(str(path))
    outputs = set()
    for engine, hash_seed in [(e, s) for e in ENGINES for s in ("1", "2")]:
        proc = subprocess.run([sys.executable, "-m", "advisor", "evaluate", "--engine", engine, "--format", fmt,
                               "--as-of", "2026-11-25", *paths], cwd=ROOT, capture_output=True, timeout=120,
                              env={**os.environ, "PYTHONHASHSEED": hash_seed, "NO_COLOR": "1"})
        assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
        outputs.add((fmt, proc.stdout))
    assert len(outputs) == 1  # one output for the format, whatever the engine or hash seed
