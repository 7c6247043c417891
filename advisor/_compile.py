"""The wheel's build hook (hatchling): compiles the modules every profile runs through with Cython, where a C
compiler is found, and builds the pure-Python wheel where not.

The modules are compiled from their .py files as they stand (no Cython types: annotations are not taken as C
types, so a compiled module behaves as its source does), the way aiohttp, msgpack and PyYAML ship an optional
compiled build of their hot code beside the Python it comes from. Reports are byte for byte the same either way.
Which modules: `modules` under [tool.hatch.build.targets.wheel.hooks.custom] in pyproject.toml.

Nothing is compiled for an editable install (`pip install -e .`: the .py files being edited are what runs), nor with
ADVISOR_PURE_PYTHON=1 in the environment. A failure to compile (no compiler, no Python headers) is a note on
standard error (`pip install -v` shows it) and the pure-Python wheel, never a failed install; `advisor --version`
says which build was installed. This file is not part of the wheel.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Cython's settings: Python 3 semantics; annotations are documentation, not C types (a wrong one would otherwise
#: raise where the .py does not); functions are bound as Python's are (introspection, pickling by name).
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}


class CythonBuildHook(BuildHookInterface):
    """Adds each compiled module to the wheel beside its .py file (Python imports the compiled one first)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._folder: str | None = None
        if self.target_name != "wheel" or version == "editable" or os.environ.get("ADVISOR_PURE_PYTHON"):
            return
        modules = self.config.get("modules", [])
        self._folder = tempfile.mkdtemp(prefix="advisor-compile-")
        try:
            built = compile_modules(Path(self.root), modules, Path(self._folder))
        except Exception as exc:  # noqa: BLE001 - no compiler, no headers, no Cython: the pure-Python wheel
            print(f"advisor: building the pure-Python wheel; compiling with Cython failed "
                  f"({type(exc).__name__}: {str(exc).strip() or 'no details'})", file=sys.stderr)
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        for name, path in built.items():
            build_data["force_include"][str(path)] = name.replace(".", "/") + suffix
        build_data["pure_python"] = False
        build_data["infer_tag"] = True  # the wheel is for this Python and platform

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def compile_modules(root: Path, modules: list[str], folder: Path) -> dict[str, Path]:
    """Each module (a dotted name under `root`) compiled into `folder`: its extension module's path, by name. The C
    files and objects are written in `folder` too, never beside the sources."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    sources = {name: name.replace(".", "/") + ".py" for name in modules}
    missing = [path for path in sources.values() if not (root / path).is_file()]
    if missing:
        raise FileNotFoundError(f"no such module file: {', '.join(missing)}")
    here = os.getcwd()
    os.chdir(root)  # relative sources: cythonize writes each C file under build_dir by its relative path
    try:
        # without debugging information (GCC and Clang): 66 s to build instead of 86 s on 2 cores, 2 MB instead of 10
        flags = ["-g0"] if sys.platform != "win32" else []
        extensions = cythonize([Extension(name, [path], extra_compile_args=flags) for name, path in sources.items()],
                               build_dir=str(folder / "c"),
                               compiler_directives=DIRECTIVES, quiet=True, force=True,
                               nthreads=os.cpu_count() or 1)
        command = build_ext(Distribution({"name": "partnership-advisor", "ext_modules": extensions}))
        command.build_lib = str(folder / "lib")
        command.build_temp = str(folder / "temp")
        command.parallel = os.cpu_count() or 1
        command.ensure_finalized()
        command.run()
        return {ext.name: Path(command.get_ext_fullpath(ext.name)) for ext in extensions}
    finally:
        os.chdir(here)
