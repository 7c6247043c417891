"""From findings to advice: findings that share a cause or a remedy are one problem, and problems are ranked by
consequence, each saying why it ranks where it does.

What groups (a rule's `part_of`), what a problem says (`problems:` in the rule files) and what ranks
it (`ranking:`, a rule's `harm:` and `blocks:`) are declared in the rule files; this module only
applies them, the same way for every profile and both engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable

from ..language.syntax import ProblemDef, Ranking, Rule
from ..vocabulary import ACTION_KINDS, KIND_ORDER, KIND_WORDS, PENALTY, SEVERITY_ORDER, STAGES, leaves_step_open
from .findings import Evidence, Finding

#: The ranking when no rule file declares one (rules loaded without the shipped ones): severity alone.
NEUTRAL = Ranking(severity={"high": 3, "medium": 2, "low": 1, "info": 0}, kind={k: 0 for k in (*ACTION_KINDS, "structure")},
                  harm=0, blocks=0, question_severity={stage: "high" for stage in STAGES})


@dataclass(frozen=True)
class Problem:
    """One thing for the committee to act on: the findings it is made of, told once, with its rank and why."""

    rank: int
    id: str
    title: str
    kind: str
    severity: str
    guide_refs: tuple[str, ...]
    message: str
    advice: str
    why: str
    findings: tuple[Finding, ...]
    evidence: tuple[Evidence, ...]
    owner: str | None = None
    points: int = field(default=0, compare=False)
    #: advice beyond the guide its findings cite (laws, good practice), labelled so wherever it is shown
    beyond_refs: tuple[str, ...] = ()

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.subject for f in self.findings if f.subject))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "severity": self.severity,
            "guide_refs": list(self.guide_refs),
            "message": self.message,
            "advice": self.advice,
            "why": self.why,
            "owner": self.owner,
            "findings": [{"rule": f.rule, "subject": f.subject} for f in self.findings],
            "evidence": [e.to_dict() for e in self.evidence],
            **({"beyond_guide": list(self.beyond_refs)} if self.beyond_refs else {}),
        }


@dataclass(frozen=True)
class Advice:
    """What a rulebook says about grouping and ranking, bound to one profile's owners (who looks after a risk or
    a goal) so that a problem can name who owns it where the profile says."""

    rules: dict[str, Rule]
    problems: dict[str, ProblemDef]
    ranking: Ranking
    owner_of: Callable[[Finding], str | None] = lambda finding: None
    #: the guide's actionable steps due at the partnership's stage (those that apply)
    steps_due: tuple[str, ...] = ()
    #: what grouping and ranking worked out, shared by the profiles of one rulebook (an Evaluator's): each rule
    #: id's group (by rule id), what follows from a group's rules, kinds and severities alone (Advice._static, by
    #: the group's signature) and the steps an engine Hit leaves open (readiness, by the Hit's id, kept with it)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def plan(self, findings: tuple[Finding, ...]) -> tuple[Problem, ...]:
        """The problems the findings (other than strengths and questions) make, most pressing first."""
        groups: dict[str, list[Finding]] = {}
        memo = self.memo
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        for f in findings:
            if f.kind in _GROUPED:
                key = memo.get(f.rule)
                if key is None:
                    rule = self.rules.get(f.rule)
                    key = memo[f.rule] = rule.part_of if rule is not None and rule.part_of else f.rule
                group = groups.get(key)
                if group is None:
                    groups[key] = [f]
                else:
                    group.append(f)
        made = [self._problem(key, group) for key, group in groups.items()]
        made.sort()  # by points, place in the guide and id: no two problems have the same id
        for rank, (_, problem) in enumerate(made, 1):  # made here and seen by nobody yet: ranked in place
            problem.__dict__["rank"] = rank
        return tuple(problem for _, problem in made)

    def _problem(self, key: str, group: list[Finding]) -> tuple[tuple, Problem]:
        """A group's problem, after what ranks it."""
        # What follows from the rules, kinds and severities of a group alone is worked out once for all profiles.
        sig = (key, *map(_SIGNATURE, group))
        try:
            static = self.memo.get(sig)
            if static is None:
                static = self.memo[sig] = self._static(key, group)
        except TypeError:  # findings made by hand with lists for refs: nothing to share
            static = self._static(key, group)
        at, kind, points, why, refs, beyond, definition, order = static
        worst = group[at]
        if len(group) == 1:
            subject = worst.subject
            subjects: tuple[str, ...] = (subject,) if subject else ()
        else:
            subjects = tuple(dict.fromkeys(filter(None, map(_SUBJECT, group))))
        if definition is not None:
            title, message, advice, names = definition
            if names:
                listed, count = _listed(subjects), str(len(subjects))
                title, message, advice = _fill(title, listed, count), _fill(message, listed, count), _fill(advice, listed, count)
            if len(group) == 1:  # one finding says it with its own figures ("15% of the budget is committed")
                message = worst.message
            if worst.adapted:  # advice written for this partnership (its focus) says more than the problem's
                advice = worst.advice
        elif len(group) == 1:
            title, message, advice = worst.title, worst.message, worst.advice
        else:
            title, message = worst.title, f"{worst.title}: {', '.join(subjects)}." if subjects else worst.message
            advice = worst.advice
        owner_of = self.owner_of
        if len(group) == 1:
            owner = owner_of(worst) or None
        else:
            owners = tuple(dict.fromkeys(filter(None, map(owner_of, group))))
            owner = ", ".join(owners) if owners else None
        problem = _new(Problem)
        problem.__dict__.update(
            rank=0, id=key, title=title, kind=kind, severity=worst.severity, guide_refs=refs, message=message,
            advice=advice, why=why, findings=tuple(group), evidence=_union(group), owner=owner, points=points,
            beyond_refs=beyond)
        return (-points, order, key), problem

    def _static(self, key: str, group: list[Finding]) -> tuple:
        """What a group's problem takes from its findings' rules, kinds and severities: the worst finding's
        place in the group, the problem's kind, points and why, its guide refs, its definition's texts, and its
        place in the guide."""
        if len(group) == 1:
            worst = group[0]
            kind = worst.kind
        else:
            worst = min(group, key=lambda f: (SEVERITY_ORDER[f.severity], KIND_ORDER[f.kind]))
            kind = min((f.kind for f in group), key=KIND_ORDER.__getitem__)
        known = self.rules
        rules = [known[f.rule] for f in group if f.rule in known]
        harm = next((r.harm for r in rules if r.harm), None)
        blocks = next((r.blocks for r in rules if r.blocks), None)
        ranking = self.ranking
        points = ranking.severity[worst.severity] + ranking.kind.get(kind, 0)
        points += ranking.harm if harm else 0
        points += ranking.blocks if blocks else 0
        reasons = [f"a {worst.severity} {KIND_WORDS[kind][0]}"]
        if harm:
            reasons.append(f"it is already doing harm: {harm}")
        if blocks:
            reasons.append(f"other steps wait on it: {blocks}")
        d = self.problems.get(key)
        # a definition's texts, and whether any has a {subjects} or {count} to fill
        definition = None if d is None else (d.title, d.message, d.advice, "{" in d.title + d.message + d.advice)
        return (next(i for i, f in enumerate(group) if f is worst), kind, points, _sentence("; ".join(reasons)),
                tuple(dict.fromkeys(ref for f in group for ref in f.guide_refs)),
                tuple(dict.fromkeys(ref for f in group for ref in f.beyond_refs)),
                definition, min(f.guide_order for f in group))

    def tally(self, hits: Any) -> "Tally":
        """What a report's summary and its portfolio record count, in one pass over its hits (in report order)."""
        by_kind = dict.fromkeys(KIND_ORDER, 0)
        by_severity = dict.fromkeys(SEVERITY_ORDER, 0)
        penalty = 0
        open_ids: set[str] = set()
        worst = "none"
        said: dict[str, tuple[str, str, str]] = {}
        memo = self.memo
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        for h in hits:
            # what a hit counts for, by the hit (the engine's hits recur in every profile; the hit is kept with it,
            # so an id reused by another object is told apart)
            known = memo.get(id(h))
            if known is None or known[0] is not h:
                known = memo[id(h)] = self._counts(h)
            _, kind, severity, counted, opened, rule, first = known
            by_kind[kind] += 1
            if counted:
                by_severity[severity] += 1
                penalty += PENALTY[severity]
                if worst == "none":
                    worst = severity
            if opened:
                open_ids.update(opened)
            if rule not in said:
                said[rule] = first
        return Tally(by_kind, by_severity, penalty, open_ids, worst, said)

    def _counts(self, h: Any) -> tuple:
        """A hit, its kind and severity, whether it counts against the partnership (all but strengths), the guide
        steps it says are not in place, its rule and its (rule, kind, severity)."""
        rule = self.rules.get(h.rule)
        opened = rule.refs if rule is not None and leaves_step_open(h.kind, h.severity) else ()
        return (h, h.kind, h.severity, h.kind != "strength", opened, h.rule, (h.rule, h.kind, h.severity))

    def readiness(self, open_ids: set[str]) -> tuple[int, int]:
        """(steps in place, steps due), given the steps a report's findings say are not in place (Tally.open_ids):
        a step due now is in place unless a finding says it is not."""
        due = self.steps_due
        return len(due) - sum(map(open_ids.__contains__, due)), len(due)

    def question_severity(self, rule_severity: str, stage: str) -> str:
        """How pressing a question to settle is: its rule's severity, at most the stage's (ranking)."""
        cap = self.ranking.question_severity[stage]
        return max(rule_severity, cap, key=SEVERITY_ORDER.__getitem__)


_GROUPED = frozenset((*ACTION_KINDS, "structure"))  # the kinds of finding that make problems
_MEMO_LIMIT = 20_000  # entries of Advice.memo kept before it starts again
_new = object.__new__
#: What a finding's part in its problem's signature is (Advice._problem): its rule, kind, severity, guide order,
#: guide refs and refs beyond the guide, read in one C call (a NamedTuple's fields are read through descriptors)
_SIGNATURE = itemgetter(*(Finding._fields.index(name) for name in
                          ("rule", "kind", "severity", "guide_order", "guide_refs", "beyond_refs")))
_SUBJECT = itemgetter(Finding._fields.index("subject"))
_PATH = itemgetter(0)  # an Evidence's path


class Tally:
    """What a report's hits add up to (Advice.tally): its summary's counts and its portfolio record's. (A class with
    slots: a NamedTuple costs the command's start a quarter of a millisecond to make.)"""

    __slots__ = ("by_kind", "by_severity", "penalty", "open_ids", "worst", "said")

    def __init__(self, by_kind: dict[str, int], by_severity: dict[str, int], penalty: int, open_ids: set[str],
                 worst: str, said: dict[str, tuple[str, str, str]]):
        self.by_kind = by_kind
        self.by_severity = by_severity  # of the findings other than strengths
        self.penalty = penalty  # of the findings other than strengths, by severity (vocabulary.PENALTY)
        self.open_ids = open_ids  # the guide steps the findings say are not in place
        self.worst = worst  # the worst severity of a finding other than a strength, or "none"
        self.said = said  # each rule's (rule, kind, severity), its worst first


def default_advice() -> Advice:
    """Advice for a report made without a rulebook (by hand, or read back): each finding its own problem."""
    return Advice({}, {}, NEUTRAL)


def _fill(text: str, listed: str, count: str) -> str:
    """A problem's text with its subjects (_listed) and their count in place of {subjects} and {count}."""
    return text.replace("{subjects}", listed).replace("{count}", count) if "{" in text else text


def _listed(items: tuple[str, ...]) -> str:
    quoted = [f"“{s}”" for s in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _union(group: list[Finding]) -> tuple[Evidence, ...]:
    """The evidence of a group's findings, the first row of each path (a finding's own tuple when it is alone, so that
    the JSON writer finds its text written: findings._rows)."""
    if len(group) == 1:
        evidence = group[0].evidence
        if len(set(map(_PATH, evidence))) == len(evidence):  # (an explained finding's paths are its own)
            return evidence
    seen: dict[str, Evidence] = {}
    for f in group:
        for e in f.evidence:
            seen.setdefault(e.path, e)
    return tuple(seen.values())


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."
