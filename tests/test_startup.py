"""Start-up: `import advisor` and `advisor evaluate one.yaml` import only what they use (issue 16).

Each check runs in a fresh interpreter, since this test process has imported everything already. A module
listed here, imported again at the top of a module on the way, fails the test: import it where it is used.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from conftest import AS_OF, ENGINES, EXAMPLES, ROOT

import advisor

#: What evaluating one profile as text with the python engine never needs: the document writers (jinja2), the
#: forms and their workbooks (openpyxl), durable-rules, the worker pool (multiprocessing), the rule parser with its
#: pydantic records (the rules come from the cache), logging (nothing to say), and building any pydantic validator
#: (the profile's comes with the rules from the cache): pydantic looks for its plugins when it builds the first one,
#: which imports importlib.metadata and reads every installed package's entry points. Nor the profile's models and
#: the knowledge file's, with pydantic.main (pydantic's machinery for models): the profile is read into plain records
#: (profile.plain) and the knowledge base is plain records too. Nor pathlib (with urllib.parse and ipaddress): the rules
#: cache's key lists the rule files, the configuration file is looked for and the cache folder named with os.path.
NOT_AT_START = ("pathlib", "jinja2", "openpyxl", "durable", "multiprocessing", "concurrent.futures", "advisor.forms.questionnaire",
                "advisor.language.parser", "advisor.language.records", "advisor.report.document", "logging",
                "pydantic.plugin._loader", "importlib.metadata", "tempfile", "pydantic.main", "advisor.profile.models",
                "advisor.guide_file", "pydantic._internal._validators")


def _modules(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)), "
                          "file=sys.stderr)"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if any(m == name or m.startswith(name + ".") for m in modules)]


def test_import_advisor_imports_only_its_errors() -> None:
    modules = _modules("import advisor")
    assert sorted(m for m in modules if m.startswith("advisor")) == ["advisor", "advisor.errors"]
    assert _loaded(modules, ("pydantic.main", "yaml", *NOT_AT_START)) == []


def test_the_command_line_imports_no_report_writer_nor_model_before_a_command_needs_one() -> None:
    """The text writer (report.text, with the advice it builds) comes with the first report; the rules commands import
    it for its widths, `advisor schema` the models."""
    modules = _modules("import advisor.cli")
    assert _loaded(modules, ("advisor.report.text", "advisor.report.advice", *NOT_AT_START)) == []


def test_evaluating_one_profile_as_text_imports_only_what_it_uses() -> None:
    example = EXAMPLES / "khayelitsha-safer-schools.yaml"
    code = (f"import sys, runpy\nsys.argv = ['advisor', 'evaluate', {str(example)!r}, '--as-of', {AS_OF!r}, '--engine', "
            "'python']\ntry:\n    runpy.run_module('advisor', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    assert exc.code in (0, 1), exc.code")
    _modules("import advisor.rulebook; advisor.rulebook.load_rules()")  # the cache entry, as any run leaves it
    modules = _modules(code)
    assert "advisor.report.text" in modules and "advisor.engine.python" in modules  # it did evaluate
    assert _loaded(modules, NOT_AT_START) == []


def _made_of(validator: Any) -> str:
    """A validator's core schema and config, with a function's address and a model's id (in a ref) left out."""
    text = re.sub(r" at 0x[0-9a-f]+", "", repr(validator.__reduce__()[1][:2]))
    return re.sub(r"('advisor\.profile\.models\.\w+):\d+'", r"\1'", text)


def test_the_profile_validator_kept_with_the_rules_is_the_one_pydantic_builds() -> None:
    import pickle

    from pydantic_core import SchemaValidator

    from advisor.profile import validation
    from advisor.profile.models import Profile
    from advisor.rulebook import load_rules

    rulebook = load_rules()
    kept = pickle.loads(rulebook.profile_validator)
    assert type(kept) is SchemaValidator and validation._adopted in (rulebook.profile_validator, kept) or \
        _made_of(validation._adopted) == _made_of(kept)
    Profile.model_rebuild()
    assert _made_of(kept) == _made_of(Profile.__pydantic_validator__)


def test_the_record_validator_is_profiles_with_the_models_swapped_for_records() -> None:
    """The same core schema and config, but for the model classes (each the record of its name), Duration's model
    validator (the check it calls) and the metadata (the JSON Schema's, which no validator reads)."""
    from advisor.profile import models, plain
    from advisor.rulebook import load_rules

    kept = load_rules().record_validator
    models.Profile.model_rebuild()
    ours, theirs = kept.__reduce__()[1], models.Profile.__pydantic_validator__.__reduce__()[1]
    differences = []

    def compare(a: Any, b: Any) -> None:
        if isinstance(b, dict):
            assert isinstance(a, dict) and set(a) == set(b) - ({"metadata"} if "type" in b else set())
            for key in a:
                compare(a[key], b[key])
        elif isinstance(b, (list, tuple)):
            assert type(a) is type(b) and len(a) == len(b)
            for x, y in zip(a, b):
                compare(x, y)
        elif isinstance(b, type) and issubclass(b, models.StrictModel):
            assert a is getattr(plain, b.__name__)
            differences.append(b.__name__)
        elif b is models.Duration._months_from_dates:
            assert a is plain.months_from_dates
            differences.append("months_from_dates")
        elif isinstance(b, functools.partial):  # pydantic's check of a bound: plain's, with the same bound
            assert (a.func, a.args, a.keywords) == ({"greater_than_or_equal_validator": plain.at_least,
                                                     "less_than_or_equal_validator": plain.at_most}[b.func.__name__],
                                                    b.args, b.keywords)
            differences.append(b.func.__name__)
        elif isinstance(b, str):  # a model's ref holds its id
            assert a == b or re.sub(r":\d+$", "", a) == re.sub(r":\d+$", "", b)
        else:
            assert type(a) is type(b) and a == b

    compare(ours[:2], theirs[:2])
    assert {"months_from_dates", "Profile", "Duration", "Partner", "greater_than_or_equal_validator",
            "less_than_or_equal_validator"} <= set(differences)
    assert {name for name in vars(plain) if isinstance(getattr(plain, name), type) and
            issubclass(getattr(plain, name), plain.Record)} - {"Record"} == \
        {name for name in vars(models) if isinstance(getattr(models, name), type) and
         issubclass(getattr(models, name), models.StrictModel)} - {"StrictModel"}


def test_a_profile_read_as_records_reads_as_the_models() -> None:
    """What reports read of a profile (attributes, model_dump as explanations call it, equality, repr) is the same
    whether it was validated into records (the command line) or into the models (the library), and so are the
    errors; the library still gives models."""
    import random

    from profilegen import random_profile

    from advisor.profile import models, plain, validation
    from advisor.rulebook import load_rules

    load_rules()
    rng = random.Random(16)
    datas = [random_profile(rng) for _ in range(60)]
    datas += [{**datas[0], "duration": {"start": "2026-02-01", "end": "2028-01-31"}},
              {**datas[1], "duration": {"start": "2026-03-05", "end": "2026-03-05", "months": 7.0}}]
    for data in datas:
        model = validation.validate(data, "<dict>").profile
        with validation.reading_records():
            record = validation.validate(data, "<dict>").profile
        assert type(model) is models.Profile and type(record) is plain.Profile
        for mode in ("json", "python"):
            for none in (True, False):
                assert record.model_dump(mode=mode, exclude_none=none) == model.model_dump(mode=mode, exclude_none=none)
        assert repr(record) == repr(model)
        assert record == validation._adopted_records.validate_python(data) and record != model
        for part in ("partners", "goals", "risks", "duration", "monitoring"):
            ours, theirs = getattr(record, part), getattr(model, part)
            assert (ours is None) == (theirs is None)
            for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
                assert a is None or type(a).__name__ == type(b).__name__ and list(vars(a)) == list(vars(b))
    wrong = [{"name": "x"}, {"name": "x", "partners": [{"name": "a", "sector": "nope"}]},
             {"name": "x", "partners": [{"name": "a"}], "goals": [{"id": "g", "priority": 0}]},
             {"name": "x", "partners": [{"name": "a"}], "duration": {"start": "2026-02-01", "end": "2025-01-01"}},
             {"name": "x", "partners": [{"name": "a"}], "funding": {"budget_required": -1, "currency": "rand"}},
             {"name": "x", "partners": [{"name": "a"}], "extra": 1},
             {"name": "x", "partners": [{"name": "a"}], "committee": {"members": 2**63}},
             {"name": "x", "partners": [{"name": "a"}], "committee": {"members": -1.0}},
             {"name": "x", "partners": [{"name": "a"}], "goals": [{"id": "g", "priority": 2**63 - 1}]}]
    for data in wrong:
        errors = []
        for records in (False, True):
            try:
                if records:
                    with validation.reading_records():
                        validation.validate(data, "<dict>")
                else:
                    validation.validate(data, "<dict>")
            except advisor.ProfileError as exc:
                errors.append(str(exc))
        assert len(errors) in (0, 2) and errors[:1] == errors[1:], errors
    assert type(advisor.load_profile(datas[0]).profile) is models.Profile


def test_the_profile_fields_kept_with_the_rules_are_what_the_models_give() -> None:
    """schema.fields() (kept by the rules cache, adopted) answers profile_type() and words_for() as the models do,
    for every field path, one without words and paths that are not fields."""
    from advisor.profile import schema
    from advisor.rulebook import load_rules

    kept = load_rules().profile_fields
    assert schema._adopted is kept
    schema.adopt(None)
    try:
        schema.profile_type.cache_clear()
        schema.words_for.cache_clear()
        assert kept[0] == schema.profile_type()
        paths = [*kept[1], ("profile_version",), ("nope",), ("partners", "nope"), ("partners", "name", "x"), ()]
        assert {path: schema.words_for(path) for path in paths} == {path: kept[1].get(path) for path in paths}
        assert len(kept[1]) > 100 and ("partners", "name") in kept[1] and ("monitoring", "kpis", "target") in kept[1]
    finally:
        schema.adopt(kept)
        schema.profile_type.cache_clear()
        schema.words_for.cache_clear()


def test_the_month_lengths_a_duration_counts_are_the_calendars() -> None:
    import calendar

    from advisor.profile.models import _days_in_month

    assert [_days_in_month(y, m) for y in range(1, 10000) for m in range(1, 13)] == \
        [calendar.monthrange(y, m)[1] for y in range(1, 10000) for m in range(1, 13)]


@pytest.mark.skipif("durable" not in ENGINES, reason="durable-rules is not installed")
def test_a_durable_backend_compiles_no_fact_encoder_the_rules_cache_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    import advisor
    from advisor.engine import durable_form

    made = []  # (what, whether the cache kept it) for each encoder and list encoder made
    compiled = durable_form._compiled
    monkeypatch.setattr(durable_form, "_compiled",
                        lambda source, name: made.append((name, source in durable_form._ENCODERS)) or compiled(source, name))
    advisor.Advisor(rules=advisor.load_rules(), engine="durable")
    assert {name for name, _ in made} == {"<durable facts encoder>", "<durable list encoder>"}
    assert all(kept for _, kept in made)


def test_a_second_start_compiles_no_dataclass_method_and_leaves_dataclasses_as_it_was(tmp_path) -> None:
    code = ("import dataclasses, sys\nimport advisor.cli as cli\nmemo = cli._DATACLASS_CODE\n"
            "print(memo.missed, len(memo.used), 'exec' in vars(dataclasses), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
            for _ in range(2)]
    first, second = (run.stderr.split() for run in runs)
    assert int(first[0]) > 100 and first[0] == first[1] and first[2] == "False"  # all compiled, then kept
    assert second == ["0", first[1], "False"]  # all found


def test_the_dataclass_code_memo_gives_the_methods_dataclasses_makes() -> None:
    import dataclasses

    from advisor import cache

    def make() -> type:
        @dataclasses.dataclass(frozen=True)
        class Record:
            """A record."""

            name: str
            size: int = 0
            tags: tuple[str, ...] = ()
            extra: dict = dataclasses.field(default_factory=dict, hash=False)

        return Record

    plain = make()
    memo = cache.DataclassCode({})
    dataclasses.exec = memo.exec
    try:
        memoized = make()
        again = cache.DataclassCode(dict(memo.used))
        dataclasses.exec = again.exec
        kept = make()
    finally:
        del dataclasses.exec
    assert memo.missed == len(memo.used) >= 6 and again.missed == 0
    for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        made = [getattr(cls, method) for cls in (plain, memoized, kept)]
        assert made[0].__code__ == made[1].__code__ == made[2].__code__, method
        assert made[0].__annotations__ == made[1].__annotations__ == made[2].__annotations__, method
    for cls in (plain, memoized, kept):
        assert cls("a", 2) == cls("a", 2) != cls("a", 3) and hash(cls("a")) == hash(cls("a"))
        assert repr(cls("a", 2)) == repr(plain("a", 2))
        with pytest.raises(dataclasses.FrozenInstanceError):
            cls("a").size = 1


@pytest.mark.parametrize("engine", ENGINES)
def test_evaluating_from_the_cache_unpickles_no_rule_condition(engine: str) -> None:
    """The engines start from what the cache keeps compiled (the python engine's stages, durable-rules' plan), so the
    stages' ~3,300 IR condition nodes stay pickled; only the module's TRUE and FALSE exist."""
    example = EXAMPLES / "khayelitsha-safer-schools.yaml"
    code = (f"import gc, sys, runpy\nsys.argv = ['advisor', 'evaluate', {str(example)!r}, '--as-of', {AS_OF!r}, "
            f"'--engine', {engine!r}]\ntry:\n    runpy.run_module('advisor', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    assert exc.code in (0, 1), exc.code\nfrom advisor.engine import ir\ngc.unfreeze()\n"
            "kinds = (ir.Cmp, ir.Exists, ir.Missing, ir.And, ir.Or, ir.Quant, ir.EngineRule)\n"
            "print(sum(type(o) in kinds for o in gc.get_objects()), file=sys.stderr)")
    _modules("import advisor.rulebook; advisor.rulebook.load_rules()")  # the cache entry, as any run leaves it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    assert int(out.stderr.split()[-1]) == 2  # ir.TRUE, ir.FALSE


def test_a_pickled_stage_reads_its_rules_when_asked() -> None:
    import copy
    import pickle

    from advisor.engine.ir import FALSE, And, Cmp, EngineRule, Exists, Quant, Stage

    rules = (EngineRule("a", And((Cmp("x", "gt", 1), Exists("y")))), EngineRule("b", Quant("any", "zs", Cmp("k", "eq", "v")),
                                                                                "partners"), EngineRule("c", FALSE, "partners"))
    stage = Stage(3, rules)
    again = pickle.loads(pickle.dumps(stage))
    assert "rules" not in vars(again) and again.index == 3
    assert again.reads == stage.reads == {None: {"x", "y"}, "partners": {"zs"}}
    twice = pickle.loads(pickle.dumps(again))  # pickled again before its rules are read: the same pickled rules
    assert again.rules == rules and again == stage and hash(again) == hash(stage) and repr(again) == repr(stage)
    assert twice == stage and copy.deepcopy(twice) == stage
    with pytest.raises(AttributeError):
        again.other  # noqa: B018
    chunked = Stage(0, rules, (rules[:1], rules[1:]))
    assert pickle.loads(pickle.dumps(chunked)) == chunked


def test_evaluating_compiles_no_dataclass_method_the_second_time(tmp_path) -> None:
    """The portfolio (and the evaluator and report modules it brings, the report writers) is imported by the command,
    after start-up: the methods of its dataclasses come from the memo too, and dataclasses is left as it was."""
    example = EXAMPLES / "khayelitsha-safer-schools.yaml"
    code = (f"import dataclasses, sys\nimport advisor.cli as cli\nmemo = cli._DATACLASS_CODE\nat_start = len(memo.used)\n"
            f"sys.argv = ['advisor', 'evaluate', {str(example)!r}, '--as-of', {AS_OF!r}, '--engine', 'python']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(memo.missed, at_start, len(memo.used), 'exec' in vars(dataclasses), file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
            for _ in range(2)]
    first, second = (run.stderr.split()[-4:] for run in runs)
    assert int(first[2]) > int(first[1]) and first[3] == "False"  # the command made more dataclasses
    # All found. The first run also built the rules (its command imported the rule parser too), the second read them
    # from the cache: it imports less, and compiles nothing.
    assert second[:2] == ["0", first[1]] and int(first[1]) < int(second[2]) <= int(first[2]) and second[3] == "False"


def test_the_paths_a_start_works_out_without_pathlib_are_pathlibs() -> None:
    """The shipped folders and guide, as strings (a start imports no pathlib), name what the Path functions name."""
    from advisor import knowledge, resources, rulebook

    for name in ("rules", "knowledge", "reports"):
        assert resources.data_dir(name) == str(resources.data_path(name))
    assert knowledge._knowledge_path(None) == str(knowledge.knowledge_file())
    assert knowledge._knowledge_path(str(EXAMPLES)) == str(knowledge.knowledge_file(EXAMPLES))
    assert str(rulebook.shipped_rules_dir()) == resources.data_dir("rules")
