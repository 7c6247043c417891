"""Findings and reports: immutable, sortable values; every output format is a pure function of them."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import repeat
from typing import Any, Callable, NamedTuple

from ..vocabulary import QUESTION, SEVERITY_ORDER
from ..words import path_text

SCHEMA_VERSION = 1
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class Place(NamedTuple):
    """Where a piece of evidence was read, kept as structure from evaluation to every renderer.

    A field of the profile (`field` from the root), a field of one item of a collection
    (`collection`, the item's `index` and its `item` name, `field` from the item), every item of
    a collection at once (`index` None: a summary row), or a derived fact (`derived`, its name
    as `field`).
    """

    field: tuple[str | int, ...]
    collection: tuple[str, ...] | None = None
    index: int | None = None
    item: str | None = None
    derived: bool = False

    @property
    def text(self) -> str:
        """The path as the JSON report writes it: `partners[2].objectives`, `partners[*].values`, `derived.term`."""
        if self.derived:
            return "derived." + ".".join(map(str, self.field))
        if self.collection is None:
            return path_text(self.field)
        if self.index is None:
            return f"{path_text(self.collection)}[*].{'.'.join(map(str, self.field))}"
        return path_text(self.collection + (self.index,) + self.field)

    @property
    def collection_name(self) -> str | None:
        """The collection as the vocabulary names it (`partners`, `monitoring.kpis`), or None."""
        return ".".join(self.collection) if self.collection is not None else None

    @classmethod
    def from_text(cls, path: str) -> "Place":
        """The place a JSON path names, for evidence made without one (by hand, or read back from JSON)."""
        if path.startswith("derived."):
            return cls((path[len("derived."):],), derived=True)
        m = _ITEM_PATH.match(path)
        if m is None:
            return cls(tuple(path.split(".")))
        rest = tuple(m["rest"].split(".")) if m["rest"] else ()
        index = None if m["idx"] == "*" else int(m["idx"])
        return cls(rest, tuple(m["coll"].split(".")), index)


_ITEM_PATH = re.compile(r"^(?P<coll>[a-z_.]+?)\[(?P<idx>\d+|\*)\](?:\.(?P<rest>.+))?$")


def _compared_on(fields: int) -> tuple[Callable, Callable, Callable]:
    """__eq__, __ne__ and __hash__ of a record compared on its first `fields` fields, as a frozen dataclass compares
    the fields it does not mark compare=False; never equal to a plain tuple, as a dataclass was not."""

    def __eq__(self: tuple, other: object) -> bool:
        return type(other) is type(self) and self[:fields] == other[:fields]

    def __ne__(self: tuple, other: object) -> bool:
        return not self == other

    def __hash__(self: tuple) -> int:
        return hash(self[:fields])

    return __eq__, __ne__, __hash__


class Evidence(NamedTuple):
    """A profile path and the value a rule's condition read there; `place` keeps the path's structure.

    An immutable record, made a hundred times per profile: a NamedTuple, whose making is one C call (a frozen
    dataclass sets each field through a descriptor). Equality and hash leave `place` out, as the path says it.
    """

    path: str
    value: Any
    line: int | None = None
    note: str | None = None
    place: Place | None = None

    @classmethod
    def at(cls, place: Place, value: Any, line: int | None = None, note: str | None = None) -> "Evidence":
        return cls(place.text, value, line, note, place)

    @property
    def where(self) -> Place:
        """Where it was read: its place, or the place its path names when it was made without one."""
        return self.place if self.place is not None else Place.from_text(self.path)

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "value": self.value, "line": self.line}
        if self.note:
            out["note"] = self.note
        return out

    __eq__, __ne__, __hash__ = _compared_on(4)

    def __repr__(self) -> str:
        return f"Evidence(path={self.path!r}, value={self.value!r}, line={self.line!r}, note={self.note!r})"


class Finding(NamedTuple):
    """One rule that fired on a profile (or on one item of it, named in subject).

    An immutable record (a NamedTuple, for the same reason as Evidence); equality and hash leave `adapted` out.
    """

    rule: str
    kind: str
    severity: str
    title: str
    message: str
    advice: str
    guide_refs: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    subject: str | None = None
    note: str | None = None  # why the finding is adapted to this partnership (adapt, proportion)
    guide_order: int = 0
    item_index: int = -1
    #: advice beyond the guide the finding cites (laws, good practice: knowledge/guide.yaml `beyond:`), never
    #: among guide_refs, so nothing shows it as the guide's words
    beyond_refs: tuple[str, ...] = ()
    #: whether an `adapt` entry gave the advice (for this partnership's focus, say): the problem then tells it
    adapted: bool = False

    @property
    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER[self.severity], self.guide_order, self.rule, self.item_index)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "advice": self.advice,
            "guide_refs": list(self.guide_refs),
            "evidence": [e.to_dict() for e in self.evidence],
            "subject": self.subject,
        }
        if self.note:
            out["note"] = self.note
        if self.beyond_refs:
            out["beyond_guide"] = list(self.beyond_refs)
        return out

    __eq__, __ne__, __hash__ = _compared_on(13)


_new_tuple = tuple.__new__


def make_evidence(path: str, value: Any, line: int | None, note: str | None, place: Place | None) -> Evidence:
    """Evidence(path, value, line, note, place), sooner (a NamedTuple's own __new__ takes keywords and defaults)."""
    return _new_tuple(Evidence, (path, value, line, note, place))


@dataclass(frozen=True)
class Waived:
    """A finding the committee has consciously accepted, with its reason."""

    finding: Finding
    reason: str
    until: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.finding.to_dict(), "waiver": {"reason": self.reason, "until": self.until}}


@dataclass(frozen=True)
class Level:
    declared: str | None
    evidenced: str | None
    recommended: str | None


@dataclass(frozen=True)
class Recommendation:
    formality: str | None
    level: Level
    stakeholder_mix: str | None
    term: str | None
    structure: tuple[str, ...]
    agreement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "formality": self.formality,
            "agreement": self.agreement,
            "level": asdict(self.level),
            "stakeholder_mix": self.stakeholder_mix,
            "term": self.term,
            "structure": list(self.structure),
        }


class Hit(NamedTuple):
    """A rule that fired on a profile (or on one item of it), before it is explained as a Finding.

    The fields are in the report's order (severity, guide order, rule id, item), so hits sort
    as tuples.
    """

    severity_rank: int
    guide_order: int
    rule: str
    item_index: int
    engine_id: str
    kind: str
    severity: str
    waiver_reason: str | None = None
    waiver_until: str | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.severity_rank, self.guide_order, self.rule, self.item_index)


@dataclass(frozen=True)
class Report:
    """The result of evaluating one profile.

    The decision (which rules fired, at what severity) is made by the engine when the report
    is created; the findings' messages and evidence are written out on first use, so
    screening many profiles for a verdict does not pay for explanations nobody reads.
    """

    profile_name: str
    source: str
    recommendation: Recommendation
    hits: tuple[Hit, ...]
    waived_hits: tuple[Hit, ...] = ()
    expired_waivers: tuple[dict[str, Any], ...] = ()
    derived: dict[str, Any] = field(default_factory=dict)
    engine: str = "python"
    as_of: str = ""
    advisor_version: str = ""
    rules_version: str = ""
    explain: Callable[[Hit], Finding] | None = field(default=None, compare=False, repr=False)
    #: findings of steps not yet due at the partnership's stage, told as a list for later
    later_hits: tuple[Hit, ...] = ()
    #: findings of steps the profile says do not apply, with the reason (in the hit's waiver_reason)
    not_applicable_hits: tuple[Hit, ...] = ()
    #: the stage the advice assumed (the profile's, or the one its facts show)
    stage: str | None = None
    #: the profile's currency (ZAR, ...), so that reports write money as people do
    currency: str | None = None
    #: how findings group into problems and rank, and which steps are due (report.problems.Advice)
    advice: Any = field(default=None, compare=False, repr=False)
    #: the JSON `explain` writes as it explains, by the id of each row (an Evidence), finding's evidence (its tuple)
    #: and Finding (with the Finding): each row is encoded once, where it is written, and shared by the findings
    #: that read it. It keeps what it holds the JSON of (report.evaluation), so an id found in it is the object's.
    rows: dict | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_findings(cls, findings: tuple[Finding, ...] = (), waived: tuple[Waived, ...] = (), **fields: Any) -> "Report":
        """A report made from findings already written out (for example read back or assembled by hand)."""
        known: dict[str, Finding] = {}

        def hit(f: Finding, w: Waived | None = None) -> Hit:
            h = Hit(SEVERITY_ORDER[f.severity], f.guide_order, f.rule, f.item_index, f"#{len(known)}", f.kind,
                    f.severity, w.reason if w else None, w.until if w else None)
            known[h.engine_id] = f
            return h

        hits = tuple(hit(f) for f in findings)
        waived_hits = tuple(hit(w.finding, w) for w in waived)
        return cls(hits=hits, waived_hits=waived_hits, explain=lambda h: known[h.engine_id], **fields)

    @cached_property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding not waived, in the stable order: severity, guide order, rule id, item."""
        return tuple(map(self.explain, self.hits))

    @cached_property
    def waived(self) -> tuple[Waived, ...]:
        return tuple(Waived(self.explain(h), h.waiver_reason or "", h.waiver_until) for h in self.waived_hits)

    @cached_property
    def later(self) -> tuple[Finding, ...]:
        """Findings of steps that are not due yet at the partnership's stage."""
        return tuple(map(self.explain, self.later_hits))

    @cached_property
    def not_applicable(self) -> tuple[Waived, ...]:
        """Findings of steps the profile says do not apply, with the reason it gives."""
        return tuple(Waived(self.explain(h), h.waiver_reason or "", None) for h in self.not_applicable_hits)

    @cached_property
    def problems(self) -> tuple[Any, ...]:
        """The findings as problems to act on, most pressing first (report.problems.Problem)."""
        from .problems import default_advice  # a report made by hand has no rulebook's advice

        return (self.advice or default_advice()).plan(self.findings)

    @property
    def questions(self) -> tuple[Finding, ...]:
        """Questions to settle: one per question, the first rule that asks it."""
        seen: dict[str, Finding] = {}
        for f in self.findings:
            if f.kind == QUESTION:
                seen.setdefault(f.title, f)
        return tuple(seen.values())

    def by_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def worst(self, threshold: str) -> bool:
        """True when a finding other than a strength is at or above the threshold severity."""
        if threshold == "never":
            return False
        limit = SEVERITY_ORDER[threshold]
        return any(h.kind != "strength" and SEVERITY_ORDER[h.severity] <= limit for h in self.hits)

    @property
    def summary(self) -> dict[str, Any]:
        """Counts by kind and by severity, the score, and how ready the partnership is: a new dict each time (the
        JSON report, the portfolio summary and the documents all read it), worked out once."""
        return {k: dict(v) if type(v) is dict else v for k, v in self._summary.items()}

    @cached_property
    def tally(self) -> Any:
        """What the hits add up to, counted once for the summary and a portfolio's record (report.problems.Tally)."""
        from .problems import default_advice  # a report made by hand has no rulebook's advice

        return (self.advice or default_advice()).tally(self.hits)

    @cached_property
    def _summary(self) -> dict[str, Any]:
        tally = self.tally
        out = {"by_kind": tally.by_kind, "by_severity": tally.by_severity, "score": max(100 - tally.penalty, 0),
               "waived": len(self.waived_hits)}
        if self.advice is not None:
            in_place, due = self.advice.readiness(tally.open_ids)
            out["score"] = round(100 * in_place / due) if due else 100
            out["readiness"] = {"in_place": in_place, "due": due, "stage": self.stage}
            out["later"] = len(self.later_hits)
            out["not_applicable"] = len(self.not_applicable_hits)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._head(),
            "findings": [f.to_dict() for f in self.findings],
            "problems": [p.to_dict() for p in self.problems],
            **self._tail(),
        }

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON; the engine is left out so both engines give byte-identical output.

        Characters that some readers take for line breaks (U+0085, U+2028, U+2029) are escaped,
        so one report is always exactly one line of JSON Lines.
        """
        if indent is None:
            text = "".join(part if type(part) is str else ", ".join(part) for part in self._json_parts())
        else:
            text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str, allow_nan=False)
        return _escape_breaks(text)

    def to_json_line(self) -> bytes:
        """to_json() and a newline, encoded in UTF-8: one line of JSON Lines, as `--format json` writes it.

        Each piece (a finding, a problem) is encoded on its own: an ASCII piece is copied as it stands, so
        the curly quotes of one problem's title do not send the whole report (~90 KB) through the UTF-8
        encoder character by character (~140 us, when a str of 2-byte characters is encoded).
        """
        out = []
        for part in self._json_parts():
            if type(part) is str:
                out.append(_escape_breaks(part).encode())
            elif all(map(str.isascii, part)):  # (isascii reads a flag: this costs nothing like encoding does)
                out.append(", ".join(part).encode())
            else:
                out.append(b", ".join([(t if t.isascii() else _escape_breaks(t)).encode() for t in part]))
        out.append(b"\n")
        return b"".join(out)

    def _json_parts(self) -> list[str | list[str]]:
        """The text of to_json() in order: text, and lists of texts that are joined with ", " (the findings, the
        problems...). The same text as json.dumps(self.to_dict()), written without building the findings' dicts.

        A report's findings share most of their evidence rows, and a rule's title and advice are
        the same text in every report: each is encoded once and the pieces are joined, which
        is what json.dumps would write for the whole (its C encoder, ", " and ": " separators).
        """
        head = _encode(self._head())
        rows: dict = {} if self.rows is None else self.rows
        findings = list(map(_finding_json, self.findings, repeat(rows)))
        problems = list(map(_problem_json, self.problems, repeat(rows)))
        waived = [f"{_finding_json(w.finding, rows)[:-1]}, \"waiver\": {_encode({'reason': w.reason, 'until': w.until})}}}"
                  for w in self.waived]
        later = list(map(_finding_json, self.later, repeat(rows)))
        aside = [f"{_finding_json(w.finding, rows)[:-1]}, \"not_applicable\": {_string(w.reason)}}}"
                 for w in self.not_applicable]
        expired = _encode(list(self.expired_waivers))
        stage = "null" if self.stage is None else _string(self.stage)
        return [f"{head[:-1]}, \"findings\": [", findings, "], \"problems\": [", problems, "], \"waived\": [", waived,
                f"], \"expired_waivers\": {expired}, \"later\": [", later, "], \"not_applicable\": [", aside,
                f"], \"stage\": {stage}, \"summary\": {_encode(self._summary)}}}"]

    def _head(self) -> dict[str, Any]:
        """The fields of to_dict() that come before the findings."""
        return {
            "schema_version": SCHEMA_VERSION,
            "advisor_version": self.advisor_version,
            "rules_version": self.rules_version,
            "as_of": self.as_of,
            "profile": {"name": self.profile_name, "source": self.source},
            "recommendation": self.recommendation.to_dict(),
            "derived": dict(self.derived),
        }

    def _tail(self) -> dict[str, Any]:
        """The fields of to_dict() that come after the findings (_json_parts writes the same)."""
        return {
            "waived": [w.to_dict() for w in self.waived],
            "expired_waivers": list(self.expired_waivers),
            "later": [f.to_dict() for f in self.later],
            "not_applicable": [{**w.finding.to_dict(), "not_applicable": w.reason} for w in self.not_applicable],
            "stage": self.stage,
            "summary": self.summary,
        }


#: Strict JSON: a number that is not finite (the facts keep every number finite) raises rather than writing
#: Infinity or NaN, which strict parsers refuse.
_json_text = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False).encode


def _c_encoder() -> Callable[[Any, int], Any] | None:
    """The C encoder _json_text makes on every call for a dict or a list, made once (None without it)."""
    try:
        return json.encoder.c_make_encoder(None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False,
                                           False)
    except (TypeError, AttributeError):  # no C accelerator, or one with other parameters
        return None


_C_ENCODE = _c_encoder()


def _encode(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)."""
    t = type(value)
    if _C_ENCODE is not None and (t is dict or t is list):
        return "".join(_C_ENCODE(value, 0))
    return _json_text(value)


_string = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) writes for a str


def _escape_breaks(text: str) -> str:
    """Text with U+0085, U+2028 and U+2029 escaped as JSON escapes them. str.translate walks every character in
    Python's slow path (tens of microseconds per KiB); the three characters are rare and never ASCII, and
    isascii() reads a flag, so most texts are checked at once."""
    if text.isascii() or not ("\x85" in text or "\u2028" in text or "\u2029" in text):
        return text
    return text.translate(_LINE_BREAKS)

#: Encoded text that recurs across reports: the opening of a finding (rule, kind, severity, title),
#: advice, static messages, guide references. Bounded: messages that name a partner rarely recur.
_OPENINGS: dict[tuple[str, ...], str] = {}
_STRINGS: dict[str, str] = {}
_REFS: dict[tuple[str, ...], str] = {}
_PATHS: dict[tuple, tuple[str, str]] = {}  # what an evidence row's JSON holds around its value and line (row_ends)
_CACHE_MAX = 4096


def _cached(cache: dict, value: Any, encode: Callable[[Any], str]) -> str:
    text = cache.get(value)
    if text is None:
        text = encode(value)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[value] = text
    return text


def _opening(key: tuple[str, ...]) -> str:
    return _encode(dict(zip(("rule", "kind", "severity", "title"), key)))[:-1]


def row_ends(path: str, note: str | None) -> tuple[str, str]:
    """What the JSON of an evidence row holds before its value, and after its line (its note): the same in every
    profile for a row at one place."""
    return f"{{\"path\": {_string(path)}, \"value\": ", f", \"note\": {_string(note)}}}" if note else "}"


def row_json(opening: str, value: Any, line: int | None, closing: str) -> str:
    """The JSON of an evidence row, between what row_ends gives for its place (json.dumps of the value written out
    here: one call per row, the most made of all)."""
    kind = type(value)
    if kind is str:
        value = _string(value)
    elif value is None:
        value = "null"
    elif kind is int:
        value = int.__repr__(value)
    elif kind is bool:
        value = "true" if value else "false"
    elif kind is float and value - value == 0.0:  # finite: json writes float.__repr__ (not finite: it raises, below)
        value = float.__repr__(value)
    else:
        value = _encode(value)
    return f"{opening}{value}, \"line\": {'null' if line is None else int.__repr__(line)}{closing}"


def evidence_json(e: Evidence) -> str:
    """json.dumps(e.to_dict())."""
    path, value, line, note, _ = e  # one unpacking: a NamedTuple's fields are read through descriptors
    opening, closing = _PATHS.get((path, note)) or _cached(_PATHS, (path, note), _row_ends)
    return row_json(opening, value, line, closing)


def _row_ends(key: tuple[str, str | None]) -> tuple[str, str]:
    return row_ends(*key)


def _rows(evidence: tuple[Evidence, ...], rows: dict) -> str:
    """The evidence rows as JSON, each row written once per report: `rows` holds the JSON by the id of each
    Evidence and of each finding's evidence tuple that report.explain wrote (and keeps them), so that an id found
    there is the object's own; a row it did not write is written here."""
    text = rows.get(id(evidence))
    if text is not None:
        return text
    try:
        return ", ".join(map(rows.__getitem__, map(id, evidence)))
    except KeyError:  # a row not written by explain (a report made from findings)
        return ", ".join(map(evidence_json, evidence))


def _refs(refs: tuple[str, ...]) -> str:
    """A tuple of guide refs as a JSON list: the same few recur in every report."""
    return (_REFS.get(refs) or _cached(_REFS, refs, _encode)) if type(refs) is tuple else _encode(list(refs))


def _problem_json(p: Any, rows: dict) -> str:
    """json.dumps(p.to_dict()) of a report.problems.Problem, its evidence rows shared with the findings'."""
    findings = ", ".join(f"{{\"rule\": {_string(f.rule)}, \"subject\": {'null' if f.subject is None else _string(f.subject)}}}"
                         for f in p.findings)
    evidence = _rows(p.evidence, rows)
    refs = _refs(p.guide_refs)
    owner = "null" if p.owner is None else _string(p.owner)
    beyond = f", \"beyond_guide\": {_refs(p.beyond_refs)}" if p.beyond_refs else ""
    return (f"{{\"rank\": {int.__repr__(p.rank)}, \"id\": {_string(p.id)}, \"title\": {_string(p.title)}, "
            f"\"kind\": {_string(p.kind)}, \"severity\": {_string(p.severity)}, \"guide_refs\": {refs}, "
            f"\"message\": {_cached(_STRINGS, p.message, _string)}, \"advice\": {_cached(_STRINGS, p.advice, _string)}, "
            f"\"why\": {_cached(_STRINGS, p.why, _string)}, \"owner\": {owner}, \"findings\": [{findings}], "
            f"\"evidence\": [{evidence}]{beyond}}}")


def finding_head(rule: str, kind: str, severity: str, title: str, message: str, advice: str,
                 refs: tuple[str, ...]) -> str:
    """The JSON of a finding up to the rows of its evidence: `{"rule": ..., "evidence": [`."""
    strings = _STRINGS
    return (f"{_OPENINGS.get((rule, kind, severity, title)) or _cached(_OPENINGS, (rule, kind, severity, title), _opening)}"
            f", \"message\": {strings.get(message) or _cached(strings, message, _string)}, "
            f"\"advice\": {strings.get(advice) or _cached(strings, advice, _string)}, \"guide_refs\": {_refs(refs)}, "
            "\"evidence\": [")


def finding_tail(note: str | None, beyond: tuple[str, ...]) -> str:
    """The JSON of a finding after its subject: its note and refs beyond the guide, if any, and the closing brace."""
    tail = f", \"note\": {_string(note)}" if note else ""
    if beyond:
        tail += f", \"beyond_guide\": {_refs(beyond)}"
    return tail + "}"


def finding_json(head: str, evidence: str, subject: str | None, tail: str) -> str:
    """The JSON of a finding from its head (finding_head), its evidence's rows, its subject and its tail."""
    return f"{head}{evidence}], \"subject\": {'null' if subject is None else _string(subject)}{tail}"


def _finding_json(f: Finding, rows: dict) -> str:
    """json.dumps(f.to_dict()): as report.explain wrote it (in `rows` by the id of the finding), or written now."""
    known = rows.get(id(f))
    if known is not None and known[0] is f:
        return known[1]
    rule, kind, severity, title, message, advice, refs, evidence, subject, note, _, _, beyond, _ = f
    return finding_json(finding_head(rule, kind, severity, title, message, advice, refs), _rows(evidence, rows),
                        subject, finding_tail(note, beyond))
