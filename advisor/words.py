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
        return day(value)
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


# --------------------------------------------------------------------------- as a committee writes them

#: How a number of a field or derived fact is written: money, a duration in months, a share, a count of days.
#: Keyed by the path as the JSON report writes it (items of a collection by `collection[*].field`).
UNITS: dict[str, str] = {
    "funding.budget_required": "money",
    "funding.budget_committed": "money",
    "duration.months": "months",
    "derived.committed_share": "share",
    "derived.kpi_progress": "share",
    "monitoring.kpis[*].kpi_progress": "share",
    "derived.days_since_review": "days",
    "derived.days_since_partnership_start": "days",
}

#: Derived facts in a committee's words, where the fact's own name does not say it well.
DERIVED_LABELS: dict[str, str] = {
    "sector_count": "number of sectors among the partners",
    "committed_share": "share of the budget committed",
    "days_since_review": "time since the last review",
    "partners_with_benefits": "partners who name a benefit",
    "shared_partner_values": "values every partner holds",
    "kpi_progress": "progress towards the target",
    "stakeholder_mix": "mix of stakeholders",
    "term": "term",
    "evidenced_level": "level the joint activities show",
    "recommended_formality": "recommended formality",
    "recommended_agreement": "recommended agreement",
    "recommended_level": "recommended level",
    "working_stage": "stage the advice assumes",
    "checklist_weight": "how much of the checklist applies",
    "contribution_types": "kinds of contribution",
    "days_since_partnership_start": "time since the partnership started",
    "shared_values_held": "shared values it holds",
}

#: Currencies written with their symbol before the amount; any other is written with its code.
CURRENCY_SYMBOLS: dict[str, str] = {"ZAR": "R"}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
#: The average length of a month in days, as the profile counts a duration from its dates.
MONTH_DAYS = 30.4375


def upper_first(text: str) -> str:
    """'shared vision' -> 'Shared vision': the first letter in capitals, the rest as written."""
    return text[:1].upper() + text[1:]


def grouped(number: float) -> str:
    """1200000 -> '1 200 000': whole numbers in groups of three, as South Africans write them; fractions to two places."""
    if isinstance(number, float) and not number.is_integer():
        whole, _, fraction = f"{abs(number):.2f}".partition(".")
        sign = "-" if number < 0 else ""
        return sign + f"{int(whole):,}".replace(",", " ") + "." + fraction.rstrip("0")
    return f"{int(number):,}".replace(",", " ")


def money(amount: float, currency: str | None = None) -> str:
    """565000 in ZAR -> 'R565 000'; in another currency its code first ('USD 1 200'); with none, the amount alone."""
    figure = grouped(amount)
    if currency is None:
        return figure
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{figure}" if symbol else f"{currency} {figure}"


def percent(share: float) -> str:
    """0.75 -> '75%'."""
    return f"{share * 100:.0f}%"


def days(count: int) -> str:
    """1 -> '1 day', 359 -> '359 days'."""
    return f"{grouped(count)} day{'' if abs(count) == 1 else 's'}"


def duration(months: float) -> str:
    """A duration in months as people say it: '1 day', '2 days' under a month, '1 month', '9 months', 'about 15 months'."""
    if months < 1:
        return days(max(1, round(months * MONTH_DAYS)))
    whole = int(months + 0.5)
    about = "" if abs(months - whole) < 0.05 else "about "
    return f"{about}{whole} month{'' if whole == 1 else 's'}"


def day(value: date | str) -> str:
    """2026-09-30 (a date, or the ISO text of one) -> '30 September 2026'; other text is returned as it is."""
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
        if m is None:
            return value
        year, month, dom = int(m[1]), int(m[2]), int(m[3])
    else:
        year, month, dom = value.year, value.month, value.day
    return f"{dom} {_MONTHS[month - 1]} {year}" if 1 <= month <= 12 else str(value)


def possessive(name: str) -> str:
    """'Mandla Farms' -> "Mandla Farms'", 'SAPS Khayelitsha' -> "SAPS Khayelitsha's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def shortened(text: str, limit: int = 60) -> str:
    """A long name cut at a word, with an ellipsis: for a risk's description used as a label."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def value_words(value: Any, unit: str | None = None, currency: str | None = None) -> str:
    """A value as a committee writes it: 'not recorded', yes/no, 'none' for an empty list, 'ad hoc', and by its
    unit 'R565 000', '9 months', '75%', '359 days'; dates as '30 September 2026', big numbers as '1 200 000'."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_words(v, unit, currency) for v in value) if value else "none"
    if isinstance(value, dict):
        return "recorded"
    if isinstance(value, date):
        return day(value)
    if isinstance(value, (int, float)):
        if unit == "money":
            return money(value, currency)
        if unit == "months":
            return duration(value)
        if unit == "share":
            return percent(value)
        if unit == "days":
            return days(int(value))
        if isinstance(value, float) and not value.is_integer():
            return f"{round(value, 2):g}"
        return grouped(value)
    text = str(value)
    if unit == "date":
        return day(text)
    return text.replace("_", " ") if text.isidentifier() else text


def listed(items: Iterable[str], conjunction: str = "and") -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """(1, 'problem') -> '1 problem', (3, 'problem') -> '3 problems'."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
