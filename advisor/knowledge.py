"""The guide as data: its sections, references, partnership levels and areas, loaded from knowledge/guide.yaml."""

from __future__ import annotations

import functools
import os
import pathlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from . import yamlio
from .errors import KnowledgeError, did_you_mean
from .resources import data_path

#: The file inside the knowledge directory that holds the guide.
KNOWLEDGE_FILE = "guide.yaml"

#: Areas of the success (A) and failure (B, C) markers; they have no entry under `areas:`.
MARKER_AREAS = ("success", "failure")

#: The profile `activities` flags a level may name as its evidence (SPEC section 3).
ACTIVITY_FLAGS = frozenset(
    {"joint_planning", "mutual_consultation", "information_sharing", "common_messages", "shared_resources"}
)

_TOP_KEYS = ("guide", "sections", "references", "levels", "areas")
_GUIDE_KEYS = ("title", "publisher", "date")
_GUIDE_OPTIONAL = ("subtitle",)
_SECTION_KEYS = ("id", "title", "text", "parent", "summary", "area", "actionable")
_SECTION_OPTIONAL = ("not_actionable_reason",)
_REFERENCE_KEYS = ("url", "title")
_REFERENCE_OPTIONAL = ("cited_by",)
_LEVEL_KEYS = ("name", "rank", "distinguishes", "activities", "guide_refs")
_AREA_KEYS = ("name", "title", "ids")


@dataclass(frozen=True, slots=True)
class Guide:
    """The guide's bibliographic details."""

    title: str
    publisher: str
    date: str
    subtitle: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One citation id of the guide: a numbered section or item, or an A/B/C marker or note."""

    id: str
    title: str
    text: str
    parent: str | None
    summary: str
    area: str
    actionable: bool
    not_actionable_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A document the guide cites; `cited_by` names the id it supports when cited in the body."""

    url: str
    title: str
    cited_by: str | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """A partnership level (9.1); each includes the levels below it, and any of its `activities` evidences the step up."""

    name: str
    rank: int
    distinguishes: str
    activities: tuple[str, ...]
    guide_refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Area:
    """An area of the guide (purpose, values, ...) and the ids it groups, in guide order."""

    name: str
    title: str
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """The whole guide: sections in guide order, references, levels in rank order and areas."""

    guide: Guide
    sections: Mapping[str, Section]
    references: tuple[Reference, ...]
    levels: tuple[Level, ...]
    areas: tuple[Area, ...]
    source: str = ""
    _order: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _level_ranks: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))
        object.__setattr__(self, "_order", MappingProxyType({sid: i for i, sid in enumerate(self.sections)}))
        object.__setattr__(self, "_level_ranks", MappingProxyType({lv.name: lv.rank for lv in self.levels}))

    def __reduce__(self):  # read-only mappings do not pickle; rebuild them (the rules cache pickles this)
        return (KnowledgeBase, (self.guide, dict(self.sections), self.references, self.levels, self.areas, self.source))

    def __contains__(self, section_id: object) -> bool:
        return section_id in self.sections

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections.values())

    def __len__(self) -> int:
        return len(self.sections)

    def get(self, section_id: str) -> Section | None:
        """The section with this id, or None when the guide has no such id."""
        return self.sections.get(section_id)

    def order(self, section_id: str) -> int:
        """The position of an id in the guide, for sorting in guide order; unknown ids sort last."""
        return self._order.get(section_id, len(self._order))

    def actionable_ids(self) -> tuple[str, ...]:
        """The ids a profile can show done or not done, in guide order."""
        return tuple(sid for sid, section in self.sections.items() if section.actionable)

    def level(self, name: str) -> Level:
        """The level called `name`; KeyError when there is none."""
        return self.levels[self.level_rank(name) - 1]

    def level_rank(self, name: str) -> int:
        """The rank of a level (communication 1 ... collaboration 4); KeyError for an unknown name."""
        try:
            return self._level_ranks[name]
        except KeyError:
            raise KeyError(f"unknown partnership level {name!r}{did_you_mean(name, self._level_ranks)}") from None

    def area(self, name: str) -> Area | None:
        """The area called `name`, or None."""
        return next((a for a in self.areas if a.name == name), None)

    def area_of(self, section_id: str) -> str | None:
        """The area an id belongs to (an area name, or 'success'/'failure' for the markers); None when unknown."""
        section = self.sections.get(section_id)
        return section.area if section else None


def knowledge_file(path: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """The knowledge file for `path`: a file as given, guide.yaml inside a directory, or the shipped one."""
    target = pathlib.Path(path) if path is not None else data_path("knowledge")
    if target.is_dir():
        target = target / KNOWLEDGE_FILE
    return pathlib.Path(os.path.abspath(target))


def load_knowledge(path: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load and check the knowledge base (the shipped one by default); loaded once per path.

    Raises KnowledgeError naming file, line and id when the file is missing or inconsistent.
    """
    return _load(knowledge_file(path))


@functools.lru_cache(maxsize=8)
def _load(file: pathlib.Path) -> KnowledgeBase:
    source = str(file)
    doc = yamlio.load_file(file, source, error=KnowledgeError)
    return _Checker(doc).knowledge_base()


_Where = tuple  # a path into the YAML document: mapping keys and list indices


def _dotted(path: _Where) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(type(value), type(value).__name__)


class _Checker:
    """Turns the parsed document into a KnowledgeBase, raising KnowledgeError at the first mistake."""

    def __init__(self, doc: yamlio.YamlDocument):
        self.doc = doc

    def fail(self, path: _Where, message: str) -> KnowledgeError:
        return KnowledgeError(message, self.doc.location(path), _dotted(path) or None)

    def mapping(self, value: Any, path: _Where, required: tuple[str, ...], optional: tuple[str, ...] = (), what: str = "") -> dict:
        prefix = f"{what}: " if what else ""
        if not isinstance(value, dict):
            raise self.fail(path, f"{prefix}expected a mapping, got {_kind(value)}")
        allowed = required + optional
        for key in value:
            if key not in allowed:
                raise self.fail(path + (key,), f"{prefix}unknown key '{key}'{did_you_mean(str(key), allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"{prefix}missing required key '{key}'")
        return value

    def items(self, value: Any, path: _Where) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_kind(value)}")
        if not value:
            raise self.fail(path, "must not be empty")
        return value

    def text(self, value: Any, path: _Where, what: str = "") -> str:
        prefix = f"{what}: " if what else ""
        if not isinstance(value, str):
            raise self.fail(path, f"{prefix}expected text, got {_kind(value)}")
        if not value.strip():
            raise self.fail(path, f"{prefix}must not be empty")
        return value

    def ident(self, value: Any, path: _Where, what: str = "") -> str:
        """A citation id: must be a string so that 1.10 is not read as the number 1.1."""
        prefix = f"{what}: " if what else ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise self.fail(path, f"{prefix}id {value!r} must be text: quote it, e.g. \"{value}\"")
        return self.text(value, path, what)

    def ref(self, value: Any, path: _Where, known: Mapping[str, Any], what: str = "") -> str:
        sid = self.ident(value, path, what)
        if sid not in known:
            prefix = f"{what}: " if what else ""
            raise self.fail(path, f"{prefix}unknown guide id '{sid}'{did_you_mean(sid, known)}")
        return sid

    # ---- the document -------------------------------------------------------------------------

    def knowledge_base(self) -> KnowledgeBase:
        data = self.doc.data
        if data is None:
            raise self.fail((), "the knowledge file is empty")
        top = self.mapping(data, (), _TOP_KEYS)
        guide = self.guide(top["guide"])
        area_names = self.area_names(top["areas"])
        sections = self.sections(top["sections"], area_names)
        references = self.references(top["references"], sections)
        levels = self.levels(top["levels"], sections)
        areas = self.areas(top["areas"], sections)
        return KnowledgeBase(guide, sections, references, levels, areas, source=self.doc.source)

    def guide(self, value: Any) -> Guide:
        path: _Where = ("guide",)
        raw = self.mapping(value, path, _GUIDE_KEYS, _GUIDE_OPTIONAL)
        fields = {key: self.text(raw[key], path + (key,)) for key in raw}
        return Guide(**fields)

    def area_names(self, value: Any) -> list[str]:
        """The area names, checked first because every section names one."""
        names: list[str] = []
        for i, raw in enumerate(self.items(value, ("areas",))):
            path: _Where = ("areas", i)
            raw = self.mapping(raw, path, _AREA_KEYS)
            name = self.text(raw["name"], path + ("name",))
            if name in names or name in MARKER_AREAS:
                why = "is the area of the A/B/C markers" if name in MARKER_AREAS else "is listed twice"
                raise self.fail(path + ("name",), f"area '{name}' {why}")
            names.append(name)
        return names

    def sections(self, value: Any, area_names: list[str]) -> dict[str, Section]:
        raws = self.items(value, ("sections",))
        first_line: dict[str, int | None] = {}
        # pass 1: ids, so that a parent given later can be told apart from one that does not exist
        for i, raw in enumerate(raws):
            path: _Where = ("sections", i)
            known_id = raw.get("id") if isinstance(raw, dict) else None
            what = f"section '{known_id}'" if isinstance(known_id, str) else f"section #{i + 1}"
            raw = self.mapping(raw, path, _SECTION_KEYS, _SECTION_OPTIONAL, what)
            sid = self.ident(raw["id"], path + ("id",), what)
            if sid in first_line:
                raise self.fail(path + ("id",), f"section '{sid}': duplicate id (first at line {first_line[sid]})")
            first_line[sid] = self.doc.line(path + ("id",))
        sections: dict[str, Section] = {}
        allowed_areas = tuple(area_names) + MARKER_AREAS
        for i, raw in enumerate(raws):
            path = ("sections", i)
            sid = raw["id"]
            what = f"section '{sid}'"
            parent = raw["parent"]
            if parent is not None:
                parent = self.ident(parent, path + ("parent",), what)
                if parent == sid:
                    raise self.fail(path + ("parent",), f"{what}: is its own parent")
                if parent not in first_line:
                    raise self.fail(
                        path + ("parent",), f"{what}: parent '{parent}' does not exist{did_you_mean(parent, first_line)}"
                    )
                if parent not in sections:
                    raise self.fail(
                        path + ("parent",),
                        f"{what}: parent '{parent}' (line {first_line[parent]}) must come before its children",
                    )
            area = self.text(raw["area"], path + ("area",), what)
            if area not in allowed_areas:
                raise self.fail(path + ("area",), f"{what}: unknown area '{area}'{did_you_mean(area, allowed_areas)}")
            actionable = raw["actionable"]
            if not isinstance(actionable, bool):
                raise self.fail(path + ("actionable",), f"{what}: expected true or false, got {_kind(actionable)}")
            reason = raw.get("not_actionable_reason")
            if actionable and reason is not None:
                raise self.fail(path + ("not_actionable_reason",), f"{what}: has a not_actionable_reason but is actionable")
            if not actionable:
                if reason is None:
                    raise self.fail(path + ("actionable",), f"{what}: not actionable, so give a not_actionable_reason")
                reason = self.text(reason, path + ("not_actionable_reason",), what)
            sections[sid] = Section(
                id=sid,
                title=self.text(raw["title"], path + ("title",), what),
                text=self.text(raw["text"], path + ("text",), what),
                parent=parent,
                summary=self.text(raw["summary"], path + ("summary",), what),
                area=area,
                actionable=actionable,
                not_actionable_reason=reason,
            )
        return sections

    def references(self, value: Any, sections: Mapping[str, Section]) -> tuple[Reference, ...]:
        refs: list[Reference] = []
        seen: dict[str, int | None] = {}
        for i, raw in enumerate(self.items(value, ("references",))):
            path: _Where = ("references", i)
            raw = self.mapping(raw, path, _REFERENCE_KEYS, _REFERENCE_OPTIONAL)
            url = self.text(raw["url"], path + ("url",))
            if url.startswith("<") or not url.startswith(("http://", "https://")):
                raise self.fail(path + ("url",), f"url '{url}' must start with http:// or https:// (no angle brackets)")
            if url in seen:
                raise self.fail(path + ("url",), f"url '{url}' is listed twice (first at line {seen[url]})")
            seen[url] = self.doc.line(path + ("url",))
            cited_by = raw.get("cited_by")
            if cited_by is not None:
                cited_by = self.ref(cited_by, path + ("cited_by",), sections)
            refs.append(Reference(url, self.text(raw["title"], path + ("title",)), cited_by))
        return tuple(refs)

    def levels(self, value: Any, sections: Mapping[str, Section]) -> tuple[Level, ...]:
        levels: list[Level] = []
        for i, raw in enumerate(self.items(value, ("levels",))):
            path: _Where = ("levels", i)
            raw = self.mapping(raw, path, _LEVEL_KEYS)
            name = self.text(raw["name"], path + ("name",))
            what = f"level '{name}'"
            if any(lv.name == name for lv in levels):
                raise self.fail(path + ("name",), f"{what}: listed twice")
            rank = raw["rank"]
            if rank != i + 1 or isinstance(rank, bool):
                raise self.fail(path + ("rank",), f"{what}: rank must be {i + 1} (levels are listed in rank order)")
            activities = []
            for j, flag in enumerate(self.items(raw["activities"], path + ("activities",))):
                flag = self.text(flag, path + ("activities", j), what)
                if flag not in ACTIVITY_FLAGS:
                    raise self.fail(
                        path + ("activities", j), f"{what}: unknown activity '{flag}'{did_you_mean(flag, ACTIVITY_FLAGS)}"
                    )
                activities.append(flag)
            refs = tuple(
                self.ref(r, path + ("guide_refs", j), sections, what)
                for j, r in enumerate(self.items(raw["guide_refs"], path + ("guide_refs",)))
            )
            levels.append(
                Level(name, rank, self.text(raw["distinguishes"], path + ("distinguishes",), what), tuple(activities), refs)
            )
        return tuple(levels)

    def areas(self, value: Any, sections: Mapping[str, Section]) -> tuple[Area, ...]:
        areas: list[Area] = []
        listed: dict[str, str] = {}
        order = {sid: n for n, sid in enumerate(sections)}
        for i, raw in enumerate(value):
            path: _Where = ("areas", i)
            name = raw["name"]
            what = f"area '{name}'"
            ids = []
            for j, sid in enumerate(self.items(raw["ids"], path + ("ids",))):
                sid = self.ref(sid, path + ("ids", j), sections, what)
                if sid in listed:
                    raise self.fail(path + ("ids", j), f"{what}: id '{sid}' is already listed in area '{listed[sid]}'")
                if sections[sid].area != name:
                    raise self.fail(path + ("ids", j), f"{what}: section '{sid}' has area '{sections[sid].area}'")
                listed[sid] = name
                ids.append(sid)
            ids.sort(key=order.__getitem__)
            areas.append(Area(name, self.text(raw["title"], path + ("title",), what), tuple(ids)))
        for i, section in enumerate(sections.values()):
            if section.area not in MARKER_AREAS and section.id not in listed:
                raise self.fail(
                    ("sections", i, "area"),
                    f"section '{section.id}': area '{section.area}' does not list it under areas",
                )
        return tuple(areas)
