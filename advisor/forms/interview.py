"""The questionnaire asked one question at a time (for `advisor init`); how a question is shown and read is the
caller's (a terminal, a test)."""

from __future__ import annotations

from typing import Any, Callable, Protocol

from .questionnaire import NOT_APPLICABLE, AnswerError, Question, Questionnaire, Repeat, answer_words, other_partners


class Prompter(Protocol):
    """What an interview needs from a terminal."""

    def section(self, title: str, guide: str) -> None: ...

    def ask(self, text: str, help_line: str, options: list[str], hint: str, default: str | None,
            read: Callable[[str], Any]) -> Any: ...

    def confirm(self, text: str, default: bool) -> bool: ...


def _hint(q: Question, required: bool) -> str:
    skip = "" if required else ", Enter to skip"
    return {
        "yes_no": f"a number or the words{skip}",
        "choice": f"a number or the words{skip}",
        "choices": f"numbers or words, several separated by ';'{skip}",
        "list": f"several separated by ';'{skip}",
        "number": f"digits{skip}",
        "whole": f"a whole number{skip}",
        "date": f"YYYY-MM-DD{skip}",
        "partner": f"a number or the name{skip}",
        "partners": f"numbers or names, several separated by ';'{skip}",
    }.get(q.type, skip.lstrip(", ").capitalize() or "an answer is needed")


def interview(qn: Questionnaire, prompter: Prompter) -> dict[str, Any]:
    """Ask every question that applies, in order, repeats as long as the person adds items; the answers."""
    answers: dict[str, Any] = {}
    partners: list[str] = []
    for section in qn.sections:
        prompter.section(section.title, section.guide)
        for entry in section.questions:
            if isinstance(entry, Repeat):
                if not qn.visible(entry, answers):
                    continue
                items: list[dict[str, Any]] = []
                while True:
                    if len(items) >= entry.min:
                        first = f"Add a {entry.item}?" if not items else entry.another
                        if not prompter.confirm(first, default=not items and entry.min > 0):
                            break
                    item: dict[str, Any] = {}
                    for q in entry.questions:
                        name = item.get(entry.key.id)
                        _ask(qn, prompter, q, item, answers, partners, name if isinstance(name, str) else None,
                             taken=partners if entry.repeat == "partners" and q is entry.key else ())
                    items.append(item)
                    if entry.repeat == "partners":
                        partners.append(item[entry.key.id])
                if entry.repeat == "partners":
                    _check_partner_names(qn, prompter, entry, items, partners)
                answers[entry.repeat] = items
            else:
                _ask(qn, prompter, entry, answers, None, partners, None)
    return answers


def _ask(qn: Questionnaire, prompter: Prompter, q: Question, into: dict[str, Any], outer: dict[str, Any] | None,
         partners: list[str], item: str | None, taken: Any = ()) -> None:
    if not qn.visible(q, into, outer):
        return
    if q.type in ("partner", "partners") and not partners:
        return
    options = [label for _n, label in qn.choices(q)] if q.type in ("yes_no", "choice", "choices") else \
        list(partners) if q.type in ("partner", "partners") else []

    def read(text: str) -> Any:
        value = qn.parse(q, text, partners, by_number=True)
        if value is None and q.required:
            raise AnswerError("an answer is needed")
        if value is not None and value in taken:
            raise AnswerError(f"{value!r} is listed already; give each partner once")
        if value is not None and q.after and into.get(q.after) is not None and value < into[q.after]:
            raise AnswerError(f"that is before {into[q.after].isoformat()}; give a later date")
        return value

    value = prompter.ask(qn.label(q, item), qn.help_line(q), options, _hint(q, q.required), q.default, read)
    if value is not None:
        into[q.id] = value
    reason = q.reason_question()
    if reason is not None and value == NOT_APPLICABLE:
        why = prompter.ask(reason.ask, qn.help_line(reason), [], _hint(reason, False), None,
                           lambda text: qn.parse(reason, text))
        if why:
            into[reason.id] = why


def _check_partner_names(qn: Questionnaire, prompter: Prompter, repeat: Repeat, items: list[dict[str, Any]],
                         partners: list[str]) -> None:
    """Once every partner is named: each name given as another partner's (a competitor) must be a partner's;
    a question with a name that is not is asked again."""
    for item in items:
        own = item.get(repeat.key.id)
        for q in repeat.questions:
            if not q.names_partners or not item.get(q.id):
                continue
            try:
                item[q.id] = other_partners(item[q.id], own, partners)
            except AnswerError:
                others = [p for p in partners if p != own]

                def read(text: str, q: Question = q) -> Any:
                    value = qn.parse(q, text)
                    return other_partners(value, own, partners) if value else None

                value = prompter.ask(qn.label(q, own), "Name them as the partners were named: " + "; ".join(others),
                                     others, _hint(q, False), None, read)
                if value:
                    item[q.id] = value
                else:
                    item.pop(q.id, None)


def summary(qn: Questionnaire, answers: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The answers given, by section, in words: what a person checks before the profile is written."""
    out = []
    for section in qn.sections:
        rows: list[tuple[str, str]] = []
        for entry in section.questions:
            if isinstance(entry, Repeat):
                for n, item in enumerate(answers.get(entry.repeat) or (), 1):
                    name = item.get(entry.key.id, "")
                    rows.append((f"{entry.item[0].upper()}{entry.item[1:]} {n}", str(name)))
                    for q in entry.questions[1:]:
                        if q.id in item:
                            rows.append(("  " + qn.label(q, str(name)), answer_words(qn, q, item[q.id])))
            elif entry.id in answers:
                rows.append((qn.label(entry), answer_words(qn, entry, answers[entry.id])))
                reason = entry.reason_question()
                if reason is not None and reason.id in answers:
                    rows.append(("  " + reason.ask, answers[reason.id]))
        if rows:
            out.append((section.title, rows))
    return out
