"""The compiled build: the modules a wheel compiles with Cython where a C compiler is found (advisor/_compile.py)
write every report byte for byte as the .py files do, and `advisor --version` says which build runs.

The comparison needs a compiled install beside this checkout: CI installs the wheel (`pip install ".[test,pdf]"`,
compiled) and runs these tests from the checkout, whose .py files are then the other side. In an editable
install the two are the same files, and the comparison is skipped."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import random
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from profilegen import random_profile

from advisor.cli import build_words

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "advisor" / "examples").glob("*.yaml"))
HOOK = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]["wheel"]


def test_the_wheel_compiles_modules_of_advisor_and_leaves_its_build_hook_out() -> None:
    modules = HOOK["hooks"]["custom"]["modules"]
    assert modules and len(set(modules)) == len(modules)
    for name in modules:
        assert name.startswith("advisor."), name
        assert (ROOT / (name.replace(".", "/") + ".py")).is_file(), f"{name} has no .py file to compile"
    assert HOOK["hooks"]["custom"]["path"] == "advisor/_compile.py"
    assert "advisor/_compile.py" in HOOK["exclude"]


def test_version_says_whether_the_modules_run_compiled(tmp_path: Path) -> None:
    from importlib.machinery import EXTENSION_SUFFIXES

    # the checkout holds no compiled module (the build hook compiles into a folder of its own)
    assert build_words(ROOT / "advisor").startswith("pure Python")
    (tmp_path / "report").mkdir()
    (tmp_path / "yamlio.py").write_text("")
    (tmp_path / ("yamlio" + EXTENSION_SUFFIXES[0])).write_bytes(b"")
    (tmp_path / "report" / ("explain" + EXTENSION_SUFFIXES[0])).write_bytes(b"")
    assert build_words(tmp_path).startswith("compiled with Cython (2 modules;")


def _sources(package: Path, data: dict[str, Path]) -> dict[str, bytes]:
    """The .py files of a package and its data folders (rules, knowledge, reports), by their path in the package."""
    found = {str(p.relative_to(package)): p.read_bytes() for p in package.rglob("*.py") if p.name != "_compile.py"}
    for name, folder in data.items():
        found.update({f"_data/{name}/{p.relative_to(folder)}": p.read_bytes() for p in folder.rglob("*") if p.is_file()})
    return found


@functools.cache
def _installed() -> Path | None:
    """The folder that holds the installed advisor package, when it is a compiled copy, other than this checkout,
    built from the same sources (an install older than the checkout's last edit is not this code)."""
    try:
        folder = Path(importlib.metadata.distribution("partnership-advisor").locate_file("advisor"))
    except importlib.metadata.PackageNotFoundError:
        return None
    if not folder.is_dir() or folder.resolve() == (ROOT / "advisor").resolve():
        return None
    if not build_words(folder).startswith("compiled"):
        return None
    names = ("rules", "knowledge", "reports")
    same = (_sources(folder, {n: folder / "_data" / n for n in names})
            == _sources(ROOT / "advisor", {n: ROOT / n for n in names}))
    return folder.parent if same else None


def _run(root: Path | None, args: list[str], cwd: Path) -> tuple[int, bytes, bytes]:
    """advisor run from this checkout's .py files (root None), or from the installed copy under `root`."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "100"}
    env.pop("PYTHONPATH", None)
    if root is None:
        env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-P", "-m", "advisor", *args], capture_output=True, env=env, cwd=cwd, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.skipif(_installed() is None, reason="no compiled install of this checkout's sources beside it (an "
                    "editable or pure install, or one made before the last edit)")
def test_a_compiled_install_writes_every_report_as_the_py_files_do(tmp_path: Path) -> None:
    installed = _installed()
    assert installed is not None
    assert b"compiled with Cython" in _run(installed, ["--version"], tmp_path)[1]
    folder = tmp_path / "portfolio"
    folder.mkdir()
    rng = random.Random(16)
    for i in range(100):
        text = yaml.safe_dump(random_profile(rng), sort_keys=False, allow_unicode=True)
        if i % 10 == 9:  # a broken one: its one-line error must be the same too
            text = text.replace("name:", "nmae:", 1)
        (folder / f"p{i:03d}.yaml").write_text(text, encoding="utf-8")
    examples = [str(p) for p in EXAMPLES]
    engines = ["python"] + (["durable"] if b"durable-rules engine" in _run(None, ["--version"], tmp_path)[1] else [])
    for engine in engines:
        common = ["evaluate", "--as-of", "2026-11-25", "--engine", engine]
        for args in ([*common, "--format", "json", *examples], [*common, "--all", *examples],
                     [*common, "--format", "json", "--jobs", "1", str(folder)],
                     [*common, "--format", "json", "--jobs", "2", str(folder)]):
            compiled, pure = _run(installed, args, tmp_path), _run(None, args, tmp_path)
            assert compiled[1], args
            assert compiled == pure, f"the compiled build differs from the .py files on {args}"
