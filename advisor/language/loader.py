"""Loads rule files: finds them, reads their YAML, checks each file's top level and hands its records to the parser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..errors import Location, RuleError, did_you_mean
from ..words import quoted as shown
from ..yamlio import YamlDocument as Document, load_file
from .syntax import RuleSet


def rule_files(folder: str | os.PathLike) -> list[Path]:
    """Rule files in a folder, recursively, in a stable order."""
    root = Path(folder)
    if not root.is_dir():
        raise RuleError("rule folder not found" if not root.exists() else "not a folder", Location(str(folder)))
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


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
