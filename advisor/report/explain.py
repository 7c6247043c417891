"""Explains what fired: a Hit becomes a Finding with its message, advice and evidence, worked out on first use.

How a rule is explained (which values its evidence shows, in which order) is planned once per
rule and reused; evidence rows are written once per profile and shared by the findings that
read the same values. Each row, each finding's evidence and each finding is written as JSON
where it is made, from pieces that are the same in every profile (a row's path and note, a
finding's title and advice where they do not depend on the profile): the JSON report is then
these texts joined (report.findings.Report.to_json_line).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Callable, NamedTuple

from ..engine.facts import compute, get_path
from ..language.compiler import Compiled, Variant
from ..language.syntax import Ref, Template, refs_of
from ..profile.validation import LoadedProfile
from ..vocabulary import SUBJECT_FIELD
from ..profile.schema import words_for
from ..words import UNITS, first_sentence, in_words, path_text, possessive, value_words
from .findings import (Evidence, Finding, Hit, Place, evidence_json, finding_head, finding_json, finding_tail, make_evidence,
                       row_ends, row_json)

_new_tuple = tuple.__new__
#: Types _json_value gives back as they are
_PLAIN = frozenset((str, int, bool, float, type(None)))


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool or kind is float:
        return value
    if kind is list and all(type(v) is str for v in value):
        return value[:]  # a copy, as below: the evidence does not share the profile's list
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class _Atom(NamedTuple):
    """One source of evidence rows: a ref, read for the finding's own item or not, in a finding about one item
    or not, directly or through a derived fact (which decides how many items of a collection are shown)."""

    ref: Ref
    own: bool
    per_item: bool
    via_derived: bool


class _Plan(NamedTuple):
    """How to explain one engine rule, worked out on first use (its fields in the order Explainer.finding reads them)."""

    rule: Any
    #: each atom's number (its rows' key in a profile's memo), the function writing its rows (Explainer._writer), own
    atoms: tuple[tuple[int, Callable, bool], ...]
    overlap: bool  # two atoms may write the same path; the first row of a path is kept
    message: str | tuple  # a str when the template reads nothing, else its parts (Explainer._compile) to render
    advice: str | tuple
    asks: tuple[Ref, ...]  # a question's fields: the finding asks for the blank ones
    refs: tuple[str, ...]  # the guide refs of the finding: the rule's, and its case's
    beyond: tuple[str, ...]  # advice beyond the guide (laws, good practice) the finding cites
    because: str | None
    adapted: bool  # an `adapt` entry gave the advice: the problem tells it, not its generic advice
    order: int  # the rule's place in the guide (Explainer.guide_order)
    items: tuple | None  # the collection whose items a finding about one item is about (the rule's for_each)
    #: the JSON of a finding up to its evidence's rows (findings.finding_head) by its kind and severity, when its
    #: title, message and advice are the same in every profile (else None)
    heads: dict | None
    tail: str  # the JSON of a finding after its subject (findings.finding_tail)


def _question(blank: tuple[Ref, ...], subject: str | None, advice: str) -> tuple[str, str, str]:
    """A question to settle: its title asks for the first blank field, its message says what is not recorded (and
    for which partner, goal, KPI or risk), its advice what the guide asks once it is settled."""
    asked, labels = _asking(blank)
    owner = possessive(subject) + " " if subject else ""
    message = f"Not recorded yet: {owner}{labels}."
    return (asked.replace("{item}", subject or "it"), message,
            f"Settle this with the partners and record the answer. What the guide asks: {_first_sentence(advice)}")


@lru_cache(maxsize=1024)
def _asking(blank: tuple[Ref, ...]) -> tuple[str, str]:
    """The question and the labels of a set of blank fields (the same for every profile)."""
    words = [words_for((ref.collection or ()) + ref.path) for ref in blank]
    labels = [w.label if w else ".".join(ref.path).replace("_", " ") for w, ref in zip(words, blank)]
    asked = next((w.question for w in words if w and w.question), None) or f"What is the {labels[0]}?"
    return asked, "; ".join(labels)


_first_sentence = lru_cache(maxsize=1024)(first_sentence)

#: How a template's reference is read (Explainer._compile): _ATTR is an item's field of one name (its path is then
#: the name), the most common
_DERIVED, _ITEM, _ITEM_COMPUTED, _PROFILE, _MONEY, _ATTR = range(6)
#: in_words of a text value: the same words recur in every profile
_words = lru_cache(maxsize=4096)(in_words)
_NO_MARKS: dict = {}


#: Questions an explainer keeps worded before it starts again (most recur in every profile)
_QUESTIONS_KEPT = 4096
#: Items of a collection shown one by one in a finding's evidence before a summary row.
EVIDENCE_ITEMS = 20



class Explainer:
    """Writes out the findings of one rulebook's hits."""

    def __init__(self, compiled: Compiled, knowledge: Any):
        self.compiled = compiled
        self.knowledge = knowledge
        self.derived = {d.name: d for d in compiled.ruleset.derived}
        #: each rule's place in the guide: its earliest guide ref
        self.guide_order = {
            v.rule.id: min((knowledge.order(r) for r in v.rule.refs), default=10**6) for v in compiled.variants.values()
        }
        #: each engine rule's plan, for a finding about the whole profile [False] and about one item [True]
        self._plans: tuple[dict[str, _Plan], dict[str, _Plan]] = ({}, {})
        self._atom_ids: dict[_Atom, int] = {}
        #: each question's title, message and advice, by its plan's id, which of its fields are blank, subject, advice
        self._questions: dict[tuple, tuple[str, str, str]] = {}
        #: the function writing each atom's rows (_writer), by atom
        self._writers: dict[_Atom, Callable] = {}

    def finding(self, loaded: LoadedProfile, derived: dict, as_of: date, memo: dict, texts: dict, hit: Hit) -> Finding:
        """The finding a hit makes on a profile (the hit last, so that a report's `explain` is this method with the
        rest given: functools.partial, called without a frame of its own).

        `memo` keeps each atom's rows and their JSON, written once per profile; `texts` (the report's `rows`, which
        keeps the memo) gets the JSON of each row, of each finding's evidence and of each finding, by the id of the
        Evidence, of the evidence tuple and of the Finding (with the Finding, which holds its evidence), for the
        JSON writer (findings._rows, _finding_json)."""
        idx = hit.item_index
        plans = self._plans[idx >= 0]
        plan = plans.get(hit.engine_id)
        if plan is None:
            plan = plans[hit.engine_id] = self._plan(hit.engine_id, idx >= 0)
        rule, atoms, overlap, message, advice, asks, refs, beyond, because, adapted, order, coll, heads, tail = plan
        item = subject = None
        if idx < 0:
            idx = None
        elif coll is not None:
            items, names = memo.get(coll) or self._members(loaded, coll, memo)
            item, subject = items[idx], names[idx]
        # Evidence rows of each atom are written once per profile, with their JSON (_writer), and shared by every
        # finding that reads it.
        rows: list = []
        parts: list = []
        for key, write, own in atoms:
            if own:
                key = (key, idx)
            found = memo.get(key)
            if found is None:
                found = memo[key] = write(loaded, derived, idx if own else None, as_of, memo, texts)
            written, text = found
            rows += written
            if text:
                parts.append(text)
        if overlap:
            first: dict[str, Evidence] = {}
            for ev in rows:
                first.setdefault(ev.path, ev)
            if len(first) < len(rows):
                rows = list(first.values())
                parts = [texts[id(ev)] for ev in rows]
        evidence = tuple(rows)
        text = texts[id(evidence)] = ", ".join(parts)
        if type(advice) is not str:
            advice = self.render(advice, loaded, derived, item, as_of)
        if asks:  # a question: its title, message and advice ask for what is blank
            value_of = self.value_of
            blank = tuple(value_of(ref, loaded, derived, item, as_of) is None for ref in asks)
            # by the plan (kept as long as the explainer), which of its fields are blank, the subject and the advice:
            # hashing the Refs themselves runs a dataclass's __hash__ for each
            key = (id(plan), blank, subject, advice)
            asked = self._questions.get(key)
            if asked is None:
                if len(self._questions) >= _QUESTIONS_KEPT:
                    self._questions.clear()
                which = tuple(ref for ref, empty in zip(asks, blank) if empty)
                asked = self._questions[key] = _question(which or asks, subject, advice)
            title, message, advice = asked
        else:
            title = rule.title
            if type(message) is not str:
                message = self.render(message, loaded, derived, item, as_of)
        kind, severity = hit.kind, hit.severity
        # Finding(...) with every field given, made in one call (a NamedTuple's own __new__ takes keywords)
        finding = _new_tuple(Finding, (rule.id, kind, severity, title, message, advice, refs, evidence, subject,
                                       because, order, -1 if idx is None else idx, beyond, adapted))
        # ... and its JSON (json.dumps(finding.to_dict())), for the JSON writer (findings._finding_json)
        if heads is None:
            head = finding_head(rule.id, kind, severity, title, message, advice, refs)
        else:
            head = heads.get((kind, severity))
            if head is None:
                head = heads[(kind, severity)] = finding_head(rule.id, kind, severity, title, message, advice, refs)
        texts[id(finding)] = (finding, finding_json(head, text, subject, tail))
        return finding

    @staticmethod
    def _members(loaded: LoadedProfile, coll: tuple, memo: dict) -> list:
        """The items of a collection and their names, read once per profile for every finding and row about them
        (kept in the memo by the collection's path, a tuple of names, which no other key of the memo is; as a
        list, for the memo's tuples are an atom's rows and their JSON)."""
        found = memo.get(coll)
        if found is None:
            items = get_path(loaded.profile, coll) or []
            name_of = SUBJECT_FIELD[".".join(coll)]
            found = memo[coll] = [items, [str(getattr(item, name_of)) for item in items]]
        return found

    def _plan(self, engine_id: str, per_item: bool) -> "_Plan":
        """What explaining a variant reads, worked out once: the evidence atoms in the order a reader sees them
        (a derived fact, then what it reads in turn, depth first), each once."""
        variant: Variant = self.compiled.variants[engine_id]
        rule = variant.rule
        refs = list(self.compiled.reads[rule.id])
        case = variant.case
        if case is not None:
            refs += refs_of(case.when)
        atoms: dict[_Atom, None] = {}

        def add(ref: Ref, via_derived: bool, seen: frozenset) -> None:
            own = per_item and not via_derived and ref.scope == "item" and ref.collection == rule.for_each
            item = ref.scope == "item"
            atoms.setdefault(_Atom(ref, own, per_item and item, via_derived and item))
            if ref.scope == "derived" and ref.path[0] not in seen:
                for sub in self.compiled.reads.get(f"derived:{ref.path[0]}", ()):
                    add(sub, True, seen | {ref.path[0]})

        for ref in refs:
            add(ref, False, frozenset())
        # Only rows over the items of one collection can share a path (one item's row and the same row
        # over all items); elsewhere every atom writes paths of its own.
        item_fields = [(a.ref.collection, a.ref.path) for a in atoms if a.ref.scope == "item"]
        ids = self._atom_ids
        refs_cited = tuple(dict.fromkeys(rule.refs + case.refs)) if case is not None else rule.refs
        message = self._text(case.message if case is not None and case.message else rule.message)
        advice = self._text(case.advice if case is not None and case.advice else rule.advice)
        beyond = tuple(r for r in refs_cited if self.knowledge.is_beyond(r))
        return _Plan(
            rule=rule,
            atoms=tuple((ids.setdefault(a, len(ids)), self._writer(a), a.own) for a in atoms),
            overlap=len(item_fields) != len(set(item_fields)),
            message=message,
            advice=advice,
            asks=rule.ask if variant.question else (),
            refs=tuple(r for r in refs_cited if not self.knowledge.is_beyond(r)),
            beyond=beyond,
            because=variant.because,
            adapted=case is not None and case.advice is not None and not any(case is p for p in rule.proportion),
            order=self.guide_order[rule.id],
            items=rule.for_each if per_item else None,
            # a question's title, message and advice ask for what is blank (Explainer.finding)
            heads={} if not variant.question and type(message) is str and type(advice) is str else None,
            tail=finding_tail(variant.because, beyond),
        )

    def value_of(self, ref: Ref, loaded: LoadedProfile, derived: dict, item: Any, as_of: date) -> Any:
        scope = ref.scope
        if scope == "item":
            d = self.derived.get(ref.path[0])
            if d is not None and d.for_each == ref.collection:
                return compute(d, loaded.profile, item, as_of)
            return get_path(item, ref.path)
        if scope == "derived":
            return derived.get(ref.path[0])
        return get_path(loaded.profile, ref.path)

    def render(self, parts: tuple, loaded: LoadedProfile, derived: dict, item: Any, as_of: date) -> str:
        """A message or advice in words, from its template's parts (_compile)."""
        out = []
        profile = loaded.profile
        for part in parts:
            if type(part) is str:
                out.append(part)
                continue
            how, path, d, fmt = part
            if how == _ATTR:
                value = getattr(item, path, None)  # get_path(item, (path,)), sooner
            elif how == _DERIVED:
                value = derived.get(path[0])
            elif how == _ITEM:
                value = get_path(item, path)
            elif how == _ITEM_COMPUTED:
                value = compute(d, profile, item, as_of)
            else:
                value = get_path(profile, path)
                if how == _MONEY and value is not None:  # R310 000, as the evidence writes it
                    funding = profile.funding
                    out.append(value_words(value, "money", funding.currency if funding is not None else None))
                    continue
            out.append(_words(value) if type(value) is str and not fmt else in_words(value, fmt))
        return "".join(out)

    def _text(self, template: Template) -> str | tuple:
        """A template as a plan keeps it: its text when it reads nothing, else its parts (_compile)."""
        if all(isinstance(p, str) for p in template.parts):
            return "".join(template.parts)
        return self._compile(template)

    def _compile(self, template: Template) -> tuple:
        """A template's parts, each reference worked out once: how its value is read (_DERIVED, _ITEM, _ATTR,
        _ITEM_COMPUTED, _PROFILE or _MONEY), its path, the derived fact computing it and its format."""
        out: list = []
        for part in template.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            ref, fmt = part
            d = None
            if ref.scope == "derived":
                how = _DERIVED
            elif ref.scope == "item":
                d = self.derived.get(ref.path[0])
                how = _ITEM_COMPUTED if d is not None and d.for_each == ref.collection else _ITEM
                if how == _ITEM and len(ref.path) == 1:
                    out.append((_ATTR, ref.path[0], d, fmt))
                    continue
            elif fmt == "," and ref.scope == "profile" and UNITS.get(".".join(ref.path)) == "money":
                how = _MONEY
            else:
                how = _PROFILE
            out.append((how, ref.path, d, fmt))
        return tuple(out)

    def _writer(self, atom: _Atom) -> Callable[[LoadedProfile, dict, int | None, date, dict, dict], tuple]:
        """The function writing one atom's evidence rows for a profile and their JSON (rows, text), made once per
        atom: what is the same in every profile (the place, its text, the kind of field, how the value is read,
        the JSON around a row's value) is worked out here. It keeps each row's JSON in `texts` by the id of the
        Evidence (a problem joins the rows of several findings)."""
        writer = self._writers.get(atom)
        if writer is None:
            ref = atom.ref
            if ref.scope == "derived":
                writer = self._derived_writer(ref.path[0])
            elif ref.scope == "item":
                writer = self._item_writer(atom)
            else:
                writer = self._profile_writer(ref)
            self._writers[atom] = writer
        return writer

    def _derived_writer(self, name: str) -> Callable:
        place = Place((name,), derived=True)
        text, note = place.text, self.derived[name].description
        opening, closing = row_ends(text, note)

        def rows(loaded: LoadedProfile, derived: dict, idx: int | None, as_of: date, memo: dict, texts: dict) -> tuple:
            value = derived.get(name)
            if type(value) is float:
                value = round(value, 4)
            row = _new_tuple(Evidence, (text, value, None, note, place))
            json = texts[id(row)] = row_json(opening, value, None, closing)
            return (row,), json

        return rows

    def _profile_writer(self, ref: Ref) -> Callable:
        """The row of a field read from the profile's root: its value, a collection's number of items, or
        whether a section is set."""
        path = ref.path
        place = Place(path)
        text, kind = place.text, ref.type.kind
        first = path[0]
        rest = path[1:]
        second = rest[0] if len(rest) == 1 else None  # a field of a section (most are), read with getattr
        if kind == "collection":
            note = "number of items"
            ends = {note: row_ends(text, note)}
        else:
            note = None
            ends = {None: row_ends(text, None), "section missing": row_ends(text, "section missing")}

        def rows(loaded: LoadedProfile, derived: dict, idx: int | None, as_of: date, memo: dict, texts: dict) -> tuple:
            value = getattr(loaded.profile, first, None)
            if rest and value is not None:
                value = getattr(value, second, None) if second is not None else get_path(value, rest)
            why = note
            if kind == "collection":
                value = len(value or ())
            elif kind == "object":
                value, why = ("set", None) if value is not None else (None, "section missing")
            elif type(value) not in _PLAIN:
                value = _json_value(value)
            document = loaded.document
            mark = document.marks.get(path) if document is not None else None
            line = mark[0] if mark else None
            row = _new_tuple(Evidence, (text, value, line, why, place))
            opening, closing = ends[why]
            json = texts[id(row)] = row_json(opening, value, line, closing)
            return (row,), json

        return rows

    def _item_writer(self, atom: _Atom) -> Callable:
        """The rows of a field of a collection's items: of the finding's own item, or of every item.

        Rows over every item of a collection are bounded: at most EVIDENCE_ITEMS items, and in a
        finding about one item, a derived fact that reads the whole collection (such as the number
        of sectors) shows one summary row, so evidence stays linear in the number of partners."""
        ref = atom.ref
        coll = ref.collection
        d = self.derived.get(ref.path[0])
        computed = d is not None and d.for_each == coll
        field = (ref.path[0],) if computed else ref.path
        attr = field[0] if len(field) == 1 and not computed else None
        note = d.description if computed else None
        limit = 0 if (atom.per_item and atom.via_derived) else EVIDENCE_ITEMS
        #: each item's full path, its text and what its row's JSON holds around the value, by index: the same in
        #: every profile
        paths: list[tuple[tuple, str, str, str]] = []
        members = self._members
        new_tuple = tuple.__new__
        summary = Place(ref.path, coll)
        summary_text = summary.text

        if computed:
            def read(item: Any, profile: Any, as_of: date) -> Any:
                value = compute(d, profile, item, as_of)
                return round(value, 4) if isinstance(value, float) else value
        elif attr is not None:
            def read(item: Any, profile: Any, as_of: date) -> Any:
                return getattr(item, attr, None)
        else:
            def read(item: Any, profile: Any, as_of: date) -> Any:
                return get_path(item, field)

        def path_of(i: int) -> tuple[tuple, str, str, str]:
            while len(paths) <= i:
                full = coll + (len(paths),) + field
                text = path_text(full)
                paths.append((full, text, *row_ends(text, note)))
            return paths[i]

        def own_row(loaded: LoadedProfile, derived: dict, idx: int, as_of: date, memo: dict, texts: dict) -> tuple:
            """The row of the finding's own item (the same as rows() with an index, in fewer steps: one made per
            finding about an item)."""
            items, names = memo.get(coll) or members(loaded, coll, memo)
            value = read(items[idx], loaded.profile, as_of)
            if type(value) not in _PLAIN:
                value = _json_value(value)
            full, text, opening, closing = paths[idx] if idx < len(paths) else path_of(idx)
            document = loaded.document
            mark = document.marks.get(full) if document is not None else None
            line = mark[0] if mark else None
            row = new_tuple(Evidence, (text, value, line, note, new_tuple(Place, (field, coll, idx, names[idx], False))))
            json = texts[id(row)] = row_json(opening, value, line, closing)
            return (row,), json

        def rows(loaded: LoadedProfile, derived: dict, idx: None, as_of: date, memo: dict, texts: dict) -> tuple:
            """The rows of every item (up to `limit`; an atom of the finding's own item is own_row's)."""
            items, names = members(loaded, coll, memo)
            document = loaded.document
            marks = document.marks if document is not None else _NO_MARKS
            shown = range(min(len(items), limit))
            if shown:
                path_of(shown[-1])
            out = []
            jsons = []
            profile = loaded.profile
            for i in shown:
                value = read(items[i], profile, as_of)
                if type(value) not in _PLAIN:
                    value = _json_value(value)
                full, text, opening, closing = paths[i]
                mark = marks.get(full)
                line = mark[0] if mark else None
                # make_evidence(..., Place(...)) written out: a row of every item, the most made of all
                row = new_tuple(Evidence, (text, value, line, note, new_tuple(Place, (field, coll, i, names[i], False))))
                out.append(row)
                json = texts[id(row)] = row_json(opening, value, line, closing)
                jsons.append(json)
            if len(items) > len(shown):
                more = len(items) - len(shown)
                why = f"and {more:,} more items (see the profile)" if shown else f"read for all {len(items):,} items"
                row = make_evidence(summary_text, None, None, why, summary)
                out.append(row)
                json = texts[id(row)] = evidence_json(row)
                jsons.append(json)
            return tuple(out), ", ".join(jsons)

        return own_row if atom.own else rows
