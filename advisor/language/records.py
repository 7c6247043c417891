"""The fields of rule-file records (rules, their proportion cases, derived facts and their cases) as pydantic models.

A record's conditions, templates and compute specification are a language and are parsed by
parser.py; every other field is checked here, by the same means as profiles, and a pydantic
error becomes a RuleError naming the file, line and column of the field, in the words the rule
language has always used (tests/bad_rules/expected.tsv holds them).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationError, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ..checking import first_invalid
from ..errors import RuleError, did_you_mean
from ..profile import schema
from ..vocabulary import KINDS, RULE_COLLECTIONS as COLLECTIONS, SEVERITIES, STAGES
from ..words import quoted as shown
from ..yamlio import YamlDocument as Document

RULE_ID = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
QUOTE_BOOLEANS = "; put yes/no/on/off in quotes ('yes'): YAML reads them as true/false"


def problem(message: str, at: tuple = ()) -> PydanticCustomError:
    """A validation error in the rule language's words; `at` leads from the field to the value at fault."""
    return PydanticCustomError("rule_file", "{message}", {"message": message, "at": at})


def choice_problem(key: str, value: Any, choices: tuple[str, ...] | list[str]) -> str | None:
    """Why value is not one of choices (None when it is)."""
    if isinstance(value, str) and value in choices:
        return None
    hint = did_you_mean(value, choices) if isinstance(value, str) else QUOTE_BOOLEANS if isinstance(value, bool) else ""
    return f"'{key}' is {shown(value)}; expected one of {', '.join(choices)}{hint}"


def collection_problem(value: Any) -> str | None:
    """Why value does not name a collection rules can go through (None when it does)."""
    if value in COLLECTIONS:
        return None
    return f"'{value}' is not a collection; expected one of {', '.join(COLLECTIONS)}{did_you_mean(value, COLLECTIONS)}"


# -- field types ------------------------------------------------------------------------


def _text(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem(f"'{info.field_name}' must be non-empty text")
    return value.strip()


def _kind(value: Any, info: ValidationInfo) -> str:
    return _choice(value, info.field_name, KINDS)


def _severity(value: Any, info: ValidationInfo) -> str:
    return _choice(value, info.field_name, SEVERITIES)


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    wrong = choice_problem(key, value, choices)
    if wrong:
        raise problem(wrong)
    return value


def _collection(value: Any) -> tuple[str, ...]:
    wrong = collection_problem(value)
    if wrong:
        raise problem(wrong)
    return tuple(value.split("."))


def _rule_id(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not RULE_ID.match(value):
        raise problem("'id' must look like 'area.short-name' (lower case, dots and dashes)")
    first = info.context["rule_ids"].get(value)
    if first is not None:
        where = f"line {first.line}" if first.source == info.context["source"] else str(first)
        raise problem(f"duplicate rule id (first at {where}); give this rule an id of its own")
    return value


def _derived_name(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise problem("'name' must be lower_case_with_underscores")
    first = info.context["derived"].get(value)
    if first is not None:
        raise problem(f"duplicate derived fact (first at {first.source}); give this one a name of its own")
    return value


def _ref_list(value: Any) -> list:
    if isinstance(value, (str, int, float)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise problem("'refs' must be a list of guide citation ids")
    return value


def _guide_ref(value: Any, info: ValidationInfo) -> str:
    ref = str(value)
    knowledge = info.context["knowledge"]
    if ref not in knowledge:
        raise problem(f"guide ref '{ref}' is not in the knowledge base{did_you_mean(ref, knowledge.sections)}")
    return ref


def _stage(value: Any, info: ValidationInfo) -> str:
    return _choice(value, info.field_name, STAGES)


def _paths(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise problem(f"'{info.field_name}' must be a list of field paths")
    return tuple(value)


def _problem_id(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not RULE_ID.match(value):
        raise problem("'id' must look like 'problem.short-name' (lower case, dots and dashes)")
    first = info.context["problems"].get(value)
    if first is not None:
        where = f"line {first.source.line}" if first.source.source == info.context["source"] else str(first.source)
        raise problem(f"duplicate problem id (first at {where}); give this problem an id of its own")
    return value


RuleId = Annotated[str, PlainValidator(_rule_id)]
Stage = Annotated[str | None, PlainValidator(_stage)]
Paths = Annotated[tuple[str, ...], PlainValidator(_paths)]
ProblemId = Annotated[str, PlainValidator(_problem_id)]
DerivedName = Annotated[str, PlainValidator(_derived_name)]
Text = Annotated[str, PlainValidator(_text)]
OptionalText = Annotated[str | None, PlainValidator(_text)]  # may be left out, but not left empty
Kind = Annotated[str, PlainValidator(_kind)]
Severity = Annotated[str, PlainValidator(_severity)]
Collection = Annotated[tuple[str, ...] | None, PlainValidator(_collection)]
GuideRefs = Annotated[tuple[Annotated[str, PlainValidator(_guide_ref)], ...], BeforeValidator(_ref_list)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# -- rules --------------------------------------------------------------------------------


def _lower_severity(value: Any, info: ValidationInfo) -> str:
    severity = _choice(value, info.field_name, SEVERITIES)
    rule_severity = info.context["rule_severity"]
    if SEVERITIES.index(severity) <= SEVERITIES.index(rule_severity):
        raise problem(f"proportion severity '{severity}' must be lower than the rule's '{rule_severity}'")
    return severity


class ProportionRecord(_Record):
    """One `proportion` entry of a rule: a lower severity when its condition holds too."""

    when: Any
    severity: Annotated[str, PlainValidator(_lower_severity)]
    because: Text


def _proportions(value: Any) -> Any:
    value = value or []  # 'proportion:' left empty means none
    if not isinstance(value, list):
        raise problem("'proportion' must be a list of {when, severity, because}")
    return value


def _adaptations(value: Any) -> Any:
    value = value or []
    if not isinstance(value, list):
        raise problem("'adapt' must be a list of {when, because} with a severity, message, advice or refs")
    return value


class AdaptRecord(_Record):
    """One `adapt` entry of a rule: when its condition holds too, the finding takes its severity (higher or lower),
    message, advice and extra refs, where given; `because` says why."""

    when: Any
    because: Text
    severity: Severity | None = None
    message: OptionalText = None
    advice: OptionalText = None
    refs: GuideRefs = ()

    @model_validator(mode="after")
    def _changes_something(self) -> AdaptRecord:
        if not self.model_fields_set & {"severity", "message", "advice", "refs"}:
            raise problem("an 'adapt' entry changes the severity, message, advice or refs; give at least one")
        return self


class RuleRecord(_Record):
    """A rule as written: `when` is a condition and `message`, `advice` are templates, for the parser;
    each `proportion` entry is a ProportionRecord of its own."""

    id: RuleId
    kind: Kind
    severity: Severity
    title: Text
    message: Text
    advice: Text
    refs: GuideRefs
    when: Any
    for_each: Collection = None
    proportion: Annotated[tuple[Any, ...], BeforeValidator(_proportions)] = ()
    adapt: Annotated[tuple[Any, ...], BeforeValidator(_adaptations)] = ()
    description: OptionalText = None
    ask: Paths = ()
    part_of: OptionalText = None
    due: Stage = None
    harm: OptionalText = None
    blocks: OptionalText = None


class ProblemRecord(_Record):
    """A problem several rules are `part_of`: what the committee reads instead of each rule's own words."""

    id: ProblemId
    title: Text
    message: Text
    advice: Text


def _weights(value: Any, info: ValidationInfo) -> dict[str, int]:
    keys = info.context["weights"][info.field_name]
    if not isinstance(value, dict):
        raise problem(f"'{info.field_name}' must be a mapping of {', '.join(keys)} to whole numbers")
    for key, weight in value.items():
        wrong = choice_problem(info.field_name, key, keys)
        if wrong:
            raise problem(wrong, (key,))
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise problem(f"the weight of '{key}' must be a whole number, 0 or more", (key,))
    missing = [k for k in keys if k not in value]
    if missing:
        raise problem(f"'{info.field_name}' has no weight for {', '.join(missing)}")
    return dict(value)


def _weight(value: Any, info: ValidationInfo) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise problem(f"'{info.field_name}' must be a whole number, 0 or more")
    return value


def _stage_severities(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise problem(f"'question_severity' must be a mapping of {', '.join(STAGES)} to a severity")
    for key, severity in value.items():
        wrong = choice_problem("question_severity", key, STAGES) or choice_problem(str(key), severity, SEVERITIES)
        if wrong:
            raise problem(wrong, (key,))
    missing = [k for k in STAGES if k not in value]
    if missing:
        raise problem(f"'question_severity' has no severity for {', '.join(missing)}")
    return dict(value)


Weights = Annotated[dict[str, int], PlainValidator(_weights)]
Weight = Annotated[int, PlainValidator(_weight)]


class RankingRecord(_Record):
    """How problems are ranked: points per severity and kind, for harm already happening and for blocking other
    steps; and the most severe a question to settle is at each stage."""

    severity: Weights
    kind: Weights
    harm: Weight
    blocks: Weight
    question_severity: Annotated[dict[str, str], PlainValidator(_stage_severities)]


# -- derived facts ------------------------------------------------------------------------


class DerivedRecord(_Record):
    """A derived fact as written: `compute` (for the parser), or `values` decided by `cases` (CaseRecords)."""

    name: DerivedName
    description: Text
    compute: Any = None
    for_each: Collection = None
    values: Any = None
    cases: Any = None
    default: Any = None
    refs: GuideRefs = ()

    @model_validator(mode="after")
    def _compute_or_cases(self) -> DerivedRecord:
        given = self.model_fields_set
        if ("compute" in given) == ("cases" in given):
            raise problem("give either 'compute' or 'cases' (with 'values')")
        if "compute" in given:
            for key in ("values", "default"):
                if key in given:
                    raise problem(f"'{key}' belongs to a derived fact with 'cases', not 'compute'", (key,))
            if self.for_each is not None and self.name in schema.lookup(self.for_each).fields:
                raise problem(f"'{self.name}' is already a field of {'.'.join(self.for_each)}", ("name",))
            return self
        if "for_each" in given:
            raise problem("'for_each' is only for computed derived facts", ("for_each",))
        values = self.values
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and NAME.match(v) for v in values):
            hint = QUOTE_BOOLEANS if isinstance(values, list) and any(isinstance(v, bool) for v in values) else ""
            raise problem(f"'values' must be a list of lower_case names{hint}", ("values",))
        if self.default is not None and self.default not in values:
            raise problem(f"default '{self.default}' is not one of its values: {', '.join(values)}", ("default",))
        if not isinstance(self.cases, list) or not self.cases:
            raise problem("'cases' must be a non-empty list of {value, when}", ("cases",))
        return self


def _value(value: Any, info: ValidationInfo) -> str:
    return _choice(value, info.field_name, info.context["values"])


class CaseRecord(_Record):
    """One case of a decided derived fact: its value when the condition holds."""

    value: Annotated[str, PlainValidator(_value)]
    when: Any


# -- errors -------------------------------------------------------------------------------

#: Which problem of a record is told first: not a mapping, then an unknown key (a misspelt key also
#: leaves a required key missing, and its "did you mean" says more), a missing key, a wrong value.
_RANK = {"model_type": 0, "extra_forbidden": 1, "invalid_key": 1, "missing": 2}


def validate(record: type[_Record], data: Any, doc: Document, path: tuple, what: str, **context: Any) -> Any:
    """data (found at path in doc) as the record, or a RuleError at the file, line and column of its first problem.

    The problems are told by rank (see _RANK), then in file order; the context is for the validators
    (the knowledge base, the ids and names met so far, ...).
    """
    try:
        return record.model_validate(data, context=context)
    except ValidationError as exc:
        raise first_invalid(RuleError, doc, exc, lambda err: f"{what}: {_message(record, err)}", at=path,
                            locate=_loc, rank=lambda err: _RANK.get(err["type"], 3), more=False, field=False) from None


def _loc(err: dict) -> tuple:
    """Where in the record the problem of a pydantic error is."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "invalid_key":  # a key that is not text: pydantic writes it as text, the document keeps its value
        return loc[:-1] + (err["input"],)
    if kind == "missing":
        return loc[:-1]  # told where the record starts
    if kind == "rule_file":
        return loc + tuple(err["ctx"]["at"])
    return loc


def _message(record: type[_Record], err: dict) -> str:
    kind = err["type"]
    if kind == "rule_file":
        return err["ctx"]["message"]
    if kind == "model_type":
        return "must be a mapping"
    if kind in ("extra_forbidden", "invalid_key"):
        key = _loc(err)[-1]
        return f"unknown key '{key}'{did_you_mean(key, record.model_fields)}"
    if kind == "missing":
        return f"missing required key '{err['loc'][-1]}'"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}"
