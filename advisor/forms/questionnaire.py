"""The questionnaire (knowledge/questionnaire.yaml): loaded and checked against the profile model, answers read
from words, and answers turned into a profile."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import yamlio
from ..errors import KnowledgeError, Location, did_you_mean
from ..knowledge import load_knowledge
from ..profile.models import UNKNOWN, _iso_date
from ..profile.schema import FieldType, profile_type
from ..resources import data_path

#: The answers "Don't know" and "Does not apply", as choice names in every form.
DONT_KNOW = "dont_know"
NOT_APPLICABLE = "not_applicable"
SPECIAL_LABELS = {DONT_KNOW: "Don't know", NOT_APPLICABLE: "Does not apply"}
_SPECIAL_WORDS = {
    DONT_KNOW: {"dont_know", "don't know", "dont know", "do not know", "unknown", "not known", "?"},
    NOT_APPLICABLE: {"not_applicable", "does not apply", "doesn't apply", "not applicable", "n/a", "na"},
}
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}
#: The reason given with a "Does not apply" answer, when none is given.
DEFAULT_REASON = "Answered 'does not apply' in the questionnaire"
#: The question asked after a "Does not apply" answer is named after it with this ending.
REASON_SUFFIX = "_why_not"

QuestionType = Literal["text", "list", "yes_no", "choice", "choices", "number", "whole", "date", "partner", "partners"]
#: What kind of profile field each type of question fills (profile.schema FieldType kinds; a list's item kind).
_FILLS = {"text": ("str", None), "list": ("list", "str"), "yes_no": ("bool", None), "choice": ("enum", None),
          "choices": ("list", "enum"), "number": ("number", None), "whole": ("int", None), "date": ("date", None),
          "partner": ("str", None), "partners": ("list", "str")}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class QuestionnaireError(KnowledgeError):
    """The questionnaire file holds a mistake."""


class AnswerError(ValueError):
    """An answer that cannot be read; its message says what to write instead."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """Asked only when an earlier answer is one of some values, or is (not) given."""

    question: str
    is_: Optional[tuple[str, ...]] = Field(None, alias="is")
    answered: Optional[bool] = None

    def holds(self, answers: dict[str, Any]) -> bool:
        value = answers.get(self.question)
        if self.answered is not None:
            return (value is not None) == self.answered
        if value is None:
            return False
        return any(v in self.is_ for v in (value if isinstance(value, list) else [value]))


class Question(_Strict):
    """One question: its wording and help, the field it fills, its choices and when it is asked."""

    id: str
    field: Optional[str] = None
    type: QuestionType
    ask: str
    help: str = ""
    guide: str = ""
    choices: Optional[str] = None
    dont_know: bool = False
    not_applicable: Optional[str] = None
    required: bool = False
    default: Optional[str] = None
    minimum: Optional[float] = None
    pattern: Optional[str] = None
    pattern_message: Optional[str] = None
    after: Optional[str] = None
    inverse: Optional[str] = None
    names_partners: bool = False
    when: Optional[Condition] = None

    @field_validator("guide", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.guide.split(",") if r.strip())

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split(".")) if self.field else ()

    def reason_question(self) -> "Question | None":
        """The question asked after "Does not apply": why it does not apply."""
        if not self.not_applicable:
            return None
        return Question(id=self.id + REASON_SUFFIX, type="text", ask="Why does this not apply?",
                        help="The report shows the reason beside the step it skips.", guide=self.not_applicable,
                        when=Condition(question=self.id, **{"is": (NOT_APPLICABLE,)}))


class Repeat(_Strict):
    """Questions asked once per partner, goal, risk or KPI."""

    repeat: str
    field: str
    item: str
    min: int = 0
    another: str
    id_prefix: Optional[str] = None
    when: Optional[Condition] = None
    questions: tuple[Question, ...]

    @property
    def id(self) -> str:
        return self.repeat

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))

    @property
    def key(self) -> Question:
        """The question that names an item (a partner's name, a goal's statement, ...)."""
        return self.questions[0]


Entry = Union[Repeat, Question]


class Section(_Strict):
    """A group of questions a committee recognises (who is involved, purpose and goals, ...)."""

    id: str
    title: str
    guide: str = ""
    questions: tuple[Entry, ...]

    @field_validator("questions", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [Repeat.model_validate(v) if isinstance(v, dict) and "repeat" in v else Question.model_validate(v)
                for v in value]


class Questionnaire(_Strict):
    """The whole questionnaire, in the guide's order."""

    questionnaire_version: int
    title: str
    form_id: str
    choice_lists: dict[str, dict[str, str]]
    sections: tuple[Section, ...]
    not_asked: dict[str, str] = {}

    # -------------------------------------------------------------- walking it

    def entries(self) -> Iterator[tuple[Section, Entry]]:
        for section in self.sections:
            for entry in section.questions:
                yield section, entry

    def questions(self) -> Iterator[tuple[Repeat | None, Question]]:
        """Every question, with the repeat it belongs to; a "Does not apply" reason right after its question."""
        for _section, entry in self.entries():
            inner = entry.questions if isinstance(entry, Repeat) else (entry,)
            for q in inner:
                yield (entry if isinstance(entry, Repeat) else None), q
                reason = q.reason_question()
                if reason is not None:
                    yield (entry if isinstance(entry, Repeat) else None), reason

    @functools.cached_property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for _r, q in self.questions()}

    @functools.cached_property
    def repeats(self) -> dict[str, Repeat]:
        return {e.repeat: e for _s, e in self.entries() if isinstance(e, Repeat)}

    def repeat_of(self, question_id: str) -> Repeat | None:
        for repeat, q in self.questions():
            if q.id == question_id:
                return repeat
        return None

    def choices(self, q: Question) -> list[tuple[str, str]]:
        """(name, words) of every answer a choice or yes/no question offers, "Don't know" and "Does not apply" last."""
        if q.type == "yes_no":
            base = list(self.choice_lists["yes_no"].items())
        elif q.type in ("choice", "choices"):
            base = list(self.choice_lists[q.choices or ""].items())
        else:
            base = []
        if q.dont_know:
            base.append((DONT_KNOW, SPECIAL_LABELS[DONT_KNOW]))
        if q.not_applicable:
            base.append((NOT_APPLICABLE, SPECIAL_LABELS[NOT_APPLICABLE]))
        return base

    def covered_fields(self) -> list[str]:
        """The profile fields the questions fill, as 'purpose.statement' or 'partners[].sector'."""
        out = []
        for repeat, q in self.questions():
            if q.field is None:
                continue
            if q.inverse:
                out.append(f"{q.inverse}[].{q.field}")
            elif repeat is not None:
                out.append(f"{repeat.field}[].{q.field}")
            else:
                out.append(q.field)
        out += [r.field for r in self.repeats.values()]
        return out

    def label(self, q: Question, item: str | None = None) -> str:
        """The question's wording, with {item} as the item's name (or "this partner" etc. when there is none)."""
        repeat = self.repeat_of(q.id)
        if item and repeat is not None and repeat.repeat != "partners":
            item = "\u201c" + (item if len(item) <= 50 else item[:49] + "\u2026") + "\u201d"
        text = q.ask.replace("{item}", item or (f"this {repeat.item}" if repeat else "it"))
        return text[0].upper() + text[1:] if text else text

    def help_line(self, q: Question) -> str:
        """The one-line help: the guide sections it comes from, by number and title, then what the guide says."""
        kb = load_knowledge()
        refs = "; ".join(f"{ref} {kb.sections[ref].title}" for ref in q.refs if ref in kb.sections)
        return f"Guide {refs}: {q.help}" if refs else q.help

    # -------------------------------------------------------------- reading answers

    def parse(self, q: Question, raw: Any, partners: list[str] | None = None, by_number: bool = False) -> Any:
        """An answer in words (or as a YAML/JSON value) as the questionnaire's value: a choice name ("yes",
        "dont_know", "mou"), a list of names, text, a list of texts, a number or a date. None for no answer.
        Raises AnswerError saying what to write."""
        if raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
            return None
        if q.type in ("yes_no", "choice"):
            return self._one_choice(q, raw, by_number)
        if q.type == "choices":
            return self._many_choices(q, raw, by_number)
        if q.type == "text":
            text = _text(raw)
            special = self._special(q, text)
            if special:
                return special
            if q.pattern and not re.fullmatch(q.pattern, text):
                raise AnswerError(q.pattern_message or f"{text!r} is not in the expected form")
            return text
        if q.type == "list":
            items = [_text(v) for v in raw] if isinstance(raw, list) else re.split(r"\s*(?:;|\n)\s*", _text(raw))
            return [i for i in (s.strip() for s in items) if i] or None
        if q.type in ("number", "whole"):
            number = _number(raw, whole=q.type == "whole")
            if q.minimum is not None and number < q.minimum:
                raise AnswerError(f"{_shown(raw)} is less than {_num_text(q.minimum)}; give {_num_text(q.minimum)} or more")
            return number
        if q.type == "date":
            if isinstance(raw, datetime):
                if raw.time() != datetime.min.time():
                    raise AnswerError(f"expected a date without a time, got {raw.isoformat(sep=' ')}")
                raw = raw.date()
            if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?", raw.strip()):
                raw = raw.strip()[:10]
            try:
                return _iso_date(raw)
            except ValueError as exc:
                raise AnswerError(str(exc)) from None
        if by_number and q.type in ("partner", "partners") and isinstance(raw, str):
            numbers = re.split(r"[\s;,]+", raw.strip())
            if all(n.isdigit() and 1 <= int(n) <= len(partners or ()) for n in numbers):
                chosen = [(partners or [])[int(n) - 1] for n in numbers]
                if q.type == "partner" and len(chosen) == 1:
                    return chosen[0]
                if q.type == "partners":
                    return list(dict.fromkeys(chosen))
        if q.type == "partner":
            return _partner(_text(raw), partners or [])
        if q.type == "partners":
            return _partner_list(raw, partners or [])
        raise AnswerError(f"cannot read an answer of type {q.type}")  # pragma: no cover - types are checked at load

    def _special(self, q: Question, text: str) -> str | None:
        word = " ".join(text.lower().split())
        for name, words in _SPECIAL_WORDS.items():
            offered = q.dont_know if name == DONT_KNOW else bool(q.not_applicable)
            if offered and word in words:
                return name
        return None

    def _one_choice(self, q: Question, raw: Any, by_number: bool) -> str:
        options = self.choices(q)
        if isinstance(raw, bool) and q.type == "yes_no":
            return "yes" if raw else "no"
        text = _text(raw)
        found = _match_choice(text, options, by_number, yes_no=q.type == "yes_no")
        if found is None:
            words = [label for _n, label in options]
            raise AnswerError(f"{_shown(text)} is not one of the answers ({'; '.join(words)})"
                              f"{did_you_mean(text, words)}")
        return found

    def _many_choices(self, q: Question, raw: Any, by_number: bool) -> list[str]:
        options = self.choices(q)
        if isinstance(raw, list):
            attempts = [[_text(v) for v in raw]]
        else:
            text = _text(raw)
            attempts = [[text]] + [re.split(sep, text) for sep in (r"\s*[;\n]\s*", r"\s*,\s*", r"\s+")]
        for tokens in attempts:
            tokens = [t for t in tokens if t.strip()]
            found = [_match_choice(t, options, by_number) for t in tokens]
            if tokens and all(f is not None for f in found):
                return list(dict.fromkeys(found))
        words = [label for _n, label in options]
        bad = next((t for t in attempts[-1 if not isinstance(raw, list) else 0]
                    if t.strip() and _match_choice(t, options, by_number) is None), _text(raw))
        raise AnswerError(f"{_shown(bad)} is not one of the answers ({'; '.join(words)}); separate several with ';'"
                          f"{did_you_mean(bad, words)}")

    # -------------------------------------------------------------- answers to a profile

    def visible(self, q: Question | Repeat, answers: dict[str, Any], outer: dict[str, Any] | None = None) -> bool:
        """Whether a question is asked, given the answers so far (an item's own, then the partnership's)."""
        if q.when is None:
            return True
        scope = {**(outer or {}), **answers}
        return q.when.holds(scope)

    def profile(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The profile (plain data, ready for validation) the answers describe. Answers are the questionnaire's
        values (see parse), by question id; a repeat's are a list of such mappings under the repeat's id."""
        data: dict[str, Any] = {"profile_version": 1}
        skipped: dict[str, str] = {}
        inverse: dict[str, list[str]] = {}  # partner name -> goal ids (objectives)
        inverse_asked = False
        for _section, entry in self.entries():
            if isinstance(entry, Question):
                if self.visible(entry, answers):
                    self._fill(data, entry, answers.get(entry.id), answers, skipped)
                continue
            if not self.visible(entry, answers):
                continue
            items = []
            for n, item_answers in enumerate(answers.get(entry.repeat) or (), 1):
                item: dict[str, Any] = {}
                if entry.id_prefix:
                    item["id"] = f"{entry.id_prefix}{n}"
                for q in entry.questions:
                    if not self.visible(q, item_answers, answers):
                        continue
                    value = item_answers.get(q.id)
                    if q.inverse:
                        if value is not None:
                            inverse_asked = True
                            for name in value:
                                inverse.setdefault(name, []).append(item["id"])
                        continue
                    self._fill(item, q, value, item_answers, skipped)
                if len(item) > (1 if entry.id_prefix else 0):
                    items.append(item)
            if items:
                _put(data, entry.path, items)
        if inverse_asked:
            for partner in data.get("partners", ()):
                partner["objectives"] = inverse.get(partner.get("name"), [])
        if skipped:
            data["not_applicable"] = [{"step": step, "reason": reason} for step, reason in skipped.items()]
        return data

    def _fill(self, data: dict[str, Any], q: Question, value: Any, answers: dict[str, Any], skipped: dict[str, str]) -> None:
        if value is None or q.field is None:
            return
        if value == NOT_APPLICABLE:
            reason = answers.get(q.id + REASON_SUFFIX) or DEFAULT_REASON
            skipped.setdefault(q.not_applicable or "", reason)
            return
        if value == DONT_KNOW:
            if q.type in ("yes_no", "choice"):
                _put(data, q.path, UNKNOWN)
            return
        if q.type == "yes_no":
            value = value == "yes"
        elif isinstance(value, date):
            value = value.isoformat()
        _put(data, q.path, value)


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


# --------------------------------------------------------------------------- reading words


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (date, datetime)):
        return raw.isoformat()
    if isinstance(raw, (list, dict)):
        raise AnswerError("expected one answer, not a list")
    return " ".join(str(raw).split()) if "\n" not in str(raw) else str(raw).strip()


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _num_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _fold(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def _match_choice(text: str, options: list[tuple[str, str]], by_number: bool, yes_no: bool = False) -> str | None:
    word = _fold(text)
    if by_number and word.isdigit() and 1 <= int(word) <= len(options):
        return options[int(word) - 1][0]
    for name, label in options:
        if word in (_fold(name), _fold(label)):
            return name
    names = {name for name, _l in options}
    if yes_no or "yes" in names:
        if word in _YES:
            return "yes"
        if word in _NO:
            return "no"
    for name, words in _SPECIAL_WORDS.items():
        if name in names and word in words:
            return name
    return None


_AMOUNT = re.compile(r"^[-+]?\d+(\.\d+)?$")


def _number(raw: Any, whole: bool) -> int | float:
    if isinstance(raw, bool):
        raise AnswerError(f"expected a number, got {'yes' if raw else 'no'}")
    if isinstance(raw, (int, float)):
        number: int | float = raw
    else:
        text = str(raw).strip()
        compact = re.sub(r"^R\s*", "", text.replace("\u00a0", " "), flags=re.IGNORECASE)
        compact = re.sub(r"(?<=\d) (?=\d{3}\b)", "", compact)  # 450 000: spaces between thousands
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", compact):
            compact = compact.replace(",", "")
        elif re.fullmatch(r"\d+,\d{1,2}", compact):
            compact = compact.replace(",", ".")
        if not _AMOUNT.match(compact) or len(compact) > 30:
            raise AnswerError(f"{_shown(text)} is not a number; write digits only, such as 450000 or 12.5")
        number = float(compact) if "." in compact else int(compact)
    if isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
        raise AnswerError("expected a number")
    if whole:
        if isinstance(number, float):
            if not number.is_integer():
                raise AnswerError(f"{_shown(raw)} is not a whole number; give a whole number such as 7")
            number = int(number)
        if abs(number) > 2**63 - 1:
            raise AnswerError("the number is too large")
    elif isinstance(number, int) and abs(number) > 2**53:
        raise AnswerError("the number is too large")
    return number


def _partner(text: str, partners: list[str]) -> str:
    for name in partners:
        if _fold(name) == _fold(text):
            return name
    listed = "; ".join(partners) if partners else "none named yet"
    raise AnswerError(f"{_shown(text)} is not one of the partners ({listed}){did_you_mean(text, partners)}")


def other_partners(names: list[str], own: str | None, partners: list[str]) -> list[str]:
    """Names of other partners (as a partner's competitors), spelt as the partners are; AnswerError for a name
    that is not one of them."""
    out = []
    for name in names:
        found = _partner(name, [p for p in partners if p != own])
        if found not in out:
            out.append(found)
    return out


def _partner_list(raw: Any, partners: list[str]) -> list[str]:
    if isinstance(raw, list):
        return list(dict.fromkeys(_partner(_text(v), partners) for v in raw))
    text = _text(raw)
    parts = [p for p in re.split(r"\s*[;\n]\s*", text) if p]
    if all(any(_fold(p) == _fold(n) for n in partners) for p in parts):
        return list(dict.fromkeys(_partner(p, partners) for p in parts))
    # A phone form exports several choices separated by spaces, and partner names hold spaces too: take the
    # longest partner name at each place.
    tokens, found, at = text.split(), [], 0
    by_length = sorted(partners, key=lambda n: -len(n.split()))
    while at < len(tokens):
        for name in by_length:
            size = len(name.split())
            if _fold(" ".join(tokens[at:at + size])) == _fold(name):
                found.append(name)
                at += size
                break
        else:
            return [_partner(p, partners) for p in parts]  # raises, naming the first unknown name
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- loading and checking


def questionnaire_file() -> str:
    return str(data_path("knowledge") / "questionnaire.yaml")


@functools.lru_cache(maxsize=4)
def load_questionnaire(path: str | None = None) -> Questionnaire:
    """The questionnaire, checked completely against the profile model and the guide; a mistake is a
    QuestionnaireError naming the file, line and question."""
    path = path or questionnaire_file()
    doc = yamlio.load_file(path, error=QuestionnaireError)
    try:
        questionnaire = Questionnaire.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, str) or p not in ("Question", "Repeat"))
        raise QuestionnaireError(err["msg"], doc.location(loc), ".".join(map(str, loc))) from None
    _check(questionnaire, doc)
    return questionnaire


def _check(qn: Questionnaire, doc: yamlio.YamlDocument) -> None:
    root = profile_type()
    kb = load_knowledge()
    seen: dict[str, tuple] = {}
    filled: set[str] = set()

    def where(si: int, ei: int, qi: int | None = None) -> Location:
        path: tuple = ("sections", si, "questions", ei)
        if qi is not None:
            path += ("questions", qi)
        return doc.location(path)

    def fail(loc: Location, qid: str, message: str) -> QuestionnaireError:
        return QuestionnaireError(message, loc, qid)

    for si, section in enumerate(qn.sections):
        for ei, entry in enumerate(section.questions):
            if isinstance(entry, Repeat):
                node = _node(root, entry.path)
                if node is None or node.kind != "collection":
                    raise fail(where(si, ei), entry.repeat, f"{entry.field!r} is not a list of items in the profile")
                if entry.when:
                    _check_condition(qn, entry.when, seen, where(si, ei), entry.repeat, None)
                seen_inside = dict(seen)
                for qi, q in enumerate(entry.questions):
                    loc = where(si, ei, qi)
                    target = _node(root, (q.inverse, q.field) if q.inverse else (*entry.path, q.field))
                    if q.inverse:
                        inverse = _node(root, (q.inverse,))
                        target = inverse.fields.get(q.field or "") if inverse else None
                    full = f"{q.inverse or entry.field}[].{q.field}"
                    _check_question(qn, q, target, loc, kb, seen_inside, entry.repeat, full, filled)
                    seen_inside[q.id] = (entry.repeat, q)
                for q in entry.questions:
                    seen[q.id] = (entry.repeat, q)
                filled.add(entry.field)
            else:
                loc = where(si, ei)
                _check_question(qn, entry, _node(root, entry.path), loc, kb, seen, None, entry.field or "", filled)
                seen[entry.id] = (None, entry)
    for name, reason in qn.not_asked.items():
        if _node(root, _parts(name)) is None:
            raise QuestionnaireError(f"{name!r} is not a field of the profile", doc.location(("not_asked", name)), "not_asked")
        if name in filled:
            raise QuestionnaireError(f"{name!r} is asked by a question; take it out of not_asked",
                                     doc.location(("not_asked", name)), "not_asked")
        if not reason.strip():
            raise QuestionnaireError("say why the field is not asked", doc.location(("not_asked", name)), "not_asked")
    for name in ("yes_no",):
        if qn.choice_lists.get(name, {}).keys() != {"yes", "no"}:
            raise QuestionnaireError("the yes_no list must hold exactly 'yes' and 'no'", doc.location(("choice_lists",)))


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.replace("[]", "").split(".") if p)


def _node(root: FieldType, path: tuple[str | None, ...]) -> FieldType | None:
    node: FieldType | None = root
    for part in path:
        if node is None or part is None or part not in node.fields:
            return None
        node = node.fields[part]
    return node


def _check_question(qn: Questionnaire, q: Question, node: FieldType | None, loc: Location, kb: Any,
                    seen: dict[str, tuple], repeat: str | None, full: str, filled: set[str]) -> None:
    def fail(message: str) -> QuestionnaireError:
        return QuestionnaireError(message, loc, q.id)

    if not _ID.match(q.id) or q.id.endswith(REASON_SUFFIX):
        raise fail("a question id is lower-case letters, digits and '_', and does not end in " + REASON_SUFFIX)
    if q.id in seen or q.id in qn.repeats:
        raise fail(f"the id {q.id!r} is used twice")
    if q.field is None or node is None:
        raise fail(f"{full!r} is not a field of the profile")
    if full in filled:
        raise fail(f"{full!r} is filled by another question too")
    filled.add(full)
    kind, item = _FILLS[q.type]
    if node.kind != kind or (item and (node.item is None or node.item.kind != item)):
        raise fail(f"a {q.type} question cannot fill {full!r}, which is {node.describe()}")
    if q.type in ("choice", "choices"):
        if q.choices not in qn.choice_lists:
            raise fail(f"no choice list {q.choices!r}{did_you_mean(str(q.choices), qn.choice_lists)}")
        names = set(qn.choice_lists[q.choices])
        if names != set(node.values):
            missing, extra = set(node.values) - names, names - set(node.values)
            raise fail(f"the choice list {q.choices!r} must hold exactly the profile's values for {full}"
                       + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                       + (f"; not in the profile: {', '.join(sorted(extra))}" if extra else ""))
    elif q.choices:
        raise fail(f"a {q.type} question has no choices")
    for ref in q.refs + ((q.not_applicable,) if q.not_applicable else ()):
        if ref not in kb.sections:
            raise fail(f"guide section {ref!r} is not in the knowledge base{did_you_mean(ref, kb.sections)}")
    if not q.refs or not q.help:
        raise fail("every question needs help text and the guide sections it comes from")
    if q.inverse and (repeat is None or q.type != "partners"):
        raise fail("inverse is for a partners question inside a repeat")
    if q.names_partners and (repeat != "partners" or q.type != "list"):
        raise fail("names_partners is for a list question inside the partners repeat")
    if q.when:
        _check_condition(qn, q.when, seen, loc, q.id, repeat)
    if q.after:
        before = seen.get(q.after)
        if before is None or before[1].type != "date":
            raise fail(f"after must name an earlier date question, not {q.after!r}")
    if q.pattern:
        try:
            re.compile(q.pattern)
        except re.error as exc:
            raise fail(f"the pattern cannot be read: {exc}") from None
    if q.default is not None:
        try:
            qn.parse(q, q.default)
        except AnswerError as exc:
            raise fail(f"the default is not a possible answer: {exc}") from None


def _check_condition(qn: Questionnaire, when: Condition, seen: dict[str, tuple], loc: Location, qid: str,
                     repeat: str | None) -> None:
    earlier = seen.get(when.question)
    if earlier is None:
        raise QuestionnaireError(f"'when' names {when.question!r}, which is not a question asked before this one", loc, qid)
    if earlier[0] is not None and earlier[0] != repeat:
        raise QuestionnaireError(f"'when' names {when.question!r}, a question of another repeat", loc, qid)
    if (when.is_ is None) == (when.answered is None):
        raise QuestionnaireError("'when' takes either 'is' (a list of answers) or 'answered' (true or false)", loc, qid)
    if when.is_ is not None:
        names = {n for n, _l in qn.choices(earlier[1])}
        for value in when.is_:
            if value not in names:
                raise QuestionnaireError(f"'when' expects {value!r}, which {when.question} does not offer"
                                         f"{did_you_mean(value, names)}", loc, qid)


@dataclass(frozen=True)
class Answered:
    """One answer as a person reads it: the question's words and the answer's."""

    question: str
    answer: str


def answer_words(qn: Questionnaire, q: Question, value: Any) -> str:
    """An answer in the questionnaire's words (choice labels, items joined by '; ')."""
    if value is None:
        return ""
    labels = dict(qn.choices(q))
    if isinstance(value, list):
        return "; ".join(labels.get(v, str(v)) if isinstance(v, str) else str(v) for v in value)
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, date):
        return value.isoformat()
    return _num_text(value) if isinstance(value, float) else str(value)
