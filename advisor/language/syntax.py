"""The rule language's syntax tree: conditions, templates, rules, derived facts and the RuleSet that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location
from ..profile.fieldtype import FieldType


@dataclass(frozen=True)
class Ref:
    """A value a condition or template reads.

    scope is "profile" (path from the profile root), "item" (path from the current
    item of `collection`), or "derived" (path = (name,), a derived fact).
    """

    scope: str
    path: tuple[str, ...]
    type: FieldType = field(compare=False)
    collection: tuple[str, ...] | None = None

    @property
    def text(self) -> str:
        prefix = {"profile": "", "item": "item.", "derived": "derived."}[self.scope]
        return prefix + ".".join(self.path)


@dataclass(frozen=True)
class All:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class Compare:
    ref: Ref
    op: str  # eq neq lt lte gt gte in not_in contains
    value: Any


@dataclass(frozen=True)
class Check:
    ref: Ref
    op: str  # exists missing empty non_empty


@dataclass(frozen=True)
class Count:
    ref: Ref
    op: str
    value: int


@dataclass(frozen=True)
class Quantifier:
    mode: str  # some every none
    ref: Ref  # the collection
    where: Any


@dataclass(frozen=True)
class Template:
    text: str
    parts: tuple[Any, ...]  # str literal or (Ref, fmt)


@dataclass(frozen=True)
class Proportion:
    """A case of a rule for some partnerships: when it holds too, the finding takes this severity (and this
    message, advice and extra refs where given), and `because` says why this partnership is treated so.

    A rule's `proportion` entries only lighten it; its `adapt` entries may also make it heavier or reword it
    (for a focus, say)."""

    when: Any
    severity: str
    because: str
    message: "Template | None" = None
    advice: "Template | None" = None
    refs: tuple[str, ...] = ()
    #: whether the entry gives its own severity; an `adapt` entry that does not is still lightened by `proportion`
    own_severity: bool = True


@dataclass(frozen=True)
class Rule:
    """One rule from a rule file, checked."""

    id: str
    kind: str
    severity: str
    title: str
    message: Template
    advice: Template
    refs: tuple[str, ...]
    when: Any
    for_each: tuple[str, ...] | None
    proportion: tuple[Proportion, ...]
    source: Location
    description: str | None = None
    #: fields whose blank makes a firing a question to settle rather than a finding
    ask: tuple[Ref, ...] = ()
    #: the problem (declared under `problems:`) this rule's findings are part of
    part_of: str | None = None
    #: the stage from which the step is due, when it differs from its main guide ref's
    due: str | None = None
    #: when a firing means harm is already happening: what the harm is, in words
    harm: str | None = None
    #: when other steps wait on this one: which, in words
    blocks: str | None = None
    #: cases that adapt the rule to a partnership (its focus, say): first match wins, before any proportion
    adapt: tuple[Proportion, ...] = ()


@dataclass(frozen=True)
class ProblemDef:
    """A problem several rules' findings are part of: one title, message and advice for a committee."""

    id: str
    title: str
    message: str
    advice: str
    source: Location


@dataclass(frozen=True)
class Ranking:
    """What ranks one problem above another, and how sure a question's answer must be at each stage."""

    severity: dict[str, int]
    kind: dict[str, int]
    harm: int
    blocks: int
    question_severity: dict[str, str]
    source: Location | None = None


@dataclass(frozen=True)
class Case:
    value: str
    when: Any


@dataclass(frozen=True)
class Derived:
    """A derived fact: computed from profile values, or decided by the engine from cases."""

    name: str
    description: str
    source: Location
    compute: tuple[str, tuple[Ref, ...]] | None = None
    for_each: tuple[str, ...] | None = None
    values: tuple[str, ...] = ()
    cases: tuple[Case, ...] = ()
    default: str | None = None
    refs: tuple[str, ...] = ()

    @property
    def type(self) -> FieldType:
        return FieldType("number") if self.compute else FieldType("enum", self.values)


@dataclass
class RuleSet:
    """Every rule and derived fact loaded, in load order, with where each came from."""

    rules: list[Rule] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: dict[str, ProblemDef] = field(default_factory=dict)
    ranking: Ranking | None = None

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> set[str]:
        return {rule.id for rule in self.rules}



def refs_of(node: Any) -> list[Ref]:
    """Every value a parsed condition reads, in the order written (the collections of quantifiers included)."""
    if isinstance(node, (All, AnyOf)):
        return [r for item in node.items for r in refs_of(item)]
    if isinstance(node, Not):
        return refs_of(node.item)
    if isinstance(node, Quantifier):
        return [node.ref, *refs_of(node.where)]
    return [node.ref]
