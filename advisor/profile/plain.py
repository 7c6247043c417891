"""The profile as plain records, and the value checks the pydantic models (advisor.profile.models) call.

The models define the profile and check it; a command that evaluates reads it. The validator the rules cache keeps
for the command line (validation.record_validator) is Profile's own core schema, made by pydantic from the models,
with each model class swapped for the record class of the same name here: pydantic-core checks the data exactly as
it does for the models (the same schema, the same errors) and fills a record's fields in the model's order, defaults
included, as it fills a model's. A run then imports neither the models nor pydantic's machinery for them (pydantic.main
and the ~25 model classes it builds: ~300 million instructions, more than half of importing pydantic, yaml, click and
jinja2). A record reads as its model does: the same attributes, equality, hash, repr and model_dump (what reports call).
"""

import re
from datetime import date, datetime
from typing import Any

from pydantic_core import PydanticKnownError

#: What a profile writes for a yes/no or a choice the partners have not settled yet.
UNKNOWN = "unknown"
#: The largest whole number a profile may hold: both engines compare whole numbers up to 64 bits.
MAX_WHOLE = 2**63 - 1

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _iso_date(value: Any) -> Any:
    """Dates written unquoted (YAML dates) or as quoted YYYY-MM-DD text; anything else says how to write it."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date without a time, got {value.isoformat(sep=' ')}; write {value.date().isoformat()}")  # noqa: TRY004  (pydantic reports a ValueError)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a date in the calendar ({exc}); write a real date as YYYY-MM-DD") from None
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if m:
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            day, month = (second, first) if first <= 12 < second else (first, second)
            try:
                iso = date(year, month, day).isoformat()
            except ValueError:
                iso = None
            if iso is not None:
                meaning = "" if first > 12 or second > 12 or first == second else f" if you mean {day} {_MONTHS[month - 1]} {year}"
                raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}; write {iso}{meaning}")
    shown = repr(value) if len(repr(value)) < 40 else repr(value)[:40] + "..."
    raise ValueError(f"expected a date, got {shown}; write it as YYYY-MM-DD, such as 2026-02-01")


def _days_in_month(year: int, month: int) -> int:
    """calendar.monthrange(year, month)[1], without importing calendar (and locale) on every start."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def _whole(value: Any) -> Any:
    """7.0 is the whole number 7 (a JSON Schema integer too); 7.5 stays a number the model refuses."""
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value


def _unknown(value: Any) -> Any:
    """`unknown` (a yes/no or a choice the partners have not settled) reads as not recorded."""
    return None if value == UNKNOWN else value


def months_from_dates(duration: Any) -> Any:
    """A duration's check after its fields (a Duration model or record): the end not before the start, and the months
    worked out from the dates when not given."""
    start, end = duration.start, duration.end
    if start and end:
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}; correct one of the dates")
        if duration.months is None:
            # Calendar months, plus the days left over (inclusive) in average months:
            # 2026-02-01..2028-01-31 is 24 months, a one-day event 0.03.
            whole = (end.year - start.year) * 12 + end.month - start.month
            month_days = _days_in_month(end.year, end.month)
            months = whole + (end.day - start.day + 1) / month_days
            if months <= 0 or whole == 0:
                months = ((end - start).days + 1) / 30.4375
            object.__setattr__(duration, "months", round(months, 2))
    return duration


def at_least(x: Any, ge: int) -> Any:
    """A whole number's lower bound (Field(ge=...)), checked as pydantic's own check does (same error, same context)
    for the record validator, which so need not import pydantic's module of checks (with zoneinfo and sysconfig)."""
    try:
        if not x >= ge:
            raise PydanticKnownError("greater_than_equal", {"ge": ge})
        return x
    except TypeError:
        raise TypeError(f"Unable to apply constraint 'ge' to supplied value {x}") from None


def at_most(x: Any, le: int) -> Any:
    """A whole number's upper bound (Field(le=...)), as at_least."""
    try:
        if not x <= le:
            raise PydanticKnownError("less_than_equal", {"le": le})
        return x
    except TypeError:
        raise TypeError(f"Unable to apply constraint 'le' to supplied value {x}") from None


def _dumped(value: Any, json: bool, exclude_none: bool) -> Any:
    if isinstance(value, Record):
        return value.model_dump(mode="json" if json else "python", exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dumped(item, json, exclude_none) for item in value]
    if json and isinstance(value, date):
        return value.isoformat()
    return value


class Record:
    """A profile section as pydantic-core fills it: its fields in __dict__, and the slots a model keeps beside them
    (the fields set, extra and private values), so that __dict__ holds the fields alone. Frozen, as the models are."""

    __slots__ = ("__dict__", "__pydantic_extra__", "__pydantic_fields_set__", "__pydantic_private__")

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in self.__dict__.items())})"

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False) -> dict[str, Any]:
        """The fields as a dict, as pydantic's model_dump gives them: in json mode dates as YYYY-MM-DD, with
        exclude_none no field that is None, at every depth (a profile holds records, lists, text, numbers, dates)."""
        if mode not in ("python", "json"):
            raise ValueError(f"mode must be 'python' or 'json', not {mode!r}")
        json = mode == "json"
        return {name: _dumped(value, json, exclude_none) for name, value in self.__dict__.items()
                if not (exclude_none and value is None)}


# One record class per model (advisor.profile.models), by the same name.

class Purpose(Record):
    __slots__ = ()


class Values(Record):
    __slots__ = ()


class Goal(Record):
    __slots__ = ()


class PartnershipType(Record):
    __slots__ = ()


class Funding(Record):
    __slots__ = ()


class Duration(Record):
    __slots__ = ()


class Partner(Record):
    __slots__ = ()


class Activities(Record):
    __slots__ = ()


class Committee(Record):
    __slots__ = ()


class Leadership(Record):
    __slots__ = ()


class Governance(Record):
    __slots__ = ()


class Communication(Record):
    __slots__ = ()


class Resources(Record):
    __slots__ = ()


class Risk(Record):
    __slots__ = ()


class KPI(Record):
    __slots__ = ()


class Monitoring(Record):
    __slots__ = ()


class Trust(Record):
    __slots__ = ()


class Waiver(Record):
    __slots__ = ()


class NotApplicable(Record):
    __slots__ = ()


class Profile(Record):
    __slots__ = ()
