"""The compiled-rules cache: reused while files are unchanged, rebuilt when one changes, never hides an error."""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

import advisor
from advisor import cache

RULE = """rules:
  - id: custom.no-purpose
    kind: governance_gap
    severity: {severity}
    title: No purpose statement
    refs: ["3"]
    when: {{missing: purpose.statement}}
    message: The purpose is not written down.
    advice: Write the purpose down.
"""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    return folder


def _severity(adv: advisor.Advisor) -> str:
    return adv.ruleset.rule("custom.no-purpose").severity


def test_second_load_comes_from_the_cache_and_evaluates_the_same(cache_dir, tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(RULE.format(severity="high"), encoding="utf-8")
    first = advisor.Advisor([rules], engine="python")
    assert len(list(cache_dir.glob("rules-*.cache"))) == 1
    second = advisor.Advisor([rules], engine="python")
    profile = {"name": "X", "partners": [{"name": "A"}]}
    assert first.evaluate(profile, as_of="2026-11-25").to_json() == second.evaluate(profile, as_of="2026-11-25").to_json()
    assert second.ruleset is not first.ruleset  # unpickled, not shared in memory


def test_a_changed_rule_file_is_recompiled(cache_dir, tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    path = rules / "custom.yaml"
    path.write_text(RULE.format(severity="high"), encoding="utf-8")
    assert _severity(advisor.Advisor([rules], engine="python")) == "high"
    path.write_text(RULE.format(severity="low"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert _severity(advisor.Advisor([rules], engine="python")) == "low"


def test_a_broken_rule_file_fails_every_time(cache_dir, tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(RULE.format(severity="severe"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(advisor.RuleError, match="'severity' is 'severe'"):
            advisor.Advisor([rules], engine="python")
    assert not list(cache_dir.glob("rules-*.cache"))


def test_an_unwritable_or_corrupt_cache_only_costs_time(cache_dir, tmp_path) -> None:
    cache_dir.mkdir()
    advisor.Advisor(engine="python")
    for pickle_file in cache_dir.glob("rules-*.cache"):
        pickle_file.write_bytes(b"not a pickle")
    assert advisor.Advisor(engine="python").ruleset.rules  # recompiled over the corrupt file
    shutil.rmtree(cache_dir)
    cache_dir.write_text("a file where the cache folder should be")
    assert advisor.Advisor(engine="python").ruleset.rules


def test_no_cache_when_switched_off(cache_dir, monkeypatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")
    advisor.Advisor(engine="python")
    assert cache.cache_dir() is None
    assert not cache_dir.exists()


def test_the_python_engine_runs_the_stages_compiled_with_the_rules(cache_dir, monkeypatch) -> None:
    """The python engine's stage functions are compiled once, with the rules, and come back from the cache: an
    engine started from a cached rulebook compiles nothing, and runs as one that compiled its own stages."""
    from advisor.engine import python

    advisor.load_rules()  # writes the entry
    rulebook = advisor.load_rules()
    assert rulebook.python_code is not None and len(rulebook.python_code) == len(rulebook.compiled.stages)

    def no_compiling(*_args):
        raise AssertionError("compiled the stages again")

    monkeypatch.setattr(python, "stage_source", no_compiling)
    cached = advisor.Advisor(rulebook, engine="python")
    monkeypatch.undo()
    fresh = advisor.Advisor(advisor.Rulebook(rulebook.knowledge, rulebook.compiled, rulebook.version), engine="python")
    profile = {"name": "X", "stage": "active", "partners": [{"name": "A", "sector": "government"}, {"name": "B"}]}
    assert cached.evaluate(profile, as_of="2026-11-25").to_json() == fresh.evaluate(profile, as_of="2026-11-25").to_json()
    with pytest.raises(ValueError):
        python.PythonBackend(rulebook.compiled.stages, rulebook.python_code[:-1])


def test_the_facts_builder_runs_the_functions_compiled_with_the_rules(cache_dir, monkeypatch) -> None:
    """The facts builder's generated functions come back from the cache too: a builder made from a cached
    rulebook compiles nothing, and builds the same facts as one that compiled its own."""
    import builtins

    from advisor.engine import facts

    advisor.load_rules()  # writes the entry
    rulebook = advisor.load_rules()
    assert rulebook.facts_code  # one entry per generated function

    def no_compiling(*_args, **_kwargs):
        raise AssertionError("compiled the facts builder's functions again")

    monkeypatch.setattr(builtins, "compile", no_compiling)
    cached = facts.FactsBuilder(rulebook.compiled, dict(rulebook.facts_code))
    monkeypatch.undo()
    fresh = facts.FactsBuilder(rulebook.compiled)
    profile = advisor.Advisor(rulebook, engine="python").load(
        {"name": "X", "stage": "active", "partners": [{"name": "A", "sector": "government"}, {"name": "B"}]}).profile
    day = advisor.as_of_date("2026-11-25")
    a, b = cached.base(profile, day).stage({}), fresh.base(profile, day).stage({})
    assert a.profile and a.rows  # the profile fact and the partners' item facts
    assert (a.profile, a.items) == (b.profile, b.items)


def test_an_edit_of_advisors_own_module_that_keeps_size_and_mtime_changes_the_key(tmp_path, monkeypatch) -> None:
    """advisor's own modules enter the key by their status, not their bytes: an edit that keeps a module's size and
    modification time (as tar, rsync -t and cp -p restore them) still changes its change time, and so the key."""
    package = tmp_path / "advisor"
    (package / "engine").mkdir(parents=True)
    module = package / "engine" / "python.py"
    module.write_text("A = 1\n", encoding="utf-8")
    (package / "cache.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(cache, "__file__", str(package / "cache.py"))
    rule = tmp_path / "rule.yaml"
    rule.write_text("rules: []\n", encoding="utf-8")
    before = cache.key([rule], "1")
    assert cache.key([rule], "1") == before
    st = module.stat()
    time.sleep(0.05)  # file times tick with the kernel's clock (every few ms): the edit comes a tick later, as any edit does
    module.write_text("A = 2\n", encoding="utf-8")
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert module.stat().st_size == st.st_size and module.stat().st_mtime_ns == st.st_mtime_ns
    assert cache.key([rule], "1") != before
    (package / "engine" / "extra.py").write_text("", encoding="utf-8")  # a new module counts too
    after = cache.key([rule], "1")
    (package / "engine" / "extra.py").unlink()
    assert after != cache.key([rule], "1")


def test_reports_quote_the_guide_the_cached_rules_hold_without_reading_it_again(cache_dir, monkeypatch) -> None:
    """A rulebook from the cache carries the knowledge base read from the same guide.yaml (its bytes are in the key):
    the report writers' load_knowledge() returns it instead of reading and checking the file a second time."""
    from advisor import knowledge

    advisor.load_rules()  # writes the entry
    rulebook = advisor.load_rules()

    def no_reading(_file):
        raise AssertionError("read guide.yaml again")

    monkeypatch.setattr(knowledge, "_load", no_reading)
    assert knowledge.load_knowledge() is rulebook.knowledge
    adv = advisor.Advisor(rulebook, engine="python")
    report = adv.evaluate({"name": "X", "partners": [{"name": "A"}]}, as_of="2026-11-25")
    from advisor.report.text import format_text

    assert format_text(report).startswith("X\nNot ready yet.")  # written with the rulebook's guide, not a second one


def test_the_key_resolves_each_folder_once_as_realpath_resolves_each_file(tmp_path: Path) -> None:
    """cache._realpath gives os.path.realpath's answer for files, links to files, files in linked folders, and paths
    through .. or missing folders, resolving each folder once."""
    rules = advisor.load_rules()
    shipped = [str(f) for f in rules.files]
    (tmp_path / "sub").mkdir()
    os.symlink(shipped[0], tmp_path / "link.yaml")
    os.symlink(os.path.dirname(shipped[0]), tmp_path / "sub" / "dir")
    paths = [*shipped, str(tmp_path / "link.yaml"), str(tmp_path / "sub" / "dir" / os.path.basename(shipped[0])),
             str(tmp_path / "sub" / ".." / "link.yaml"), str(tmp_path / "missing" / "x.yaml"), "README.md", "./x/../y"]
    folders: dict[str, str] = {}
    assert [cache._realpath(p, folders) for p in paths] == [os.path.realpath(p) for p in paths]
    assert len(folders) < len(paths) // 2


def test_the_key_lists_the_rule_files_pathlib_lists_in_its_order(tmp_path: Path) -> None:
    """rule_file_names (the cache key's listing, without pathlib) gives the files rule_files gives (Path.rglob), in its
    order: hidden files, .yml, suffixes that only look alike, folders sorted by parts ("a" before "a-b"), links to
    files kept, linked folders not entered, a folder named like a rule file entered, what is not a regular file left
    out; and the same errors for a missing folder or a file given as one."""
    from advisor.errors import RuleError
    from advisor.language.loader import rule_file_names, rule_files

    root = tmp_path / "rules"
    for name in ("a/x.yaml", "a-b/x.yaml", "a.b/y.yml", "a/b/c/deep.yaml", ".hidden.yaml", "z.YAML", ".yaml", "n.yaml.",
                 "k.yml", "d.yaml/inside.yaml", "plain.txt", "a/z/z.yaml", "b.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("rules: []\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.yaml").write_text("rules: []\n")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "link.yaml").symlink_to(outside / "o.yaml")
    (root / "broken.yaml").symlink_to(tmp_path / "missing.yaml")
    os.mkfifo(root / "pipe.yaml")
    for folder in (root, str(root) + "/", tmp_path / "outside"):
        expected = [str(p) for p in rule_files(folder)]
        listed = rule_file_names(str(Path(folder)))
        assert listed == expected
    assert "pipe.yaml" not in str(listed) and len(rule_file_names(str(root))) == 10
    for bad in (tmp_path / "nowhere", root / "b.yaml"):
        with pytest.raises(RuleError) as walked:
            rule_file_names(str(bad))
        with pytest.raises(RuleError) as pathlib_walked:
            rule_files(bad)
        assert str(walked.value) == str(pathlib_walked.value)
    here = os.getcwd()
    try:
        os.chdir(root)
        assert [os.path.realpath(p) for p in rule_file_names(".")] == [str(p.resolve()) for p in rule_files(".")]
    finally:
        os.chdir(here)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_the_key_passes_over_a_folder_it_may_not_list_as_pathlib_does(tmp_path: Path) -> None:
    from advisor.language.loader import rule_file_names, rule_files

    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "x.yaml").write_text("rules: []\n")
    (tmp_path / "open.yaml").write_text("rules: []\n")
    (tmp_path / "closed").chmod(0)
    try:
        assert rule_file_names(str(tmp_path)) == [str(p) for p in rule_files(tmp_path)] == [str(tmp_path / "open.yaml")]
    finally:
        (tmp_path / "closed").chmod(0o700)


def test_the_cache_folder_and_its_entries_are_named_as_pathlib_names_them(monkeypatch) -> None:
    """The notes name the folder as pathlib printed it (cache_dir() no longer makes a Path)."""
    from pathlib import PurePosixPath

    for name in ("/tmp/x", "/tmp/x/", "/tmp//x/./y/", "//net/x", "///x", "/", "//", ".", "./a", "a/..", "a/./", "~/c"):
        assert cache._as_path(name) == str(PurePosixPath(name))
        assert cache._in(cache._as_path(name), "rules-1.cache") == str(PurePosixPath(name) / "rules-1.cache")
        monkeypatch.setenv("ADVISOR_CACHE_DIR", name)
        assert cache.cache_dir() == str(PurePosixPath(name))
    monkeypatch.delenv("ADVISOR_CACHE_DIR")
    for base in ("/home/u/.cache", "/home/u/.cache/", "rel"):
        monkeypatch.setenv("XDG_CACHE_HOME", base)
        assert cache.cache_dir() == str(PurePosixPath(base) / "advisor")


def _entry_file(cache_dir: Path) -> Path:
    (entry,) = [p for p in cache_dir.glob("rules-*.cache") if b"Rulebook without" in p.read_bytes()[:4096]]
    return entry


def test_a_run_reads_only_its_engines_part_of_the_cached_rules(cache_dir) -> None:
    """The durable engine's plan and encoders and the python engine's stages are sections of the entry, checked and
    unpickled when the engine asks for them: a python run leaves the durable part (and durable_form) alone."""
    from advisor.engine import ENGINES

    built = advisor.load_rules()  # writes the entry
    rulebook = advisor.load_rules()
    assert "_sections" in vars(rulebook) and not {"durable_plan", "durable_encoders", "python_code"} & set(vars(rulebook))
    advisor.Advisor(rulebook, engine="python")
    assert "python_code" in vars(rulebook) and "durable_plan" not in vars(rulebook)
    assert rulebook.python_code == built.python_code
    if "durable" in ENGINES:
        advisor.Advisor(rulebook, engine="durable")
    assert rulebook.durable_encoders == built.durable_encoders
    assert pickle.dumps(rulebook.durable_plan) == pickle.dumps(built.durable_plan)


def test_a_damaged_section_is_worked_out_again_not_trusted(cache_dir) -> None:
    """A byte changed in the python engine's section (the last in the entry) fails its MAC: the part is compiled
    again from the rules, and evaluates as the one built."""
    built = advisor.load_rules()
    entry = _entry_file(cache_dir)
    data = bytearray(entry.read_bytes())
    data[-20] ^= 0x01
    entry.write_bytes(bytes(data))
    rulebook = advisor.load_rules()  # the entry's own pickle is intact
    assert "_sections" in vars(rulebook)
    assert rulebook.python_code == built.python_code  # worked out again: the damaged bytes were not unpickled
    profile = {"name": "X", "stage": "active", "partners": [{"name": "A", "sector": "government"}, {"name": "B"}]}
    assert (advisor.Advisor(rulebook, engine="python").evaluate(profile, as_of="2026-11-25").to_json() ==
            advisor.Advisor(built, engine="python").evaluate(profile, as_of="2026-11-25").to_json())


def test_a_cached_rulebook_pickles_whole_and_its_sections_never(cache_dir) -> None:
    """A rulebook sent to worker processes carries every part and not the cache's sections, which hold its key."""
    advisor.load_rules()
    rulebook = advisor.load_rules()
    again = pickle.loads(pickle.dumps(rulebook))
    assert "_sections" not in vars(again) and {"durable_plan", "durable_encoders", "python_code"} <= set(vars(again))
    with pytest.raises(TypeError):
        pickle.dumps(vars(rulebook)["_sections"])
    secret = b"k" * 32
    assert len({cache._mac(secret, "n", b"p"), cache._mac(secret, "n", b"p", ""), cache._mac(secret, "n", b"p", "x")}) == 3
