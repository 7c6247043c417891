"""knowledge/guide.yaml as written, checked with pydantic models: what each part may hold, and that the parts agree.

Only a knowledge base that is read and checked (not the one the rules cache keeps) needs this module: advisor.knowledge
turns what it checked into the plain records a run reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo,
                      model_validator)
from pydantic_core import PydanticCustomError

from . import yamlio
from .checking import TYPE_WORDS, first_invalid
from .errors import KnowledgeError, did_you_mean
from .profile.models import Activities
from .vocabulary import MARKER_AREAS, STAGES
from .words import Path, described, path_text, quoted

#: The profile `activities` flags a level may name as its evidence (docs/PROFILE.md).
ACTIVITY_FLAGS: tuple[str, ...] = tuple(Activities.model_fields)

# ---- values ---------------------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    """A mistake in the file, in words of its own (pydantic's own errors are put in words by _describe)."""
    return PydanticCustomError("knowledge", "{message}", {"message": message})


def _text(value: str) -> str:
    if not value.strip():
        raise _problem("must not be empty")
    return value


def _id_is_text(value: Any) -> Any:
    """A citation id must be written as text, so that 1.10 is not read as the number 1.1."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise _problem(f'id {value!r} must be text: quote it, e.g. "{value}"')
    return value


def _web_address(value: str) -> str:
    if value.startswith("<") or not value.startswith(("http://", "https://")):
        raise _problem(f"url '{value}' must start with http:// or https:// (no angle brackets)")
    return value


def _activity_flag(value: str) -> str:
    if value not in ACTIVITY_FLAGS:
        raise _problem(f"unknown activity '{value}'{did_you_mean(value, ACTIVITY_FLAGS)}")
    return value


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # a YAML list; the models keep tuples


Text = Annotated[str, AfterValidator(_text)]
GuideId = Annotated[str, BeforeValidator(_id_is_text), AfterValidator(_text)]
GuideIds = Annotated[tuple[GuideId, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
ActivityFlag = Annotated[str, AfterValidator(_activity_flag)]
ActivityFlags = Annotated[tuple[ActivityFlag, ...], BeforeValidator(_as_tuple), Field(min_length=1)]


#: A problem a model's own check found: where (inside the model checked), what is wrong, and the value.
_Found = tuple[Path, str, Any]


def _invalid(problems: list[_Found]) -> ValidationError:
    """Problems found by a model's own checks, each at its path inside the model being checked."""
    errors = [{"type": _problem(message), "loc": path, "input": value} for path, message, value in problems]
    return ValidationError.from_exception_data("knowledge base", errors)


# ---- the models -----------------------------------------------------------------------------------


class _Model(BaseModel):
    # The validators are built when a file is first checked: a run whose rules come from the rules cache
    # unpickles the knowledge base and never checks the file, so it need not pay for building them.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


class Guide(_Model):
    """The guide's bibliographic details."""

    title: Text
    publisher: Text
    date: Text
    subtitle: Text | None = None


class GuideSection(_Model):
    """One citation id of the guide: a numbered section or item, or an A/B/C marker or note."""

    id: GuideId
    title: Text
    text: Text
    parent: GuideId | None
    summary: Text
    area: Text
    actionable: bool
    not_actionable_reason: Text | None = None
    #: the stage from which the step is due (an actionable id only): what a partnership at an earlier
    #: stage is advised to do later rather than now
    due: Literal[STAGES] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GuideSection:
        if self.actionable and self.not_actionable_reason is not None:
            raise _invalid([(("not_actionable_reason",), "has a not_actionable_reason but is actionable",
                             self.not_actionable_reason)])
        if not self.actionable and self.not_actionable_reason is None:
            raise _invalid([(("actionable",), "not actionable, so give a not_actionable_reason", False)])
        if self.actionable and self.due is None:
            raise _invalid([(("actionable",), f"actionable, so say from which stage it is due: due: {' | '.join(STAGES)}",
                             True)])
        if not self.actionable and self.due is not None:
            raise _invalid([(("due",), "is not actionable, so it is never due", self.due)])
        return self


def _beyond_id(value: str) -> str:
    if not _BEYOND_ID.match(value):
        raise PydanticCustomError("knowledge", "'{value}' must look like law.short-name or practice.short-name",
                                  {"value": value})
    return value


_BEYOND_ID = re.compile(r"^(law|practice)\.[a-z0-9][a-z0-9-]*$")


class Reference(_Model):
    """A document the guide cites; `cited_by` names the id it supports when cited in the body."""

    url: Annotated[Text, AfterValidator(_web_address)]
    title: Text
    cited_by: GuideId | None = None


class GuideLevel(_Model):
    """A partnership level (9.1); each includes the levels below it, and any of its `activities` evidences the step up."""

    name: Text
    rank: int
    distinguishes: Text
    activities: ActivityFlags
    guide_refs: GuideIds


class Area(_Model):
    """An area of the guide (purpose, values, ...) and the ids it groups, in guide order."""

    name: Text
    title: Text
    ids: GuideIds


class BeyondGuide(_Model):
    """Advice beyond the guide: a law or a good practice that a partnership's focus calls for and the guide does not
    itself say. Rules may cite it like a guide id; reports label it as beyond the guide, never as the guide's words."""

    id: Annotated[Text, AfterValidator(_beyond_id)]
    kind: Literal["law", "practice"]
    title: Text
    text: Text
    url: Annotated[Text, AfterValidator(_web_address)] | None = None


class _GuideFile(_Model):
    """The knowledge file as written; its validator checks that the parts agree with one another."""

    guide: Guide
    sections: Annotated[list[GuideSection], Field(min_length=1)]
    references: Annotated[list[Reference], Field(min_length=1)]
    levels: Annotated[list[GuideLevel], Field(min_length=1)]
    areas: Annotated[list[Area], Field(min_length=1)]
    beyond: list[BeyondGuide] = []

    @model_validator(mode="after")
    def _parts_agree(self, info: ValidationInfo) -> _GuideFile:
        document = info.context.get("document") if isinstance(info.context, dict) else None
        problems = _cross_problems(self, _where(document))
        if problems:
            raise _invalid(problems)
        return self


# ---- checks across the parts ------------------------------------------------------------------------


def _where(document: yamlio.YamlDocument | None) -> Callable[[Path], str]:
    """How a message points at another place in the file: its line, or its path when there is no document."""
    if document is None:
        return path_text
    return lambda path: f"line {document.line(path)}"


def _unknown_id(sid: str, ids: Mapping[str, Any]) -> str:
    return f"unknown guide id '{sid}'{did_you_mean(sid, ids)}"


def _cross_problems(file: _GuideFile, where: Callable[[Path], str]) -> list[_Found]:
    first: dict[str, int] = {}  # id -> index of its first section
    for i, section in enumerate(file.sections):
        first.setdefault(section.id, i)
    area_names = [area.name for area in file.areas]
    return [
        *_area_name_problems(area_names),
        *_section_problems(file.sections, first, area_names, where),
        *_reference_problems(file.references, first, where),
        *_level_problems(file.levels, first),
        *_area_problems(file.areas, file.sections, first),
        *_beyond_problems(file.beyond, first),
    ]


def _beyond_problems(entries: list[BeyondGuide], guide_ids: dict[str, int]) -> Iterator[_Found]:
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if entry.id in seen or entry.id in guide_ids:
            yield ("beyond", i, "id"), "listed twice", entry.id
        seen.add(entry.id)


def _area_name_problems(names: list[str]) -> Iterator[_Found]:
    for i, name in enumerate(names):
        if name in MARKER_AREAS:
            yield ("areas", i, "name"), "is the area of the A/B/C markers", name
        elif name in names[:i]:
            yield ("areas", i, "name"), "listed twice", name


def _section_problems(sections: list[GuideSection], first: dict[str, int], area_names: list[str],
                      where: Callable[[Path], str]) -> Iterator[_Found]:
    allowed_areas = tuple(area_names) + MARKER_AREAS
    for i, section in enumerate(sections):
        path: Path = ("sections", i)
        if first[section.id] != i:
            yield path + ("id",), f"duplicate id (first at {where(('sections', first[section.id], 'id'))})", section.id
        parent = section.parent
        if parent is not None:
            if parent == section.id:
                yield path + ("parent",), "is its own parent", parent
            elif parent not in first:
                yield path + ("parent",), f"parent '{parent}' does not exist{did_you_mean(parent, first)}", parent
            elif first[parent] > i:
                where_parent = where(("sections", first[parent], "id"))
                yield path + ("parent",), f"parent '{parent}' ({where_parent}) must come before its children", parent
        if section.area not in allowed_areas:
            yield (path + ("area",), f"unknown area '{section.area}'{did_you_mean(section.area, allowed_areas)}",
                   section.area)


def _reference_problems(references: list[Reference], ids: dict[str, int], where: Callable[[Path], str]
                        ) -> Iterator[_Found]:
    seen: dict[str, int] = {}
    for i, reference in enumerate(references):
        path: Path = ("references", i)
        if reference.url in seen:
            first_at = where(("references", seen[reference.url], "url"))
            yield path + ("url",), f"url '{reference.url}' is listed twice (first at {first_at})", reference.url
        seen.setdefault(reference.url, i)
        if reference.cited_by is not None and reference.cited_by not in ids:
            yield path + ("cited_by",), _unknown_id(reference.cited_by, ids), reference.cited_by


def _level_problems(levels: list[GuideLevel], ids: dict[str, int]) -> Iterator[_Found]:
    for i, level in enumerate(levels):
        path: Path = ("levels", i)
        if any(earlier.name == level.name for earlier in levels[:i]):
            yield path + ("name",), "listed twice", level.name
        if level.rank != i + 1:
            yield path + ("rank",), f"rank must be {i + 1} (levels are listed in rank order)", level.rank
        for j, ref in enumerate(level.guide_refs):
            if ref not in ids:
                yield path + ("guide_refs", j), _unknown_id(ref, ids), ref


def _area_problems(areas: list[Area], sections: list[GuideSection], ids: dict[str, int]) -> Iterator[_Found]:
    listed: dict[str, str] = {}  # id -> the area that lists it
    for i, area in enumerate(areas):
        for j, sid in enumerate(area.ids):
            path: Path = ("areas", i, "ids", j)
            if sid not in ids:
                yield path, _unknown_id(sid, ids), sid
            elif sid in listed:
                yield path, f"id '{sid}' is already listed in area '{listed[sid]}'", sid
            elif sections[ids[sid]].area != area.name:
                yield path, f"section '{sid}' has area '{sections[ids[sid]].area}'", sid
            else:
                listed[sid] = area.name
    names = {area.name for area in areas}
    for i, section in enumerate(sections):
        if section.area in names and section.id not in listed:
            yield ("sections", i, "area"), f"area '{section.area}' does not list it under areas", section.area


def check(doc: yamlio.YamlDocument) -> _GuideFile:
    """The file's parts, checked; KnowledgeError naming file, line, column and field for the first mistake."""
    try:
        return _GuideFile.model_validate(doc.data, context={"document": doc})
    except ValidationError as exc:
        raise first_invalid(KnowledgeError, doc, exc, lambda err: _describe(err, doc.data)) from None


# ---- errors in words ------------------------------------------------------------------------------

#: The model of an item of each part of the file, for the keys it allows.
_PART_MODELS: dict[str, type[BaseModel]] = {
    "guide": Guide, "sections": GuideSection, "references": Reference, "levels": GuideLevel, "areas": Area,
    "beyond": BeyondGuide,
}
#: How a message names an item of a part: its noun and the key that names it.
_ITEM_NAMES = {"sections": ("section", "id"), "levels": ("level", "name"), "areas": ("area", "name")}


def _describe(err: dict[str, Any], data: Any) -> str:
    """One of pydantic's errors in the words of the knowledge file, led by the section, level or area it is in."""
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    if kind == "knowledge":
        what = err["ctx"]["message"]
    elif kind == "extra_forbidden":
        keys = tuple((_PART_MODELS[loc[0]] if len(loc) > 1 else _GuideFile).model_fields)
        hint = did_you_mean(str(loc[-1]), keys) or f"; expected one of: {', '.join(keys)}"
        what = f"unknown key {quoted(loc[-1])}{hint}"
    elif kind == "missing":
        what = f"missing required key {quoted(loc[-1])}"
    elif kind == "too_short":
        what = "must not be empty"
    elif kind in TYPE_WORDS:
        what = f"expected {TYPE_WORDS[kind]}, got {described(value)}"
    else:
        what = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {described(value)})"
    return _item_named(loc, data) + what


def _item_named(loc: Path, data: Any) -> str:
    """`section '1.1': ` for a problem inside a section (or level, or area), by the id written in the file."""
    if len(loc) < 2 or loc[0] not in _ITEM_NAMES or not isinstance(loc[1], int):
        return ""
    noun, key = _ITEM_NAMES[loc[0]]
    item = data[loc[0]][loc[1]]
    name = item.get(key) if isinstance(item, dict) else None
    return f"{noun} {quoted(name)}: " if isinstance(name, str) else f"{noun} #{loc[1] + 1}: "
