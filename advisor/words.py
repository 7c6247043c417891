"""Paths and values as text: for a machine (`partners[0].sector`), as written in YAML, and in a committee's words.

The one place that turns a field path or a value into text; the error messages, the text
report, the advice documents and the rule reference all use these functions.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterable

from .vocabulary import COLLECTIONS

#: A field path: mapping keys (str) and list indices (int), from the profile's root.
Path = tuple

# Words that read better in capitals or spelled out when a field path is turned into words.
_WORDS = {"kpis": "KPIs", "kpi": "KPI", "ip": "IP", "mou": "MOU", "id": "id", "cpf": "CPF"}


# --------------------------------------------------------------------------- paths


def path_text(parts: Iterable[Any]) -> str:
    """('partners', 0, 'sector') -> 'partners[0].sector': a path as the JSON report and error messages write it."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def name_in_words(name: str) -> str:
    """A field or derived fact's name in words: `committed_share` -> 'committed share', `kpis` -> 'KPIs'."""
    return " ".join(_WORDS.get(w, w) for w in re.split(r"[._]+", name) if w)


def item_in_words(collection: str, index: int, name: str | None) -> str:
    """How a report names one item of a collection: its name (`goal g1` for goals), else `partner #3`."""
    noun = COLLECTIONS[collection].noun if collection in COLLECTIONS else name_in_words(collection)
    if name is None:
        return f"{noun} #{index + 1}"
    return f"goal {name}" if collection == "goals" else name


# --------------------------------------------------------------------------- values


def quoted(value: Any, limit: int = 60) -> str:
    """A value as quoted in a one-line message: repr, control characters escaped, long text cut.

    Whatever a library caller passes: a whole number too long to write out is named by its length,
    an object whose repr fails by its type.
    """
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit] + "...")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"a whole number of {_digits(value):,} digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a caller's object: its repr is not ours to trust
        return f"a {type(value).__name__}"
    if not isinstance(text, str):
        return f"a {type(value).__name__}"
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def _digits(value: int) -> int:
    """The number of decimal digits of a whole number too long for str() (over 4,300 digits)."""
    value = abs(value)
    digits = int(value.bit_length() * 0.30102999566398120)
    while 10**digits <= value:
        digits += 1
    while digits > 1 and 10 ** (digits - 1) > value:
        digits -= 1
    return digits


def described(value: Any) -> str:
    """A value as an error message names it: `an empty value`, `true`, `a mapping`, `2026-01-05`, `'text'`."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return quoted(value)


def written(value: Any) -> str:
    """A value as YAML writes it, for a row `path = value`: true, 12, [a, b]; unset is `not set`."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(written(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def literal(value: Any) -> str:
    """A constant of a rule condition as a reader writes it: true, 12, 0.5, ad_hoc; a list as `a, b`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(literal(v) for v in value)
    return str(value)


def in_words(value: Any, fmt: str = "") -> str:
    """A value as a committee member reads it: yes/no, `none` for an empty list, `ad hoc` for ad_hoc.

    fmt "%" writes a share as a percentage, "," a number with thousands separators.
    """
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(in_words(v) for v in value) if value else "none"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if fmt == "%":
            return f"{value * 100:.0f}%"
        if fmt == ",":
            return f"{value:,.0f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return f"{value:g}" if isinstance(value, float) else str(value)
    return str(value).replace("_", " ") if str(value).isidentifier() else str(value)


def first_sentence(text: str) -> str:
    """The first sentence of a text (up to its first . ! or ? followed by a space or the end)."""
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text
