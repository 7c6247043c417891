"""What a rule may read: every field path of the profile model, with its type (derived from the pydantic models).

The types and the words of every field are derived from the models once and kept with the rules (fields(), adopt):
a run whose rules come from the rules cache reads them from there and imports no model.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from functools import lru_cache
from typing import Any, Literal, NamedTuple, get_args, get_origin

from .fieldtype import FieldType

#: The profile's FieldType tree and the words of every field (by path), as the rules cache handed them over (adopt).
_adopted: tuple[FieldType, dict[tuple[str, ...], FieldWords]] | None = None


def _unwrap(annotation: Any) -> Any:
    # Optional[X] -> X, Annotated[X, ...] -> X
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _field_type(annotation: Any) -> FieldType:
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return FieldType("enum", tuple(str(v) for v in get_args(annotation)))
    if origin is list:
        item = _field_type(get_args(annotation)[0])
        if item.kind == "object":
            return FieldType("collection", fields=item.fields)
        return FieldType("list", values=item.values, item=item)
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FieldType("object", fields={name: _field_type(f.annotation) for name, f in annotation.model_fields.items()})
    if annotation is bool:
        return FieldType("bool")
    if annotation is int:
        return FieldType("int")
    if annotation is float:
        return FieldType("number")
    if annotation is str:
        return FieldType("str")
    if annotation is date:
        return FieldType("date")
    raise TypeError(f"unsupported profile field type {annotation!r}")


@lru_cache(maxsize=None)
def profile_type() -> FieldType:
    """The whole profile as a FieldType tree."""
    if _adopted is not None:
        return _adopted[0]
    from .models import Profile

    return _field_type(Profile)


def lookup(path: tuple[str, ...], root: FieldType | None = None) -> FieldType | None:
    """The type at a dotted path (as a tuple), or None if there is no such field."""
    node = root or profile_type()
    for part in path:
        if node.kind not in ("object", "collection") or part not in node.fields:
            return None
        node = node.fields[part]
    return node


def children(path: tuple[str, ...], root: FieldType | None = None) -> list[str]:
    """Valid next names after a path prefix, for 'did you mean' hints."""
    node = root or profile_type()
    for part in path:
        if node.kind not in ("object", "collection") or part not in node.fields:
            return []
        node = node.fields[part]
    return list(node.fields) if node.kind in ("object", "collection") else []


def all_paths(root: FieldType | None = None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every dotted path below root (items of collections are not descended into)."""
    node = root or profile_type()
    out = []
    for name, sub in node.fields.items():
        out.append(prefix + (name,))
        if sub.kind == "object":
            out.extend(all_paths(sub, prefix + (name,)))
    return out


class FieldWords(NamedTuple):
    """How reports and questionnaires name a field: its label, and the question that asks for it ({item} stands
    for the item of a collection it belongs to)."""

    label: str
    question: str | None


@lru_cache(maxsize=None)
def words_for(path: tuple[str, ...]) -> FieldWords | None:
    """The label and question of the field at a path from the profile root (collections' items included)."""
    if _adopted is not None:
        return _adopted[1].get(path)
    from .models import Profile

    model: Any = Profile
    info = None
    for part in path:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = _unwrap(info.annotation)
        if get_origin(model) is list:
            model = _unwrap(get_args(model)[0])
    if info is None or not info.title:
        return None
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return FieldWords(info.title, extra.get("question"))


def fields() -> tuple[FieldType, dict[tuple[str, ...], FieldWords]]:
    """The profile's FieldType tree and the words of every field that has them, by path (what profile_type() and
    words_for() give), for the rules cache to keep."""
    from .models import Profile

    words: dict[tuple[str, ...], FieldWords] = {}

    def walk(model: Any, prefix: tuple[str, ...]) -> None:
        for name, info in model.model_fields.items():
            path = prefix + (name,)
            found = words_for(path)
            if found is not None:
                words[path] = found
            inner = _unwrap(info.annotation)
            if get_origin(inner) is list:
                inner = _unwrap(get_args(inner)[0])
            if hasattr(inner, "model_fields"):
                walk(inner, path)

    walk(Profile, ())
    return profile_type(), words


def adopt(kept: tuple[FieldType, dict[tuple[str, ...], FieldWords]] | None) -> None:
    """Answer profile_type() and words_for() from what fields() made, kept by the rules cache."""
    global _adopted
    _adopted = kept


#: The schema's identity: editors and validators cache it by this.
SCHEMA_ID = "urn:partnership-advisor:profile:1"
#: What advisor reads as true or false besides true and false themselves (YAML 1.1, which advisor reads; an
#: editor reading YAML 1.2 sees these as text, so the schema lists them).
YAML_BOOLEANS = tuple(f(w) for w in ("yes", "no", "on", "off", "true", "false") for f in (str.lower, str.capitalize, str.upper))
#: A date as advisor reads it: YYYY-MM-DD (one-digit month and day allowed).
DATE_PATTERN = r"^\d{4}-\d{1,2}-\d{1,2}$"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a profile, for editors that check YAML as it is typed (`advisor schema`).

    Every field has its label as title and its meaning as description (the question that asks for it and
    the guide sections it serves); an optional field is a plain property that may be empty; choices and
    yes/no fields accept `unknown` as advisor does.
    """
    from .models import Profile

    generated = Profile.model_json_schema()
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Partnership profile (advisor, profile_version 1)",
        "description": "A strategic partnership described for advisor, after 'A Guide to Strategic Partnering' "
                       "(Civilian Secretariat for Police Service, 2020). Only name and one partner are required; "
                       "a section left out is reported as a governance gap. The format: docs/PROFILE.md.",
    }
    document.update({k: v for k, v in generated.items() if k not in document})
    for model in (document, *document.get("$defs", {}).values()):
        for name, prop in model.get("properties", {}).items():
            model["properties"][name] = _plain(prop)
    return document


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """One property as editors show it best: no anyOf with null, words for its title and description."""
    out = {k: v for k, v in prop.items() if k not in ("anyOf", "default", "question", "guide", "title")}
    nullable = False
    for option in prop.get("anyOf", ()):
        if option == {"type": "null"}:
            nullable = True
        else:
            out.update(option)
    if out.get("type") == "boolean":
        out.pop("type")
        out["enum"] = [True, False, *YAML_BOOLEANS, "unknown"]
    elif "enum" in out and nullable:
        out["enum"] = [*out["enum"], "unknown"]
        out["enumDescriptions"] = [v.replace("_", " ") for v in out["enum"][:-1]] + ["not settled yet"]
    elif out.get("format") == "date":
        out.pop("format")
        out["pattern"] = DATE_PATTERN
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"]
    if nullable and "enum" in out:
        out["enum"].append(None)
    if "items" in out and isinstance(out["items"], dict) and "enum" in out["items"]:
        out["items"] = {**out["items"], "enumDescriptions": [v.replace("_", " ") for v in out["items"]["enum"]]}
    title = prop.get("title")
    if title:
        out["title"] = title[:1].upper() + title[1:]
        meaning = [out["title"] + "."]
        if prop.get("question"):
            meaning.append(prop["question"].replace("{item}", "this item"))
        if prop.get("guide"):
            meaning.append(f"Guide: {prop['guide']}.")
        out["description"] = " ".join(meaning)
    return out


#: The command that writes the committed field reference, named in its introduction.
FIELDS_COMMAND = "advisor schema --format markdown -o docs/profile-fields.md"


def field_reference() -> str:
    """Every field of the profile in a committee's words, as Markdown: what it means, the values it takes and the
    guide sections it serves (docs/profile-fields.md, kept in step by a test)."""
    schema = json_schema()
    defs = schema["$defs"]
    out = ["# Profile fields", "",
           f"Generated by `{FIELDS_COMMAND}` from the profile model; do not edit it by hand. The format and an "
           "example are in [PROFILE.md](PROFILE.md).", ""]
    for title, model in [("The partnership", schema), *((name, defs[name]) for name in defs)]:
        out += [f"## {title}", "", model.get("description", "") if model is not schema else "", ""]
        out += ["| field | what it is | values | guide |", "|---|---|---|---|"]
        for name, prop in model["properties"].items():
            if name == "profile_version":
                continue
            meaning = prop["description"].split(" Guide: ")[0]
            guide = prop["description"].split(" Guide: ")[1].rstrip(".") if " Guide: " in prop["description"] else ""
            out.append(f"| `{name}` | {_cell(meaning)} | {_cell(_values(prop))} | {guide} |")
        out.append("")
    return "\n".join(line for i, line in enumerate(out) if line or (i and out[i - 1])).rstrip() + "\n"


def _values(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"a section ({prop['$ref'].rsplit('/', 1)[-1]})"
    if prop.get("type") == "array" or "array" in (prop.get("type") or ()):
        items = prop.get("items", {})
        if "$ref" in items:
            return f"a list of {items['$ref'].rsplit('/', 1)[-1]} items"
        if "enum" in items:
            return "a list of: " + ", ".join(items["enum"])
        return "a list of texts"
    enum = [v for v in prop.get("enum", ()) if v is not None]
    if True in enum:
        return "yes or no (true/false), or unknown"
    if enum:
        return "one of: " + ", ".join(str(v) for v in enum)
    kinds = prop.get("type")
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds or () if k != "null"]
    if "pattern" in prop:
        return "a date, YYYY-MM-DD"
    return {"string": "text", "integer": "a whole number", "number": "a number"}.get(kinds[0] if kinds else "", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
