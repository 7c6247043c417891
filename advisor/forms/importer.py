"""Profiles from spreadsheets: KoboToolbox and ODK Central exports of the XLSForm (CSV or XLSX, repeats in their own
sheets or files) and a simple CSV or workbook (a row per partnership, a row per partner in a second sheet or file).
One profile per submission; a bad row is an error naming the file, row and column, and the others still import."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from ..errors import AdvisorError, Location, UsageError, did_you_mean
from ..profile.validation import LoadedProfile
from ..yamlio import MAX_FILE_BYTES
from .answers import AnswersError, header_lines, make_profile, parse_answers
from .questionnaire import Questionnaire, Repeat

#: Columns the phone-form servers add to an export; they are not answers.
KOBO_MAIN = ("_id", "_uuid", "_submission_time", "_index")
KOBO_REPEAT = ("_parent_index", "_submission__uuid", "_parent_table_name")
ODK_COLUMNS = ("KEY", "PARENT_KEY", "SubmissionDate", "meta-instanceID", "SubmitterID")
#: The column of a simple partners sheet that names the partnership a row belongs to.
SIMPLE_LINK = "partnership"
#: At most this many rows in one sheet or file.
MAX_ROWS = 100_000


class SpreadsheetError(AdvisorError):
    """A spreadsheet that cannot be imported, or one of its rows."""


@dataclass
class Table:
    """One CSV file or one sheet of a workbook: its header and its rows, with their row numbers."""

    source: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]
    columns: dict[str, int] = field(default_factory=dict)  # question id -> column index
    repeat: Repeat | None = None
    simple: bool = False

    def at(self, row: int, column: int | None, name: str | None = None) -> tuple[Location, str]:
        return Location(self.source, row, None if column is None else column + 1), \
            name or (self.header[column] if column is not None else "")

    def has(self, name: str) -> bool:
        return name in self.header

    def cell(self, values: list[Any], name: str) -> Any:
        i = self.header.index(name)
        return values[i] if i < len(values) else None


@dataclass
class Imported:
    """One submission: where it came from, and its profile text or its error."""

    origin: str
    name: str | None = None
    text: str | None = None
    profile: LoadedProfile | None = None
    error: AdvisorError | None = None


# --------------------------------------------------------------------------- reading files


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def read_tables(path: str) -> list[Table]:
    """Every sheet of a workbook, or the one table of a CSV file (',' ';' or tab separated, UTF-8)."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", Location(path)) from None
    if size > 8 * MAX_FILE_BYTES:
        raise SpreadsheetError(f"is larger than {8 * MAX_FILE_BYTES // 2**20} MiB; split the export", Location(path))
    if path.lower().endswith((".xlsx", ".xlsm")):
        return list(_workbook(path))
    if path.lower().endswith(".csv"):
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read: {exc.strerror or exc}", Location(path)) from None
        return [_csv(path, raw)]
    if path.lower().endswith(".zip"):
        return list(_zip(path))
    raise UsageError("is neither a CSV file (.csv), an Excel workbook (.xlsx) nor a .zip of CSV files; export the "
                     "submissions as one of those", Location(path))


def _zip(path: str) -> Iterator[Table]:
    """The CSV files of a .zip (ODK Central's export), each read within the size limit of an export."""
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(f"cannot be read as a .zip ({exc}); download the export again", Location(path)) from None
    with archive:
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv") and not m.is_dir()]
        if sum(m.file_size for m in members) > 8 * MAX_FILE_BYTES:
            raise SpreadsheetError(f"unpacks to more than {8 * MAX_FILE_BYTES // 2**20} MiB; split the export",
                                   Location(path))
        for member in members:
            with archive.open(member) as fh:
                raw = fh.read(8 * MAX_FILE_BYTES + 1)
            yield _csv(f"{path}[{member.filename}]", raw)


#: A workbook is a .zip of XML files: at most this much XML once unpacked (a small file can unpack to gigabytes).
MAX_UNPACKED = 32 * MAX_FILE_BYTES


def _workbook(path: str) -> Iterator[Table]:
    import zipfile

    from openpyxl import load_workbook  # with defusedxml installed, openpyxl refuses XML entity bombs

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(m.file_size for m in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        unpacked = 0  # openpyxl says below that it is not a workbook
    if unpacked > MAX_UNPACKED:
        raise SpreadsheetError(f"unpacks to more than {MAX_UNPACKED // 2**20} MiB; split the export", Location(path))
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SpreadsheetError(f"cannot be read as an Excel workbook ({type(exc).__name__}); export it again as .xlsx",
                           Location(path)) from None
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header_row = next(rows, None)
            if not header_row:
                continue
            header = [str(h).strip() if h is not None else "" for h in header_row]
            body = []
            for n, values in enumerate(rows, 2):
                if n > MAX_ROWS + 1:
                    raise SpreadsheetError(f"has more than {MAX_ROWS:,} rows; split the export", Location(f"{path}[{sheet.title}]"))
                cells = [_cell(v) for v in values]
                if any(c is not None for c in cells):
                    body.append((n, cells))
            yield Table(f"{path}[{sheet.title}]", header, body)
    finally:
        book.close()


def _csv(path: str, raw: bytes) -> Table:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpreadsheetError("is not UTF-8 text; save the CSV as UTF-8", Location(path, line)) from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader, [])]
        body = []
        for values in reader:
            if reader.line_num > MAX_ROWS + 1:
                raise SpreadsheetError(f"has more than {MAX_ROWS:,} rows; split the export", Location(path))
            cells = [_cell(v) for v in values]
            if any(c is not None for c in cells):
                body.append((reader.line_num, cells))
    except csv.Error as exc:
        raise SpreadsheetError(f"cannot be read as CSV: {exc}", Location(path, reader.line_num)) from None
    return Table(path, header, body)


# --------------------------------------------------------------------------- which question each column holds


def _question_of(header: str, ids: set[str]) -> str | None:
    """The question a column holds: its name after any group prefix ('who/partners/partner_name' in Kobo,
    'who-partnership_name' in ODK Central); None for metadata and the 0/1 columns of each choice."""
    last = re.split(r"[/-]", header)[-1] if header else ""
    return last if last in ids else None


def classify(qn: Questionnaire, table: Table) -> None:
    """Find the question of each column, and whether the table holds partnerships or the items of a repeat."""
    top = {q.id for r, q in qn.questions() if r is None}
    inner = {q.id: r for r, q in qn.questions() if r is not None}
    found: dict[str, int] = {}
    for i, header in enumerate(table.header):
        qid = _question_of(header, top | set(inner))
        if qid is not None and qid not in found:
            found[qid] = i
    table.columns = found
    table.simple = not any(table.has(c) for c in KOBO_MAIN + KOBO_REPEAT + ODK_COLUMNS)
    repeats = {inner[q].repeat for q in found if q in inner}
    if found and all(q in inner for q in found) and len(repeats) == 1:
        table.repeat = qn.repeats[repeats.pop()]
    elif any(q in inner for q in found) and any(q in top for q in found):
        # A flat simple sheet may not mix: the items of a repeat go in their own sheet or file.
        qid = next(q for q in found if q in inner)
        loc, name = table.at(1, found[qid])
        raise SpreadsheetError(f"holds a {inner[qid].item}'s answer beside the partnership's; put the {inner[qid].item}s "
                           f"in their own sheet or file, a row each", loc, name)
    if table.simple:
        known = top | set(inner) | {SIMPLE_LINK}
        for i, header in enumerate(table.header):
            if header and header not in known and _question_of(header, top | set(inner)) is None:
                loc, name = table.at(1, i)
                raise SpreadsheetError(f"is not a question id{did_you_mean(header, known)}", loc, name)
        if table.repeat is not None and not table.has(SIMPLE_LINK):
            loc, _name = table.at(1, None)
            raise SpreadsheetError(f"a sheet of {table.repeat.item}s needs a '{SIMPLE_LINK}' column naming the "
                               "partnership of each row", loc, SIMPLE_LINK)


# --------------------------------------------------------------------------- submissions


def _link_columns(main: Table, child: Table) -> tuple[str, str] | None:
    for parent, own in (("_index", "_parent_index"), ("_uuid", "_submission__uuid"), ("KEY", "PARENT_KEY")):
        if main.has(parent) and child.has(own):
            return parent, own
    if child.has(SIMPLE_LINK) and "partnership_name" in main.columns:
        return main.header[main.columns["partnership_name"]], SIMPLE_LINK
    return None


def _key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()).casefold() if value is not None else ""


def import_files(qn: Questionnaire, paths: list[str]) -> Iterator[Imported]:
    """Every submission of the files as a profile (or the error that stops it), in the order of the main rows."""
    tables: list[Table] = []
    for path in paths:
        for table in read_tables(path):
            classify(qn, table)
            if not table.columns:
                exported = any(table.has(c) for c in ("_uuid", "KEY"))
                if (table.simple and table.rows) or exported:
                    loc, _n = table.at(1, None)
                    raise SpreadsheetError("no column is named by a question id (partnership_name, stage, ...); "
                                           "export with 'XML values and headers', not labels", loc)
                continue
            tables.append(table)
    mains = [t for t in tables if t.repeat is None]
    if not mains:
        raise UsageError("no file or sheet holds the partnerships (a row per submission, with partnership_name)",
                         Location(paths[0] if paths else "<import>"))
    children = [t for t in tables if t.repeat is not None]
    # Each item row goes to its submission; an item whose submission is not there is an error of its own.
    linked: dict[tuple[int, str], dict[str, list[tuple[Table, int, list[Any]]]]] = {}
    owners: dict[int, dict[str, int]] = {}  # main table -> submission key -> its first row
    orphans: list[Imported] = []
    for m, main in enumerate(mains):
        owners[m] = {}
        for row, values in main.rows:
            for child in children:
                link = _link_columns(main, child)
                if link is not None:
                    owners[m].setdefault(_key(main.cell(values, link[0])), row)
    for child in children:
        links = [(m, link) for m, main in enumerate(mains) if (link := _link_columns(main, child)) is not None]
        if not links:
            loc, _n = child.at(1, None)
            raise SpreadsheetError(f"holds {child.repeat.item}s but no column links them to a submission "
                                   f"(_parent_index, _submission__uuid, PARENT_KEY or '{SIMPLE_LINK}')", loc)
        for row, values in child.rows:
            matched = False
            for m, link in links:
                key = _key(child.cell(values, link[1]))
                if key in owners[m]:
                    matched = True
                    linked.setdefault((m, key), {}).setdefault(child.repeat.repeat, []).append((child, row, values))
            if not matched:
                column = child.header.index(links[0][1][1])
                loc, name = child.at(row, column)
                shown = child.cell(values, links[0][1][1])
                orphans.append(Imported(f"{child.source}:{row}", error=SpreadsheetError(
                    f"{str(shown)!r} is not a submission or partnership of {mains[links[0][0]].source}; this "
                    f"{child.repeat.item} is left out", loc, name)))
    for m, main in enumerate(mains):
        for row, values in main.rows:
            duplicate = _duplicate(main, row, values, children, owners[m])
            yield duplicate or _submission(qn, main, m, row, values, children, linked)
    yield from orphans


def _duplicate(main: Table, row: int, values: list[Any], children: list[Table], owners: dict[str, int]) -> Imported | None:
    """A row whose key (a partnership's name, in a simple sheet) is also an earlier row's: its items cannot be told
    apart, so it is an error rather than a profile with another partnership's partners."""
    for child in children:
        link = _link_columns(main, child)
        if link is None:
            continue
        key = _key(main.cell(values, link[0]))
        first = owners.get(key)
        if first is not None and first != row:
            loc, name = main.at(row, main.header.index(link[0]))
            return Imported(f"{main.source}:{row}", error=SpreadsheetError(
                f"row {first} has the same {name}; give each partnership its own name so that its "
                f"{child.repeat.item}s can be told apart", loc, name))
    return None


def _submission(qn: Questionnaire, main: Table, m: int, row: int, values: list[Any], children: list[Table],
                linked: dict) -> Imported:
    origin = f"{main.source}:{row}"
    places: dict[tuple, tuple[Location, str]] = {}
    raw: dict[str, Any] = {}
    for qid, col in main.columns.items():
        value = values[col] if col < len(values) else None
        if value is not None:
            raw[qid] = value
        places[(qid,)] = main.at(row, col)
    keys = set()
    for child in children:
        link = _link_columns(main, child)
        if link is not None:
            keys.add(_key(main.cell(values, link[0])))
    for key in keys:
        for repeat, items in linked.get((m, key), {}).items():
            out = raw.setdefault(repeat, [])
            for child, crow, cvalues in items:
                item = {}
                for qid, col in child.columns.items():
                    value = cvalues[col] if col < len(cvalues) else None
                    if value is not None:
                        item[qid] = value
                    places[(repeat, len(out), qid)] = child.at(crow, col)
                places[(repeat, len(out))] = child.at(crow, None, repeat)
                out.append(item)
    name = raw.get("partnership_name")

    def locate(path: tuple) -> tuple[Location, str]:
        if path in places:
            return places[path]
        if len(path) == 3 and path[:2] in places:
            loc, _n = places[path[:2]]
            return loc, str(path[2])
        return Location(main.source, row), str(path[0])

    try:
        answers = parse_answers(qn, raw, locate, known_only=False)
        text, profile = make_profile(qn, answers, origin, header_lines(
            f"imported from {os.path.basename(main.source)} row {row} by `advisor import`"))
    except AnswersError as exc:
        return Imported(origin, str(name) if name else None, error=exc)
    return Imported(origin, profile.profile.name, text=text, profile=profile)

