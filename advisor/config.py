"""Default options for the command line, from a configuration file, as linters read `.yamllint` or `[tool.ruff]`.

The nearest folder, from the working folder up to the root, that holds an `.advisor.yaml`, or a
`pyproject.toml` with a `[tool.advisor]` table, gives the defaults (`.advisor.yaml` first when a
folder has both). What it may set is SETTINGS: rule folders (relative to the file's folder), the
engine, fail-on, as-of and the output format. An option given on the command line always wins.

    # .advisor.yaml
    rules: [local-rules]
    fail-on: medium
    format: markdown

    # pyproject.toml
    [tool.advisor]
    rules = ["local-rules"]
    fail-on = "medium"
"""

from __future__ import annotations

import datetime
import os
import re
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .engine import ENGINES
from .errors import AdvisorError, Location, did_you_mean
from .resources import path_mode
from .report.output import FORMATS
from .vocabulary import FAIL_ON
from .words import quoted
from .yamlio import YamlDocument, load_document, read_text

if TYPE_CHECKING:
    from pathlib import Path

#: The configuration files, in the order they are looked for in each folder.
CONFIG_FILE = ".advisor.yaml"
PYPROJECT = "pyproject.toml"


class ConfigError(AdvisorError):
    """A configuration file that cannot be used: its file, line and setting, and what is wrong."""


@dataclass(frozen=True)
class Setting:
    """One setting a configuration file may hold: the option it is the default of, and where that option is."""

    option: str  # the option's parameter name
    commands: tuple[str, ...]  # the commands with that option ("rules list" for a subcommand)
    help: str


RULE_COMMANDS = ("evaluate", "validate", "rules list", "rules show", "rules docs")

#: What a configuration file may set (spelled as the long option, without the dashes).
SETTINGS: dict[str, Setting] = {
    "rules": Setting("rule_dirs", RULE_COMMANDS, "folders of extra rule files, relative to the configuration file"),
    "engine": Setting("engine", ("evaluate",), "the rules engine: durable or python"),
    "fail-on": Setting("fail_on", ("evaluate",), "the severity at which evaluate exits with 1"),
    "as-of": Setting("as_of", ("evaluate",), "evaluate as on this date (YYYY-MM-DD)"),
    "format": Setting("fmt", ("evaluate",), "the output format of evaluate"),
}


@dataclass
class Config:
    """The settings of one configuration file, checked, with the file they came from."""

    path: str
    values: dict[str, Any] = field(default_factory=dict)

    def default_map(self) -> dict[str, Any]:
        """click's default_map: per command (nested for `rules list`), the defaults of its options."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            setting = SETTINGS[key]
            for command in setting.commands:
                where = out
                *groups, name = command.split()
                for group in groups:
                    where = where.setdefault(group, {})
                where.setdefault(name, {})[setting.option] = value
        return out

    def describe(self) -> str:
        """`format=markdown, fail-on=medium` for --verbose."""
        def shown(value: Any) -> str:
            return ",".join(value) if isinstance(value, (list, tuple)) else str(value)
        return ", ".join(f"{key}={shown(value)}" for key, value in self.values.items()) or "no settings"


def find_config(start: str | os.PathLike | None = None) -> Path | None:
    """The configuration file nearest to `start` (the working folder), looking up to the root; None if none."""
    if start is None:
        found = _find_from_here()  # pathlib only when a file is found
        return None if found is None else _path(found)
    from pathlib import Path

    folder = Path(start).resolve()
    for here in (folder, *folder.parents):
        candidate = here / CONFIG_FILE
        if candidate.is_file():
            return candidate
        candidate = here / PYPROJECT
        if candidate.is_file() and _has_table(candidate):
            return candidate
    return None


def _path(name: str) -> Path:
    from pathlib import Path

    return Path(name)


def _find_from_here() -> str | None:
    """find_config() from the working folder, as it walks with Paths, without pathlib (imported by the caller only
    when a file is found): every command's start looks, and almost every one finds none."""
    here = os.path.realpath(os.getcwd())  # as Path.resolve() (the working folder is no link loop)
    while True:
        candidate = os.path.join(here, CONFIG_FILE)
        if _is_file(candidate):
            return candidate
        candidate = os.path.join(here, PYPROJECT)
        if _is_file(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _is_file(path: str) -> bool:
    """Path(path).is_file(): an error other than a missing file (a folder that may not be searched) is raised."""
    mode = path_mode(path)
    return mode is not None and stat.S_ISREG(mode)


_TABLE = re.compile(r"^\s*\[\s*tool\s*\.\s*advisor\s*\]", re.MULTILINE)


def _has_table(path: str | os.PathLike) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:  # as Path.read_text opens it
            return bool(_TABLE.search(fh.read()))
    except OSError:
        return False


def load_config(path: str | os.PathLike) -> Config:
    """Read and check a configuration file (.advisor.yaml, or pyproject.toml's [tool.advisor])."""
    from pathlib import Path

    name = os.fspath(path)
    if Path(name).name == PYPROJECT or name.endswith(".toml"):
        values, where = _toml_table(name)
    else:
        doc = load_document(read_text(name, error=ConfigError), name, ConfigError)
        data = {} if doc.data is None else doc.data
        if not isinstance(data, dict):
            raise ConfigError("a configuration file is a mapping of settings (rules, engine, fail-on, as-of, format)",
                              Location(name, 1))
        values, where = data, _yaml_lines(doc)
    folder = Path(name).resolve().parent
    checked: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = str(raw_key).replace("_", "-")
        location = Location(name, where(str(raw_key)))
        if key not in SETTINGS:
            raise ConfigError(f"unknown setting {quoted(str(raw_key))} (a configuration file sets "
                              f"{', '.join(SETTINGS)}){did_you_mean(key, SETTINGS)}", location, str(raw_key))
        checked[key] = _CHECKS[key](value, location, folder)
    return Config(name, checked)


def _yaml_lines(doc: YamlDocument) -> Callable[[str], int | None]:
    return lambda key: doc.line((key,))


def _toml_table(name: str) -> tuple[dict[str, Any], Callable[[str], int | None]]:
    import tomllib  # only when a pyproject.toml is read

    text = read_text(name, error=ConfigError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"invalid TOML: {exc}", Location(name, int(line.group(1)) if line else None)) from None
    table = data.get("tool", {}).get("advisor", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.advisor] must be a table of settings", Location(name))
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _TABLE.match(line)), 0)

    def where(key: str) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start, len(lines)):
            if pattern.match(lines[i]):
                return i + 1
        return start + 1 if start else None

    return table, where


def _fail(location: Location, key: str, message: str) -> ConfigError:
    return ConfigError(message, location, key)


def _choice(key: str, allowed: tuple[str, ...]) -> Callable[[Any, Location, Path], str]:
    def check(value: Any, location: Location, folder: Path) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise _fail(location, key, f"{quoted(str(value))} is not one of {', '.join(allowed)}"
                                       f"{did_you_mean(str(value), allowed)}")
        return value
    return check


def _as_of(value: Any, location: Location, folder: Path) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    date = parse_date(str(value))
    if date is None:
        raise _fail(location, "as-of", f"{quoted(str(value))} is not a date; {DATE_HINT}")
    return date.isoformat()


#: How a date is written, for every message about one.
DATE_HINT = "write it as YYYY-MM-DD, for example 2027-03-31"


def parse_date(text: str) -> datetime.date | None:
    """A date written YYYY-MM-DD, or None."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text.strip()):
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _rules(value: Any, location: Location, folder: Path) -> tuple[str, ...]:
    folders = [value] if isinstance(value, str) else value
    if not isinstance(folders, list) or not all(isinstance(f, str) and f for f in folders):
        raise _fail(location, "rules", "give a folder of rule files, or a list of folders")
    resolved = []
    for name in folders:
        path = folder / os.path.expanduser(name)
        if not path.is_dir():
            raise _fail(location, "rules", f"{quoted(name)} is not a folder (folders are relative to {folder})")
        resolved.append(str(path))
    return tuple(resolved)


_CHECKS: dict[str, Callable[[Any, Location, Path], Any]] = {
    "rules": _rules,
    "engine": _choice("engine", tuple(ENGINES)),
    "fail-on": _choice("fail-on", tuple(FAIL_ON)),
    "as-of": _as_of,
    "format": _choice("format", tuple(FORMATS)),
}
