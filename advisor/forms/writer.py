"""A profile written as YAML for people: the questions as comments, every text quoted so no YAML trap bites."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..profile.models import Profile
from ..profile.schema import _unwrap
from .questionnaire import Question, Questionnaire

#: The first line of a written profile: editors with the YAML language server check it against the schema
#: `advisor schema -o profile.schema.json` writes next to it.
MODELINE = "# yaml-language-server: $schema=profile.schema.json"

_ESCAPES = {"\u2028": "\\L", "\u2029": "\\P", "\u0085": "\\N"}


def quoted(text: str) -> str:
    """Text as a double-quoted YAML scalar: read back as exactly this text, whatever it holds (a comma, a colon,
    'yes', '3,000', '#', a leading zero)."""
    out = json.dumps(text, ensure_ascii=False)
    for char, escape in _ESCAPES.items():
        out = out.replace(char, escape)
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")  # never 1e+20, which YAML 1.1 reads as text
    return quoted(str(value))


def _fields(model: Any) -> dict[str, Any]:
    return getattr(model, "model_fields", {})


def _sub_model(model: Any, name: str) -> Any:
    info = _fields(model).get(name)
    if info is None:
        return None
    inner = _unwrap(info.annotation)
    args = getattr(inner, "__args__", None)
    if getattr(inner, "__origin__", None) is list and args:
        inner = _unwrap(args[0])
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def profile_yaml(qn: Questionnaire, data: dict[str, Any], header: list[str] | None = None) -> str:
    """The profile as YAML text with a schema modeline, a header, and each question as a comment above its answer."""
    questions: dict[tuple[str, ...], Question] = {}
    for repeat, q in qn.questions():
        if q.field is None or q.inverse:
            continue
        path = ((*repeat.path, "*") if repeat else ()) + q.path
        questions[path] = q
    lines = [MODELINE] + [f"# {line}".rstrip() for line in header or ()]
    _mapping(qn, data, Profile, (), 0, lines, questions, first_item=None)
    return "\n".join(lines) + "\n"


def _comment(lines: list[str], indent: int, text: str) -> None:
    lines.append(" " * indent + "# " + " ".join(text.split()))


def _mapping(qn: Questionnaire, data: dict[str, Any], model: Any, path: tuple[str, ...], indent: int,
             lines: list[str], questions: dict[tuple[str, ...], Question], first_item: str | None) -> None:
    order = list(_fields(model)) if model is not None else []
    keys = [k for k in order if k in data] + [k for k in data if k not in order]
    pad = " " * indent
    for n, key in enumerate(keys):
        value = data[key]
        here = (*path, key)
        q = questions.get(here)
        info = _fields(model).get(key) if model is not None else None
        prefix = pad
        if first_item is not None and n == 0:
            prefix = " " * (indent - 2) + "- "
            if first_item:
                _comment(lines, indent - 2, first_item)
        elif q is not None:
            _comment(lines, indent, qn.label(q))
        elif not path and info is not None and isinstance(value, (dict, list)):
            lines.append("")
            guide = (info.json_schema_extra or {}).get("guide")
            _comment(lines, indent, (info.title or key)[0].upper() + (info.title or key)[1:]
                     + (f" (guide {guide})" if guide else ""))
        elif info is not None and info.title and key != "profile_version":
            _comment(lines, indent, info.title[0].upper() + info.title[1:])
        label = dict(qn.choices(q)) if q is not None and q.type in ("choice", "choices") else {}
        if isinstance(value, dict):
            lines.append(f"{prefix}{key}:")
            _mapping(qn, value, _sub_model(model, key), here, indent + 2, lines, questions, None)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{prefix}{key}:")
            sub = _sub_model(model, key)
            noun = {"partners": "Partner", "goals": "Goal", "risks": "Risk", "kpis": "KPI"}.get(key)
            for i, item in enumerate(value, 1):
                _mapping(qn, item, sub, (*here, "*"), indent + 4, lines, questions, f"{noun} {i}" if noun else "")
        elif isinstance(value, list):
            if not value:
                lines.append(f"{prefix}{key}: []")
                continue
            lines.append(f"{prefix}{key}:")
            for item in value:
                words = f"  # {label[item]}" if item in label else ""
                lines.append(f"{pad}  - {_scalar(item)}{words}")
        else:
            words = f"  # {label[value]}" if isinstance(value, str) and value in label else ""
            lines.append(f"{prefix}{key}: {_scalar(value)}{words}")
