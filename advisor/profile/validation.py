"""Validates plain data as a profile, with errors that name file, line and field and say what to write instead."""

from __future__ import annotations

import contextlib
import functools
import json
import pickle
import re
from dataclasses import dataclass
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from ..errors import Location, ProfileError, did_you_mean
from ..checking import TYPE_WORDS, Problem, first_invalid, first_problem
from ..vocabulary import collection_named
from ..words import described, quoted
from ..yamlio import YamlDocument

if TYPE_CHECKING:
    from .models import Profile

#: Profile's validator as the rules cache handed it over (adopt), pickled: unpickled when a profile is first validated
#: into the models; None: then Profile.model_validate, which builds its own on first use (~45 ms of a start: the
#: profile's core schema made from ~120 annotated fields).
_adopted: Any = None
#: The same validator with the models swapped for the plain records (record_validator), as the rules cache handed it
#: over, or None.
_adopted_records: Any = None
#: Whether profiles are validated into plain records (reading_records), not into the models.
_as_records = False


def profile_validator() -> Any:
    """A validator for Profile that is the one pydantic builds (the same core schema and config), for the rules
    cache to keep: it pickles as that schema, which names the models and the validator functions it calls."""
    from pydantic_core import SchemaValidator

    from .models import Profile

    Profile.model_rebuild()
    core = Profile.__pydantic_core_schema__
    return SchemaValidator(core, core.get("config"))


def record_validator(validator: Any = None) -> Any:
    """Profile's validator (the one given, else profile_validator()) with each model class swapped for the plain
    record of the same name (advisor.profile.plain), the model validator of Duration for the check it calls, pydantic's
    checks of a whole number's bounds for plain's (at_least, at_most), and without the schemas' metadata (what pydantic
    keeps for the JSON Schema, which names the models' methods and which no validator reads): the same checks, the
    same errors, records filled as the models are. It pickles naming only plain's classes and functions, so a run
    that unpickles it imports no model, nor pydantic's module of checks."""
    from pydantic_core import SchemaValidator

    from . import models, plain

    swapped = {getattr(models, name): getattr(plain, name) for name in dir(plain)
               if isinstance(getattr(plain, name), type) and issubclass(getattr(plain, name), plain.Record)
               and name != "Record"}
    functions = {models.Duration._months_from_dates: plain.months_from_dates}
    bounds = {"greater_than_or_equal_validator": plain.at_least, "less_than_or_equal_validator": plain.at_most}

    def swap(value: Any) -> Any:
        if isinstance(value, functools.partial) and value.func.__module__ == "pydantic._internal._validators" and \
                value.func.__name__ in bounds and isinstance(next(iter(value.keywords.values()), None), int):
            return functools.partial(bounds[value.func.__name__], *value.args, **value.keywords)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items() if not (key == "metadata" and "type" in value)}
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, type):
            return swapped.get(value, value)
        return functions.get(value, value) if callable(value) else value

    core = swap((validator or profile_validator()).__reduce__()[1][0])
    return SchemaValidator(core, core.get("config"))


def adopt(validator: Any, records: Any = None) -> None:
    """Validate profiles with these validators (profile_validator() pickled, record_validator()), kept by the rules
    cache."""
    global _adopted, _adopted_records
    _adopted, _adopted_records = validator, records


@contextlib.contextmanager
def reading_records() -> Iterator[None]:
    """Meanwhile, validate profiles into plain records (advisor.profile.plain) when the rules cache handed over their
    validator: what a command that only reads the profiles (evaluate, validate) needs, without the models. The
    library's profiles (load_profile, Advisor.load) stay models."""
    global _as_records
    before, _as_records = _as_records, True
    try:
        yield
    finally:
        _as_records = before


def _validated(data: Any) -> Any:
    """The profile for data: records (reading_records) or models; ValidationError when it is not one."""
    global _adopted
    if _as_records and _adopted_records is not None:
        return _adopted_records.validate_python(data)
    if type(_adopted) is bytes:
        _adopted = pickle.loads(_adopted)  # the rules cache's own entry, authenticated as it was read
    if _adopted is not None:
        return _adopted.validate_python(data)
    from .models import Profile

    return Profile.model_validate(data)


@dataclass
class LoadedProfile:
    """A validated profile with where it came from and the line of every field."""

    profile: Profile  # or the same profile as plain records (reading_records)
    source: str
    document: YamlDocument | None = None

    def line(self, path: tuple) -> int | None:
        if self.document is None:
            return None
        mark = self.document.marks.get(tuple(path))
        return mark[0] if mark else None


def _item_key(name: Any) -> str | None:
    """The field that identifies an item of the list called name, for "write it as '- name: X'"."""
    collection = collection_named(name) if isinstance(name, str) else None
    return collection.key if collection else None


#: An example for each required field, for "required field is missing; add it".
_EXAMPLE = {
    ("name",): "name: Ward 12 Safety Forum",
    ("partners",): "partners: [{name: SAPS Ward 12}]",
    ("partners", "name"): "name: SAPS Ward 12",
    ("goals", "id"): "id: g1",
    ("kpis", "name"): "name: Incidents reported",
    ("risks", "description"): "description: Key champion transferred",
    ("waivers", "rule"): "rule: governance.ip-agreement",
    ("waivers", "reason"): "reason: why the committee accepts it",
}


def _names(loc: tuple) -> tuple:
    return tuple(p for p in loc if not isinstance(p, int))


def _type_hint(kind: str, loc: tuple, value: Any) -> str:
    """What to write instead, for a value of the wrong type."""
    names = _names(loc)
    if value is None:
        return "; write a value after the colon, or leave the line out"
    if kind == "string_type" and isinstance(value, (bool, int, float)) or kind == "string_type" and hasattr(value, "isoformat"):
        return "; put it in quotes to keep it as text"
    if kind == "bool_type":
        return "; write true or false (without quotes)"
    if kind in ("float_type", "int_type", "int_from_float", "finite_number"):
        if kind == "int_from_float" or (kind == "int_type" and isinstance(value, float)):
            return "; write a whole number such as 3"
        if isinstance(value, str):
            digits = re.sub(r"[\s,_]|^[A-Za-z$\u20ac\u00a3]+|[A-Za-z]+$", "", value)
            try:
                number = float(digits)
            except ValueError:
                return "; write digits only, such as 450000"
            if abs(number) < 1e15:
                plain = f"{number:.0f}" if number.is_integer() else repr(number)
                return f"; write the number alone, without quotes or units: {plain}"
        return "; write digits only, such as 450000"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        key = _item_key(names[-1]) if names else None
        if loc and isinstance(loc[-1], int) and key and isinstance(value, (str, int, float)):
            return f"; write each item as '- {key}: {_as_written(value)}'"
        return "; write its fields as 'key: value' lines indented under it"
    if kind == "list_type":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            key = _item_key(names[-1]) if names else None
            if key:
                return f"; write each item on its own line as '- {key}: {_as_written(value)}'"
            return f"; write it as a list: [{_as_written(value)}]"
        return "; write one '- item' per line, or [a, b] on one line"
    return ""


def _as_written(value: Any) -> str:
    """A value in a suggestion as the user would type it: plain when it is short printable text, else as a
    YAML double-quoted string (escapes and all, cut at 60 characters)."""
    text = str(value)
    if text.isprintable() and len(text) <= 60:
        return text
    return json.dumps(text[:60]) + ("..." if len(text) > 60 else "")


def _bound(ctx: dict, key: str) -> str:
    value = ctx[key]
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _describe(err: dict, data: Any) -> str:
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    if kind == "extra_forbidden":
        from . import schema  # the models' fields: only for this message

        fields = schema.children(_names(loc[:-1]))
        hint = did_you_mean(loc[-1], fields)
        if not hint:
            hint = f"; expected one of: {', '.join(fields)}" if 0 < len(fields) <= 13 else \
                "; remove it or check the spelling (`advisor schema` lists every field)"
        return f"unknown key {quoted(loc[-1])}{hint}"
    if kind == "literal_error":
        expected = [e.strip().strip("'") for e in err["ctx"]["expected"].replace(" or ", ", ").split(",")]
        if loc and loc[-1] == "profile_version":
            return f"unsupported profile_version {quoted(value)}; this advisor reads version 1: write profile_version: 1"
        hint = did_you_mean(value, expected) if isinstance(value, str) else \
            "; YAML reads a bare yes/no/on/off as true/false" if isinstance(value, bool) else ""
        return f"unknown value {described(value)}; expected one of: {', '.join(expected)}{hint}"
    if kind == "missing":
        example = _EXAMPLE.get(_names(loc)[-2:]) or _EXAMPLE.get(_names(loc)[-1:])
        return f"required field is missing; add it{f' ({example})' if example else ''}"
    wanted = TYPE_WORDS.get(kind)
    if wanted:
        return f"expected {wanted}, got {described(value)}{_type_hint(kind, loc, value)}"
    if kind == "string_unicode":
        return f"{described(value)} holds a character that is not valid Unicode (a lone surrogate such as \\ud800); remove it"
    if kind == "string_too_short":
        return "must not be empty; write a value or leave the line out"
    if kind == "too_short":
        n = err["ctx"].get("min_length", 1)
        names = _names(loc)
        key = _item_key(names[-1]) if names else None
        add = f"; add each as '- {key}: ...'" if key else ""
        return f"needs at least {n} item{'s' if n != 1 else ''}{add}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": ("ge", "or more"), "greater_than": ("gt", "more than"),
                 "less_than_equal": ("le", "or less"), "less_than": ("lt", "less than")}[kind]
        bound = _bound(err["ctx"], words[0])
        limit = f"{bound} {words[1]}" if words[1].startswith("or") else f"{words[1]} {bound}"
        extra = " (1 is the highest)" if _names(loc)[-1:] == ("priority",) else ""
        return f"must be {limit}{extra}, got {described(value)}"
    if kind == "value_error":
        return str(err["ctx"].get("error", err["msg"]))
    if kind == "string_pattern_mismatch" and loc[-1:] == ("currency",):
        return f"expected a three-letter currency code such as ZAR, got {described(value)}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]} (got {described(value)})"


class Known(NamedTuple):
    """What a profile's waivers and not-applicable steps may name: the rule ids and the guide's step ids."""

    rules: frozenset[str]
    steps: frozenset[str]


def reference_problems(profile: Profile, rule_ids: Known | set[str] | None = None) -> list[Problem]:
    """Broken cross-references in a profile, as (field path, message) pairs in profile order.

    `rule_ids` (rule ids, or a Known with the guide's steps too) checks what waivers and not-applicable
    steps name. A message that suggests a name (did you mean) is a function that writes it: only the
    problem reported is worth comparing with every name of a large profile.
    """
    problems: list[Problem] = []
    names: dict[str, int] = {}
    for i, partner in enumerate(profile.partners):
        if partner.name in names:
            problems.append((("partners", i, "name"), f"duplicate partner name {quoted(partner.name)} (also partners[{names[partner.name]}]); "
                                                      "give each partner its own name"))
        else:
            names[partner.name] = i
    goal_ids: dict[str, int] = {}
    for i, goal in enumerate(profile.goals or ()):
        if goal.id in goal_ids:
            problems.append((("goals", i, "id"), f"duplicate goal id {quoted(goal.id)} (also goals[{goal_ids[goal.id]}]); give each goal its own id"))
        else:
            goal_ids[goal.id] = i

    def known(what: str, choices: dict[str, int], word: str) -> str:
        hint = did_you_mean(word, choices)
        if hint:
            return hint
        if not choices:
            return f"; no {what}s are defined"
        if len(choices) <= 5:
            return f"; expected one of: {', '.join(quoted(c) for c in choices)}"
        return f"; use one of the {len(choices)} {what}s defined"

    def partner_ref(path: tuple, value: str | None) -> None:
        if value is not None and value not in names:
            problems.append((path, lambda: f"{quoted(value)} is not a partner name{known('partner name', names, value)}"))

    partner_ref(("lead_partner",), profile.lead_partner)
    for i, goal in enumerate(profile.goals or ()):
        partner_ref(("goals", i, "owner"), goal.owner)
    for i, partner in enumerate(profile.partners):
        for j, goal_id in enumerate(partner.objectives or ()):
            if goal_id not in goal_ids:
                problems.append((("partners", i, "objectives", j),
                                 lambda goal_id=goal_id: f"{quoted(goal_id)} is not a goal id{known('goal id', goal_ids, goal_id)}"))
        for j, other in enumerate(partner.competes_with or ()):
            if other == partner.name:
                problems.append((("partners", i, "competes_with", j), "a partner cannot compete with itself; remove it from competes_with"))
            else:
                partner_ref(("partners", i, "competes_with", j), other)
    for i, goal in enumerate(profile.goals or ()):
        for j, party in enumerate(goal.between or ()):
            partner_ref(("goals", i, "between", j), party)
    for i, risk in enumerate(profile.risks or ()):
        partner_ref(("risks", i, "owner"), risk.owner)
        for j, party in enumerate(risk.between or ()):
            partner_ref(("risks", i, "between", j), party)
    if isinstance(rule_ids, Known):
        rule_ids, steps = rule_ids
        for i, skipped in enumerate(profile.not_applicable or ()):
            if skipped.step not in steps:
                hint = did_you_mean(skipped.step, steps) or "; name a numbered step of the guide, such as 21.6"
                problems.append((("not_applicable", i, "step"), f"{quoted(skipped.step)} is not a step of the guide{hint}"))
    if rule_ids is not None:
        for i, waiver in enumerate(profile.waivers or ()):
            if waiver.rule not in rule_ids:
                problems.append((("waivers", i, "rule"), lambda rule=waiver.rule: f"{quoted(rule)} is not a known rule id"
                                 f"{did_you_mean(rule, rule_ids) or '; `advisor rules list` shows the rule ids'}"))
    return problems


def validate(data: Any, source: str, document: YamlDocument | None = None,
             rule_ids: Known | set[str] | None = None) -> LoadedProfile:
    """Validate plain data as a profile; raise ProfileError naming the first problem in file order."""
    doc = document or YamlDocument(data, source)
    if data is None:
        raise ProfileError("the profile is empty; write at least 'name:' and 'partners:'", Location(source))
    if not isinstance(data, dict):
        if isinstance(data, list):
            raise ProfileError("the profile is a list, not a mapping of fields; remove the '- ' before 'name:' so that "
                               "the fields start at the left margin", doc.location(()))
        what = "plain text" if isinstance(data, str) else f"the value {quoted(data)}"
        raise ProfileError(f"the profile is {what}, not a mapping of fields; write it as 'name: ...' and 'partners:' lines",
                           doc.location(()))
    try:
        profile = _validated(data)
    except ValidationError as exc:
        raise first_invalid(ProfileError, doc, exc, lambda err: _describe(err, data)) from None
    problems = reference_problems(profile, rule_ids)
    if problems:
        raise first_problem(ProfileError, doc, problems)
    return LoadedProfile(profile, source, document)
