"""Loads a partnership profile from YAML (or a dict) into the model, with errors that name file, line and field."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable

from pydantic import ValidationError

from .errors import Location, ProfileError, did_you_mean
from .models import Profile, reference_problems
from .yamlio import Document, YamlError, load_document, read_text


@dataclass
class LoadedProfile:
    """A validated profile with where it came from and the line of every field."""

    profile: Profile
    source: str
    document: Document | None = None

    def line(self, path: tuple) -> int | None:
        if self.document is None:
            return None
        mark = self.document.marks.get(tuple(path))
        return mark[0] if mark else None


def field_path(path: Iterable) -> str:
    """('partners', 0, 'sector') -> 'partners[0].sector'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_fields_at(loc: tuple) -> list[str]:
    from . import schema

    node = schema.profile_type()
    for part in loc:
        if isinstance(part, int):
            continue
        if node.kind not in ("object", "collection") or part not in node.fields:
            return []
        node = node.fields[part]
    return list(node.fields) if node.kind in ("object", "collection") else []


def _describe(err: dict, data: Any) -> str:
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'{did_you_mean(loc[-1], _model_fields_at(loc[:-1]))}"
    if kind == "literal_error":
        expected = [e.strip().strip("'") for e in err["ctx"]["expected"].replace(" or ", ", ").split(",")]
        if loc and loc[-1] == "profile_version":
            return f"unsupported profile_version {value!r}; this advisor reads version 1"
        return f"unknown value {value!r}; expected one of: {', '.join(expected)}{did_you_mean(value, expected) if isinstance(value, str) else ''}"
    if kind == "missing":
        return "required field is missing"
    wanted = {
        "string_type": "text", "bool_type": "true or false", "int_type": "a whole number",
        "float_type": "a number", "list_type": "a list", "model_type": "a mapping of fields",
        "model_attributes_type": "a mapping of fields", "date_type": "a date (YYYY-MM-DD)",
        "date_from_datetime_parsing": "a date (YYYY-MM-DD)", "date_parsing": "a date (YYYY-MM-DD)",
        "date_from_datetime_inexact": "a date without a time",
        "int_from_float": "a whole number", "dict_type": "a mapping of fields",
    }.get(kind)
    if wanted:
        shown = repr(value) if not isinstance(value, (dict, list)) else ("a mapping" if isinstance(value, dict) else "a list")
        return f"expected {wanted}, got {shown}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        n = err["ctx"].get("min_length", 1)
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "value_error":
        return str(err["ctx"].get("error", err["msg"]))
    if kind == "string_pattern_mismatch" and loc[-1:] == ("currency",):
        return f"expected a three-letter currency code such as ZAR, got {value!r}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]} (got {value!r})"


def validate(data: Any, source: str, document: Document | None = None, rule_ids: set[str] | None = None) -> LoadedProfile:
    """Validate plain data as a profile; raise ProfileError naming the first problem in file order."""
    doc = document or Document(data, source)
    if data is None:
        raise ProfileError("the profile is empty; it needs at least 'name' and 'partners'", Location(source))
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ProfileError(f"a profile must be a mapping of fields (name, partners, ...), not {what}", doc.location(()))
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)

        def position(err: dict) -> tuple:
            loc = doc.location(tuple(err["loc"]))
            return (loc.line or 0, loc.column or 0)

        errors.sort(key=position)
        first = errors[0]
        loc = tuple(first["loc"])
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ProfileError(_describe(first, data) + more, doc.location(loc), field_path(loc) or None) from None
    problems = reference_problems(profile, rule_ids)
    if problems:
        path, message = min(problems, key=lambda p: (doc.location(p[0]).line or 0, doc.location(p[0]).column or 0))
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise ProfileError(message + more, doc.location(path), field_path(path))
    return LoadedProfile(profile, source, document)


def load_profile(source: Any, rule_ids: set[str] | None = None) -> LoadedProfile:
    """Load a profile from a path, a dict, a Profile or a LoadedProfile."""
    if isinstance(source, LoadedProfile):
        return source
    if isinstance(source, Profile):
        return LoadedProfile(source, "<profile>")
    if isinstance(source, dict):
        return validate(source, "<dict>", rule_ids=rule_ids)
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        try:
            doc = load_document(read_text(source, name), name)
        except YamlError as exc:
            raise ProfileError(exc.message, exc.location, exc.field) from None
        return validate(doc.data, name, doc, rule_ids)
    raise ProfileError(f"cannot read a profile from {type(source).__name__}; give a path, a dict or a Profile", Location("<profile>"))


def profile_from_text(text: str, source: str, rule_ids: set[str] | None = None) -> LoadedProfile:
    """Validate a profile given as YAML text."""
    try:
        doc = load_document(text, source)
    except YamlError as exc:
        raise ProfileError(exc.message, exc.location, exc.field) from None
    return validate(doc.data, source, doc, rule_ids)
