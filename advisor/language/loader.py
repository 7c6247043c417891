"""Loads rule files: finds them, reads their YAML, checks each file's top level and hands its records to the parser."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import Location, RuleError, did_you_mean
from ..resources import path_mode as _mode
from ..words import quoted as shown
from ..yamlio import YamlDocument as Document, load_file
from .syntax import RuleSet

if TYPE_CHECKING:
    from pathlib import Path


def rule_files(folder: str | os.PathLike) -> list[Path]:
    """Rule files in a folder, recursively, in a stable order."""
    # pathlib and what it imports (urllib.parse, ipaddress...): only when rules are checked
    from pathlib import Path

    root = Path(folder)
    if not root.is_dir():
        raise RuleError("rule folder not found" if not root.exists() else "not a folder", Location(str(folder)))
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def rule_file_names(folder: str) -> list[str]:
    """The files rule_files(folder) gives, in the same order, as paths to the same files, without pathlib: the rules
    cache's key lists them on every start, and importing pathlib (with urllib.parse and ipaddress) and walking with
    Path objects cost ~3% of a start. `folder` is written as a Path prints it (not "", which a Path reads as ".").

    As Path.rglob("*") walks: every entry of every folder, hidden ones too; folders that are links are not entered;
    a folder that may not be listed (PermissionError) is passed over; the files kept are those whose last suffix is
    .yaml or .yml that are regular files (links followed), sorted by their parts as Paths sort. Where pathlib would
    raise (a status it may not read), or stop early, rule_files itself answers.
    """
    try:
        return _walk(folder)
    except OSError:
        return [str(path) for path in rule_files(folder)]


def _walk(folder: str) -> list[str]:
    mode = _mode(folder)
    if mode is None or not stat.S_ISDIR(mode):
        raise RuleError("rule folder not found" if mode is None else "not a folder", Location(str(folder)))
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[tuple[str, ...], str]] = [((), folder)]
    while pending:
        parts, here = pending.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except PermissionError:
            continue
        for entry in entries:
            name = entry.name
            path = os.path.join(here, name)
            dot = name.rfind(".")
            if 0 < dot < len(name) - 1 and name[dot:] in (".yaml", ".yml"):
                mode = _mode(path)
                if mode is not None and stat.S_ISREG(mode):
                    found.append(((*parts, name), path))
            if entry.is_dir(follow_symlinks=False):  # an error here: rule_files answers
                pending.append(((*parts, name), path))
    found.sort()
    return [path for _, path in found]


def check_rules(folders: Sequence[str | os.PathLike], knowledge: Any) -> RuleSet:
    """Load and check every rule file in the folders (the first is usually the shipped rules)."""
    from .parser import Parser  # with its pydantic records: only when rules are checked, not when they come from the cache

    ruleset = RuleSet()
    raw: list[Document] = []
    for folder in folders:
        for path in rule_files(folder):
            doc = load_file(path, error=RuleError)
            ruleset.files.append(str(path))
            _check_top(doc)
            raw.append(doc)
    # Problems and the ranking first, then derived facts, across all files, so any rule may name or read any of them.
    parser = Parser(knowledge, ruleset)
    for doc in raw:
        for i, item in enumerate((doc.data or {}).get("problems") or []):
            parser.problem(doc, ("problems", i), item)
        if (doc.data or {}).get("ranking") is not None:
            parser.ranking(doc, ("ranking",), doc.data["ranking"])
    for doc in raw:
        for i, item in enumerate((doc.data or {}).get("derived") or []):
            parser.derived(doc, ("derived", i), item)
    for doc in raw:
        for i, item in enumerate((doc.data or {}).get("rules") or []):
            parser.rule(doc, ("rules", i), item)
    for d in ruleset.derived:
        parser.derived_cases(d)
    parser.check_cycles()
    parser.check_parts()
    return ruleset



#: What a rule file may hold at its top level: lists of these, and the ranking of problems (a mapping).
_LISTS = {"rules": "- id: ...", "derived": "- name: ...", "problems": "- id: ..."}
_TOP = (*_LISTS, "ranking")


def _check_top(doc: Document) -> None:
    if doc.data is None:
        return
    if not isinstance(doc.data, dict):
        raise RuleError("a rule file must be a mapping with 'rules' and/or 'derived'; start it with 'rules:' "
                        "and indent the rules under it", doc.location(()))
    for key in doc.data:
        if key not in _TOP:
            hint = did_you_mean(key, _TOP) or "; a rule file holds only 'rules:', 'derived:', 'problems:' and 'ranking:'"
            raise RuleError(f"unknown key {shown(key)}{hint}", doc.location((key,)))
        if key in _LISTS and not isinstance(doc.data[key], list) and doc.data[key] is not None:
            raise RuleError(f"'{key}' must be a list, each item starting with '{_LISTS[key]}'", doc.location((key,)))
