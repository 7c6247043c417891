"""Realistic exports of the generated XLSForm, as KoboToolbox and ODK Central write them, built from the form's own
survey sheet (groups, repeats, select_multiple columns) so that they change when the form does."""

from __future__ import annotations

import csv
import io
import pathlib
import uuid as uuidlib
from typing import Any

from openpyxl import Workbook, load_workbook

from advisor.forms.questionnaire import load_questionnaire
from advisor.forms.xlsform import workbook_bytes


def form_layout() -> dict[str, Any]:
    """From the generated form's survey sheet: each question's groups (section, repeat), its type and, for a
    select_multiple, its choice names."""
    book = load_workbook(io.BytesIO(workbook_bytes(load_questionnaire())), read_only=True)
    survey = list(book["survey"].iter_rows(values_only=True))
    choices = list(book["choices"].iter_rows(values_only=True))
    header = survey[0]
    options: dict[str, list[str]] = {}
    for list_name, name, _label in choices[1:]:
        options.setdefault(list_name, []).append(name)
    stack: list[tuple[str, str]] = []
    questions: dict[str, dict[str, Any]] = {}
    for row in survey[1:]:
        cells = dict(zip(header, row))
        kind, name = cells["type"], cells["name"]
        if kind in ("begin_group", "begin_repeat"):
            stack.append((kind, name))
        elif kind in ("end_group", "end_repeat"):
            stack.pop()
        else:
            repeat = next((n for k, n in reversed(stack) if k == "begin_repeat"), None)
            multiple = kind.startswith("select_multiple ")
            questions[name] = {"groups": [n for _k, n in stack], "repeat": repeat,
                               "options": options[kind.split()[1]] if multiple else None}
    return questions


def _kobo_columns(layout: dict, repeat: str | None) -> list[str]:
    columns = []
    for name, q in layout.items():
        if q["repeat"] != repeat:
            continue
        columns.append("/".join(q["groups"] + [name]))
        for option in q["options"] or ():
            columns.append("/".join(q["groups"] + [name, option]))  # Kobo's 0/1 column per choice
    return columns


def _kobo_values(layout: dict, answers: dict, repeat: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, q in layout.items():
        if q["repeat"] != repeat:
            continue
        value = answers.get(name)
        path = "/".join(q["groups"] + [name])
        out[path] = value
        for option in q["options"] or ():
            out[f"{path}/{option}"] = None if value is None else int(option in str(value).split())
    return out


REPEATS = ("partners", "goals", "risks", "kpis")


def kobo_xlsx(path: pathlib.Path, submissions: list[dict[str, Any]]) -> pathlib.Path:
    """A KoboToolbox XLS export ("XML values and headers", groups in headers with '/'): the main sheet, then a
    sheet per repeat group linked by _parent_index and _submission__uuid."""
    layout = form_layout()
    book = Workbook()
    main = book.active
    main.title = "Partnership profile"
    meta = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
            "__version__", "_tags", "_index"]
    columns = _kobo_columns(layout, None)
    main.append(["start", "end"] + columns + meta)
    sheets = {}
    for repeat in REPEATS:
        sheets[repeat] = book.create_sheet(repeat)
        sheets[repeat].append(_kobo_columns(layout, repeat) + [
            "_index", "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid",
            "_submission__submission_time", "_submission__validation_status", "_submission__notes",
            "_submission__status", "_submission__submitted_by", "_submission___version__", "_submission__tags"])
    counters = {r: 0 for r in REPEATS}
    for n, answers in enumerate(submissions, 1):
        uuid = str(uuidlib.UUID(int=n))
        values = _kobo_values(layout, answers, None)
        main.append(["2026-11-20T09:00:00.000+02:00", "2026-11-20T09:40:00.000+02:00"] + [values[c] for c in columns] + [
            1000 + n, uuid, "2026-11-20T07:41:00", "", "", "submitted_via_web", "cpf_secretary", "vXyZ1", "", n])
        for repeat in REPEATS:
            repeat_columns = _kobo_columns(layout, repeat)
            for item in answers.get(repeat, ()):
                counters[repeat] += 1
                item_values = _kobo_values(layout, item, repeat)
                sheets[repeat].append([item_values[c] for c in repeat_columns] + [
                    counters[repeat], "Partnership profile", n, 1000 + n, uuid, "2026-11-20T07:41:00", "", "",
                    "submitted_via_web", "cpf_secretary", "vXyZ1", ""])
    book.save(path)
    return path


def odk_central_csv(folder: pathlib.Path, submissions: list[dict[str, Any]]) -> list[pathlib.Path]:
    """An ODK Central CSV export (the files of its .zip): groups joined with '-', the repeats in files of their own
    linked by PARENT_KEY, select_multiple answers space-separated."""
    layout = form_layout()
    form = "partnership_profile"
    main_columns = ["SubmissionDate"] + ["-".join(q["groups"] + [n]) for n, q in layout.items() if q["repeat"] is None] \
        + ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
           "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    files = [folder / f"{form}.csv"] + [folder / f"{form}-{r}.csv" for r in REPEATS]
    rows: dict[str, list[list[Any]]] = {r: [] for r in REPEATS}
    main_rows = []
    for n, answers in enumerate(submissions, 1):
        key = f"uuid:{uuidlib.UUID(int=n)}"
        main_rows.append(["2026-11-20T07:41:00.000Z"] + [answers.get(name) for name, q in layout.items()
                                                           if q["repeat"] is None]
                         + [key, key, 5, "cpf-phone", 0, 0, "", "", "collect:abc", 0, "1"])
        for repeat in REPEATS:
            for i, item in enumerate(answers.get(repeat, ()), 1):
                rows[repeat].append([item.get(name) for name, q in layout.items() if q["repeat"] == repeat]
                                    + [key, f"{key}/{repeat}[{i}]"])
    _write_csv(files[0], main_columns, main_rows)
    for repeat, path in zip(REPEATS, files[1:]):
        columns = ["-".join(q["groups"] + [n]) for n, q in layout.items() if q["repeat"] == repeat] + ["PARENT_KEY", "KEY"]
        _write_csv(path, columns, rows[repeat])
    return files


def simple_csv(folder: pathlib.Path, submissions: list[dict[str, Any]]) -> list[pathlib.Path]:
    """The simple format: a row per partnership headed with the question ids, a row per partner in partners.csv
    (and per goal, risk and KPI in goals.csv, risks.csv and kpis.csv), its 'partnership' column naming the
    partnership."""
    layout = form_layout()
    top = [n for n, q in layout.items() if q["repeat"] is None]
    _write_csv(folder / "partnerships.csv", top, [[a.get(n) for n in top] for a in submissions])
    files = [folder / "partnerships.csv"]
    for repeat in REPEATS:
        columns = ["partnership"] + [n for n, q in layout.items() if q["repeat"] == repeat]
        rows = [[a["partnership_name"]] + [item.get(n) for n in columns[1:]] for a in submissions
                for item in a.get(repeat, ())]
        if rows:
            _write_csv(folder / f"{repeat}.csv", columns, rows)
            files.append(folder / f"{repeat}.csv")
    return files


def _write_csv(path: pathlib.Path, columns: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
