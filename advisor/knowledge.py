"""The guide as data (sections, references, partnership levels, areas), checked and loaded from knowledge/guide.yaml."""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from . import yamlio
from .errors import KnowledgeError, did_you_mean
from .resources import data_dir

if TYPE_CHECKING:
    import pathlib

#: The file inside the knowledge directory that holds the guide.
KNOWLEDGE_FILE = "guide.yaml"


# ---- the guide's parts, as a run reads them --------------------------------------------------------
# Plain records: the knowledge base the rules cache keeps unpickles into these, so that a run imports none of the
# pydantic models that check the file (advisor.guide_file), nor the pydantic machinery they need.


@dataclass(frozen=True)
class Guide:
    """The guide's bibliographic details."""

    title: str
    publisher: str
    date: str
    subtitle: str | None = None


@dataclass(frozen=True)
class GuideSection:
    """One citation id of the guide: a numbered section or item, or an A/B/C marker or note."""

    id: str
    title: str
    text: str
    parent: str | None
    summary: str
    area: str
    actionable: bool
    not_actionable_reason: str | None = None
    #: the stage from which the step is due (an actionable id only): what a partnership at an earlier
    #: stage is advised to do later rather than now
    due: str | None = None


@dataclass(frozen=True)
class Reference:
    """A document the guide cites; `cited_by` names the id it supports when cited in the body."""

    url: str
    title: str
    cited_by: str | None = None


@dataclass(frozen=True)
class GuideLevel:
    """A partnership level (9.1); each includes the levels below it, and any of its `activities` evidences the step up."""

    name: str
    rank: int
    distinguishes: str
    activities: tuple[str, ...]
    guide_refs: tuple[str, ...]


@dataclass(frozen=True)
class Area:
    """An area of the guide (purpose, values, ...) and the ids it groups, in guide order."""

    name: str
    title: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class BeyondGuide:
    """Advice beyond the guide: a law or a good practice that a partnership's focus calls for and the guide does not
    itself say. Rules may cite it like a guide id; reports label it as beyond the guide, never as the guide's words."""

    id: str
    kind: str
    title: str
    text: str
    url: str | None = None


# ---- the knowledge base ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """The whole guide: sections in guide order, references, levels in rank order and areas."""

    guide: Guide
    sections: Mapping[str, GuideSection]
    references: tuple[Reference, ...]
    levels: tuple[GuideLevel, ...]
    areas: tuple[Area, ...]
    source: str = ""
    #: advice beyond the guide (laws, good practice), by id
    beyond: Mapping[str, BeyondGuide] = field(default_factory=dict)
    _order: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _level_ranks: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))
        object.__setattr__(self, "beyond", MappingProxyType(dict(self.beyond)))
        object.__setattr__(self, "_order", MappingProxyType({sid: i for i, sid in enumerate(self.sections)}))
        object.__setattr__(self, "_level_ranks", MappingProxyType({lv.name: lv.rank for lv in self.levels}))

    def __reduce__(self):  # read-only mappings do not pickle; rebuild them (the rules cache pickles this)
        return (KnowledgeBase, (self.guide, dict(self.sections), self.references, self.levels, self.areas, self.source,
                                dict(self.beyond)))

    def __contains__(self, section_id: object) -> bool:
        """Whether a rule may cite this id: a section of the guide, or advice beyond it."""
        return section_id in self.sections or section_id in self.beyond

    def __iter__(self) -> Iterator[GuideSection]:
        return iter(self.sections.values())

    def __len__(self) -> int:
        return len(self.sections)

    def get(self, section_id: str) -> GuideSection | BeyondGuide | None:
        """The section with this id (or the advice beyond the guide), or None when there is none."""
        return self.sections.get(section_id) or self.beyond.get(section_id)

    def is_beyond(self, ref: str) -> bool:
        """Whether an id names advice beyond the guide (a law, good practice) rather than the guide itself."""
        return ref in self.beyond

    def order(self, section_id: str) -> int:
        """The position of an id in the guide, for sorting in guide order; advice beyond it and unknown ids sort last."""
        return self._order.get(section_id, len(self._order))

    def actionable_ids(self) -> tuple[str, ...]:
        """The ids a profile can show done or not done, in guide order."""
        return tuple(sid for sid, section in self.sections.items() if section.actionable)

    def level(self, name: str) -> GuideLevel:
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
    import pathlib

    if path is None:
        return pathlib.Path(_knowledge_path(None))
    target = pathlib.Path(path)
    if target.is_dir():
        target = target / KNOWLEDGE_FILE
    return pathlib.Path(os.path.abspath(target))


def _knowledge_path(path: str | os.PathLike[str] | None) -> str:
    """knowledge_file(path) as a string; for the shipped file (a start's), without pathlib."""
    if path is not None:
        return str(knowledge_file(path))
    target = data_dir("knowledge")
    try:
        folder = stat.S_ISDIR(os.stat(target).st_mode)
    except OSError as exc:  # as Path.is_dir() answers
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        folder = False
    if folder:
        target = os.path.join(target, KNOWLEDGE_FILE)
    return os.path.abspath(target)


def load_knowledge(path: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load and check the knowledge base (the shipped one by default); loaded once per path.

    Raises KnowledgeError naming file, line, column and field when the file is missing or inconsistent.
    """
    file = _knowledge_path(path)
    return _adopted.get(file) or _load(file)


#: Knowledge bases loaded and checked before, by file (as a string), that need not be read again: the one the rules
#: cache holds (advisor.rulebook), which came from the same bytes, since the knowledge file is part of the cache's
#: key. Without it the first report of a command read and checked guide.yaml again (~75% of writing the report).
_adopted: dict[str, KnowledgeBase] = {}


def adopt(file: str | os.PathLike[str], knowledge: KnowledgeBase) -> None:
    """Let load_knowledge() return this knowledge base, read and checked from `file` before (by the rules cache)."""
    _adopted[os.fspath(file)] = knowledge


@functools.lru_cache(maxsize=8)
def _load(file: str) -> KnowledgeBase:
    doc = yamlio.load_file(file, str(file), error=KnowledgeError)
    if doc.data is None:
        raise KnowledgeError("the knowledge file is empty", doc.location(()))
    # The pydantic models that check the file: only when it is read.
    from .guide_file import check

    checked = check(doc)
    sections = {section.id: GuideSection(**vars(section)) for section in checked.sections}
    order = {sid: n for n, sid in enumerate(sections)}
    areas = tuple(Area(area.name, area.title, tuple(sorted(area.ids, key=order.__getitem__))) for area in checked.areas)
    return KnowledgeBase(Guide(**vars(checked.guide)), sections, tuple(Reference(**vars(ref)) for ref in checked.references),
                         tuple(GuideLevel(**vars(level)) for level in checked.levels), areas, doc.source,
                         {entry.id: BeyondGuide(**vars(entry)) for entry in checked.beyond})
