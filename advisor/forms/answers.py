"""Answers given in words (an answers file, a form export, a terminal) checked question by question, and the
profile they make."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from .. import yamlio
from ..errors import AdvisorError, Location, ProfileError, did_you_mean
from ..profile.reading import profile_from_text
from ..profile.validation import LoadedProfile
from .questionnaire import REASON_SUFFIX, AnswerError, Question, Questionnaire, Repeat, other_partners
from .writer import profile_yaml

#: Where a raw answer sits: ("stage",) or ("partners", 0, "partner_sector").
AnswerPath = tuple


class AnswersError(AdvisorError):
    """Answers (an answers file, a form export) that cannot make a profile."""


Locate = Callable[[AnswerPath], tuple[Location, str]]


def parse_answers(qn: Questionnaire, raw: dict[str, Any], locate: Locate, *, known_only: bool = True) -> dict[str, Any]:
    """Raw answers (words, numbers, dates; a repeat's as a list of mappings) as the questionnaire's values, in the
    questionnaire's order so that partner names are known before the questions that choose among them. The
    first problem is an AnswersError at the place `locate` gives (a file and line, or a file, row and column)."""
    if known_only:
        known = set(qn.by_id) | set(qn.repeats)
        for key in raw:
            if key not in known:
                loc, field = locate((key,))
                raise AnswersError(f"no question has the id {key!r}{did_you_mean(str(key), known)}", loc, field)
    answers: dict[str, Any] = {}
    partners: list[str] = []
    for _section, entry in qn.entries():
        if isinstance(entry, Repeat):
            items = raw.get(entry.repeat)
            if items is None:
                if entry.min and qn.visible(entry, answers):
                    loc, field = locate((entry.repeat,))
                    raise AnswersError(f"give at least {entry.min} {entry.item}", loc, field)
                continue
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                loc, field = locate((entry.repeat,))
                raise AnswersError(f"expected a list of {entry.item}s, each a mapping of answers", loc, field)
            if len(items) < entry.min and qn.visible(entry, answers):
                loc, field = locate((entry.repeat,))
                raise AnswersError(f"give at least {entry.min} {entry.item}", loc, field)
            parsed = []
            for i, item in enumerate(items):
                if known_only:
                    inner = {q.id for q in entry.questions} | {q.id + REASON_SUFFIX for q in entry.questions if q.not_applicable}
                    for key in item:
                        if key not in inner:
                            loc, field = locate((entry.repeat, i, key))
                            raise AnswersError(f"no question of a {entry.item} has the id {key!r}"
                                               f"{did_you_mean(str(key), inner)}", loc, field)
                values: dict[str, Any] = {}
                for q in _with_reasons(entry.questions):
                    _answer(qn, q, item, values, (entry.repeat, i, q.id), locate, partners, answers)
                parsed.append(values)
                if entry.repeat == "partners":
                    name = values.get(entry.key.id)
                    if name in partners:
                        loc, field = locate((entry.repeat, i, entry.key.id))
                        raise AnswersError(f"{name!r} is listed twice; give each partner once", loc, field)
                    partners.append(name)
            if entry.repeat == "partners":
                for i, values in enumerate(parsed):
                    for q in entry.questions:
                        if q.names_partners and values.get(q.id):
                            try:
                                values[q.id] = other_partners(values[q.id], values.get(entry.key.id), partners)
                            except AnswerError as exc:
                                loc, field = locate((entry.repeat, i, q.id))
                                raise AnswersError(str(exc), loc, field) from None
            answers[entry.repeat] = parsed
        else:
            for q in _with_reasons((entry,)):
                _answer(qn, q, raw, answers, (q.id,), locate, partners, None)
    return answers


def _with_reasons(questions: tuple[Question, ...]) -> list[Question]:
    out = []
    for q in questions:
        out.append(q)
        reason = q.reason_question()
        if reason is not None:
            out.append(reason)
    return out


def _answer(qn: Questionnaire, q: Question, raw: dict[str, Any], into: dict[str, Any], path: AnswerPath,
            locate: Locate, partners: list[str], outer: dict[str, Any] | None) -> None:
    value = raw.get(q.id)
    if value is None and q.default is not None and qn.visible(q, into, outer):
        value = q.default  # as a phone form fills it in: the person kept the suggested answer
    try:
        parsed = qn.parse(q, value, partners)
    except AnswerError as exc:
        loc, field = locate(path)
        raise AnswersError(str(exc), loc, field) from None
    if parsed is None and q.required and qn.visible(q, into, outer):
        loc, field = locate(path)
        raise AnswersError(f"an answer is needed: {qn.label(q)}", loc, field)
    if parsed is not None and q.after and into.get(q.after) is not None and parsed < into[q.after]:
        loc, field = locate(path)
        raise AnswersError(f"{parsed.isoformat()} is before {into[q.after].isoformat()} "
                           f"({qn.label(qn.by_id[q.after]).rstrip('?')}); correct one of the dates", loc, field)
    if parsed is not None:
        into[q.id] = parsed


def make_profile(qn: Questionnaire, answers: dict[str, Any], target: str, header: list[str]) -> tuple[str, LoadedProfile]:
    """The profile's YAML text (questions as comments) and the profile read back from it: what is written is
    what validates."""
    text = profile_yaml(qn, qn.profile(answers), header)
    try:
        return text, profile_from_text(text, target)
    except ProfileError as exc:
        raise AnswersError(f"the answers do not make a valid profile: {exc.message}", Location(target), exc.field) from None


def read_answers_file(qn: Questionnaire, path: str) -> dict[str, Any]:
    """An answers file (YAML or JSON: question ids to answers in words, a repeat as a list of mappings), checked;
    a mistake names the file, line and question id."""
    doc = yamlio.load_file(path, error=AnswersError)
    if not isinstance(doc.data, dict):
        raise AnswersError("expected a mapping of question ids to answers, such as 'partnership_name: ...'",
                           doc.location(()))

    def locate(p: AnswerPath) -> tuple[Location, str]:
        where = ".".join(f"[{x + 1}]" if isinstance(x, int) else str(x) for x in p).replace(".[", "[")
        return doc.location(p), where

    return parse_answers(qn, doc.data, locate)


def slug(name: str) -> str:
    """A file name for a profile, from its name: lower case, words joined by '-'."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text[:60].rstrip("-") or "partnership"


def header_lines(how: str) -> list[str]:
    """The comment at the top of a profile made from answers."""
    return [f"A partnership profile for advisor, {how} on {_dt.date.today().isoformat()}.",
            "Each answer has its question above it; change an answer here, or answer again.",
            "Check it: advisor validate FILE    Advice: advisor evaluate FILE",
            "Editors check it as you type with the schema: advisor schema -o profile.schema.json"]
