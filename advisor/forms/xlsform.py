"""The questionnaire as an XLSForm (survey, choices and settings sheets), the form standard of ODK Collect and
KoboToolbox, so that partnerships can be described on a phone, offline."""

from __future__ import annotations

import io
from typing import Any

from .questionnaire import Question, Questionnaire, Repeat

SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
                  "constraint_message", "appearance", "default")
#: How each type of question is written in XLSForm (choice lists and partner choices are added below).
_TYPES = {"text": "text", "list": "text", "number": "decimal", "whole": "integer", "date": "date"}
LIST_HINT = "One a line, or separated by ;"
PARTNERS_HINT = "Their names as given above, separated by ;"


def choice_list_name(qn: Questionnaire, q: Question) -> str:
    """The XLSForm choice list of a question: its list, with '_dk' / '_na' when it offers "Don't know" /
    "Does not apply"."""
    base = "yes_no" if q.type == "yes_no" else q.choices or ""
    return base + ("_dk" if q.dont_know else "") + ("_na" if q.not_applicable else "")


def _relevant(qn: Questionnaire, q: Question | Repeat) -> str:
    when = q.when
    if when is None:
        return ""
    ref = "${" + when.question + "}"
    if when.answered is not None:
        return f"{ref} != ''" if when.answered else f"{ref} = ''"
    multiple = qn.by_id[when.question].type == "choices"
    parts = [f"selected({ref}, '{v}')" if multiple else f"{ref} = '{v}'" for v in when.is_ or ()]
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _row(qn: Questionnaire, q: Question, repeat: Repeat | None) -> dict[str, str]:
    if q.type in ("yes_no", "choice"):
        kind = f"select_one {choice_list_name(qn, q)}"
    elif q.type == "choices":
        kind = f"select_multiple {choice_list_name(qn, q)}"
    elif q.type == "partner":
        kind = "select_one ${partner_name}"
    elif q.type == "partners":
        kind = "text"  # pyxform cannot yet choose several answers of a repeat: the names, as written
    else:
        kind = _TYPES[q.type]
    item = "${" + repeat.key.id + "}" if repeat is not None and q is not repeat.key else None
    row = {"type": kind, "name": q.id, "label": qn.label(q, item), "hint": qn.help_line(q),
           "relevant": _relevant(qn, q)}
    if q.type == "partners":
        row["hint"] += " " + PARTNERS_HINT
    if q.type == "list":
        row["hint"] += " " + LIST_HINT
        row["appearance"] = "multiline"
    if q.required:
        row["required"] = "yes"
        row["required_message"] = "An answer is needed here."
    if q.default is not None:
        row["default"] = q.default
    constraints, messages = [], []
    if q.minimum is not None:
        constraints.append(f". >= {_number_text(q.minimum)}")
        messages.append(f"Give {_number_text(q.minimum)} or more.")
    if q.after:
        constraints.append(f". >= ${{{q.after}}}")
        messages.append(f"This date is before the answer to: {qn.label(qn.by_id[q.after])}")
    if q.pattern:
        constraints.append(f"regex(., '{q.pattern}')")
        messages.append(q.pattern_message or "This answer is not in the expected form.")
    if constraints:
        row["constraint"] = " and ".join(constraints)
        row["constraint_message"] = " ".join(messages)
    return row


def survey_rows(qn: Questionnaire) -> list[dict[str, str]]:
    """The survey sheet: a group per section, a repeat per partner, goal, risk or KPI."""
    rows: list[dict[str, str]] = []
    for section in qn.sections:
        rows.append({"type": "begin_group", "name": section.id, "label": section.title})
        for entry in section.questions:
            if isinstance(entry, Repeat):
                noun = entry.item[0].upper() + entry.item[1:]
                rows.append({"type": "begin_repeat", "name": entry.repeat, "label": noun,
                             "relevant": _relevant(qn, entry)})
                for q in entry.questions:
                    rows.append(_row(qn, q, entry))
                    reason = q.reason_question()
                    if reason is not None:
                        rows.append(_row(qn, reason, entry))
                rows.append({"type": "end_repeat", "name": entry.repeat})
            else:
                rows.append(_row(qn, entry, None))
                reason = entry.reason_question()
                if reason is not None:
                    rows.append(_row(qn, reason, None))
        rows.append({"type": "end_group", "name": section.id})
    return rows


def choice_rows(qn: Questionnaire) -> list[dict[str, str]]:
    """The choices sheet: every list the survey uses, its choices in words."""
    rows: list[dict[str, str]] = []
    done: set[str] = set()
    for _repeat, q in qn.questions():
        if q.type not in ("yes_no", "choice", "choices"):
            continue
        name = choice_list_name(qn, q)
        if name in done:
            continue
        done.add(name)
        rows += [{"list_name": name, "name": value, "label": label} for value, label in qn.choices(q)]
    return rows


def settings_row(qn: Questionnaire) -> dict[str, str]:
    return {"form_title": qn.title, "form_id": qn.form_id, "version": str(qn.questionnaire_version),
            "instance_name": "${partnership_name}"}


def workbook_bytes(qn: Questionnaire) -> bytes:
    """The XLSForm as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheets: list[tuple[str, tuple[str, ...], list[dict[str, str]]]] = [
        ("survey", SURVEY_COLUMNS, survey_rows(qn)),
        ("choices", ("list_name", "name", "label"), choice_rows(qn)),
        ("settings", ("form_title", "form_id", "version", "instance_name"), [settings_row(qn)]),
    ]
    for n, (title, columns, rows) in enumerate(sheets):
        sheet = book.active if n == 0 else book.create_sheet()
        sheet.title = title
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.get(c, "") or None for c in columns])
        sheet.freeze_panes = "A2"
        for letter, width in zip("ABCDEFGHIJK", (22, 30, 60, 60, 9, 24, 40, 30, 40, 12, 10)):
            sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_dict(qn: Questionnaire) -> dict[str, Any]:
    """The sheets as lists of rows (what `workbook_bytes` writes)."""
    return {"survey": survey_rows(qn), "choices": choice_rows(qn), "settings": [settings_row(qn)]}
