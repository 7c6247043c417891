"""Reads profiles from every kind of source into validated profiles with their locations: the one road in.

A source is a YAML file (one profile, or several as documents separated by `---`), one
document of a large YAML file, one line of a JSON Lines file, a dict, or a Profile.
`expand_inputs` turns command-line style arguments (files, folders, globs) into sources;
`read_profiles` reads any source into (name, profile or error) pairs; `load_profile` reads a
source that must hold exactly one profile. The library, the command line and the portfolio's
workers all read through these.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ..errors import AdvisorError, Location, ProfileError, UsageError
from ..words import quoted
from ..yamlio import MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_NUMBER_CHARS, YamlDocument, decode, load_document, load_documents, read_at_most, read_problem, read_text
from .validation import LoadedProfile, validate

#: A folder stands for the files with these endings inside it, at any depth.
PROFILE_SUFFIXES = (".yaml", ".yml")
#: Files with these endings hold one profile (a JSON object) per line.
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
#: A YAML file larger than this is split into its documents before evaluation, so that its
#: profiles are spread over the workers; a smaller one is read whole by one worker.
SPLIT_BYTES = 256 * 1024

# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """Where profiles are read from: a whole YAML file, one document of a large YAML file, or one JSON line.

    `name` is how reports and errors call it: the path, `path#N` for the Nth document of a
    YAML file holding several, `path:LINE` for a line of a JSON Lines file.
    """

    path: str
    kind: str = "file"  # "file" | "document" | "line" | "stdin"
    start: int = 0  # byte range of a document or line
    end: int = 0
    line: int = 1  # the line it starts on
    index: int = 0  # the document's number in its file (from 1)
    data: bytes | None = None  # what standard input held (kind "stdin"), read once by the main process

    @property
    def name(self) -> str:
        if self.kind == "line":
            return f"{self.path}:{self.line}"
        if self.kind == "document":
            return f"{self.path}#{self.index}"
        return self.path


def _order(path: str) -> tuple[str, ...]:
    # Sorting by path parts puts a folder's files and subfolders in name order, as rule folders are read.
    return tuple(os.path.normpath(path).split(os.sep))


def folder_profiles(folder: str) -> list[str]:
    """Every *.yaml and *.yml file inside a folder, at any depth, sorted by path.

    Hidden files and folders (a name starting with a dot) are skipped, and symbolic links to
    folders are not followed (a loop cannot make the walk endless). See _folder_items for the
    folders that cannot be read and the entries that are not regular files.
    """
    return [item for item in _folder_items(folder) if isinstance(item, str)]


def _folder_items(folder: str) -> list[str | AdvisorError]:
    """folder_profiles, with an error in its place for every sub-folder that cannot be read and every
    entry named like a profile that is not a regular file (a FIFO would hang the reader)."""
    found: list[str | AdvisorError] = []

    def unreadable(exc: OSError) -> None:
        found.append(_unreadable_folder(exc, folder))

    for top, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(_regular(os.path.join(top, f)) for f in files
                     if f.endswith(PROFILE_SUFFIXES) and not f.startswith("."))
    return sorted(found, key=_item_order)


def _unreadable_folder(exc: OSError, default: str) -> UsageError:
    why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
    return UsageError(f"cannot read this folder ({why}); the profiles in it are not evaluated",
                      Location(exc.filename or default))


def _regular(path: str) -> str | AdvisorError:
    """path, or an error when it is something other than a regular file (following links); a path that
    cannot be examined is passed on, for the reader to report."""
    try:
        problem = not_regular(os.stat(path))
    except OSError:
        return path
    return ProfileError(f"{problem}; profiles are read from regular files", Location(path)) if problem else path


def _item_order(item: str | AdvisorError) -> tuple[str, ...]:
    return _order(item if isinstance(item, str) else str(item.location.source if item.location else ""))


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def glob_items(pattern: str) -> list[str | AdvisorError]:
    """The files a glob matches, in path order, and an error for each match that is not a regular file.

    Without `**`, as glob.glob. A `**` segment matches folders at any depth but, as a folder
    argument does, never goes through a symbolic link to a folder: a link to a parent folder
    cannot make the walk loop, or count a file many times; a folder it cannot read is an error.
    """
    if "**" not in pattern:
        found: list[str | AdvisorError] = [_regular(p) for p in glob.glob(pattern) if not os.path.isdir(p)]
    else:
        found = _walk_glob(pattern)
    return sorted(dict.fromkeys(found), key=_item_order)


def _walk_glob(pattern: str) -> list[str | AdvisorError]:
    parts = pattern.replace(os.altsep, os.sep).split(os.sep) if os.altsep else pattern.split(os.sep)
    first = next(i for i, part in enumerate(parts) if _has_magic(part))
    root = os.sep.join(parts[:first]) or (os.sep if pattern.startswith(os.sep) else "")
    segments = parts[first:]
    found: list[str | AdvisorError] = []
    seen: set[tuple[str, int]] = set()
    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        folder, i = stack.pop()
        if (folder, i) in seen:
            continue
        seen.add((folder, i))
        segment, last = segments[i], i == len(segments) - 1
        if segment == "**":
            if last:  # 'dir/**' names folders: no files
                continue
            stack.append((folder, i + 1))  # no folder at all
            try:
                with os.scandir(folder or os.curdir) as entries:
                    subfolders = [e.name for e in entries if not e.name.startswith(".")
                                  and e.is_dir(follow_symlinks=False)]
            except OSError as exc:
                if not isinstance(exc, FileNotFoundError):
                    found.append(_unreadable_folder(exc, folder))
                continue
            stack.extend((os.path.join(folder, name), i) for name in subfolders)
            continue
        if not _has_magic(segment):
            path = os.path.join(folder, segment)
            if last:
                if os.path.lexists(path) and not os.path.isdir(path):
                    found.append(_regular(path))
            elif os.path.isdir(path):
                stack.append((path, i + 1))
            continue
        try:
            with os.scandir(folder or os.curdir) as entries:
                names = [e.name for e in entries if fnmatch.fnmatchcase(e.name, segment)
                         and (segment.startswith(".") or not e.name.startswith("."))]
        except OSError:
            continue  # as glob.glob: a folder it cannot list has no matches
        for name in names:
            path = os.path.join(folder, name)
            if last:
                if not os.path.isdir(path):
                    found.append(_regular(path))
            elif os.path.isdir(path):
                stack.append((path, i + 1))
    return found


def expand_inputs(args: Iterable[str | os.PathLike]) -> Iterator[Source | AdvisorError]:
    """The sources named by command-line style arguments, in the order given.

    A folder gives its YAML files (see folder_profiles); an argument that is not a file and
    holds `*`, `?` or `[` is a glob (`**` matches folders at any depth, not through symbolic
    links to folders), giving its matching files in path order. A JSON Lines file (*.jsonl,
    *.ndjson) gives one source per line, and a YAML file over SPLIT_BYTES one source per
    document. A folder without profiles, a glob without matches, a sub-folder that cannot be
    read, an entry that is not a regular file (a FIFO) or a file that cannot be read gives an
    error in its place; a missing profile is passed on (the loader reports it where it stands).
    `-` stands for standard input, read once (a YAML profile, or several as documents), named
    `<stdin>`.
    """
    stdin_read = False
    for arg in args:
        arg = os.fspath(arg)
        if arg == STDIN:
            if stdin_read:
                yield UsageError("standard input ('-') is given twice; it can be read once", Location(STDIN_NAME))
            else:
                stdin_read = True
                yield stdin_source()
            continue
        if os.path.isdir(arg):
            found = _folder_items(arg)
            if not found:
                yield UsageError("no profiles (*.yaml, *.yml) in this folder", Location(arg))
        elif not os.path.exists(arg) and _has_magic(arg):
            found = glob_items(arg)
            if not found:
                yield UsageError("no files match this pattern", Location(arg))
        else:
            yield from file_sources(arg)
            continue
        for item in found:
            if isinstance(item, str):
                yield from file_sources(item)
            else:
                yield item


#: The argument that stands for standard input, and the name its profile is reported under.
STDIN, STDIN_NAME = "-", "<stdin>"


def stdin_source(stream: Any = None) -> Source | AdvisorError:
    """Standard input read whole (within the limit of one file) as a source named `<stdin>`."""
    stream = stream if stream is not None else sys.stdin
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without a descriptor (tests, embedding)
        buffer = getattr(stream, "buffer", None)
        raw = buffer.read(MAX_FILE_BYTES + 1) if buffer is not None else stream.read(MAX_FILE_BYTES + 1)
        raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    else:
        try:
            raw = read_at_most(fd, MAX_FILE_BYTES + 1)
        except OSError as exc:
            return ProfileError(read_problem(exc), Location(STDIN_NAME))
    if len(raw) > MAX_FILE_BYTES:
        return ProfileError(f"standard input is over the limit of {MAX_FILE_BYTES:,} bytes for one profile file",
                            Location(STDIN_NAME))
    return Source(STDIN_NAME, "stdin", data=raw)


def file_sources(path: str) -> Iterator[Source | AdvisorError]:
    """The sources of one file: one per JSON line, one per document of a large YAML file, else the file."""
    if path.endswith(JSON_LINES_SUFFIXES):
        yield from _json_lines(path)
        return
    try:
        large = os.path.getsize(path) > SPLIT_BYTES
    except OSError:
        large = False  # the worker reports the file as it finds it
    if large:
        documents = _yaml_documents(path)
        if len(documents) > 1 or documents and isinstance(documents[0], AdvisorError):
            yield from documents
            return
    yield Source(path)


#: Lines are read in pieces of this many bytes: a line of any length (a file without a newline, a
#: link to /dev/zero) costs this much memory, not its length.
LINE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class _Line:
    number: int
    offset: int
    length: int
    head: bytes  # its first bytes (up to LINE_CHUNK)
    blank: bool  # nothing but white space

    @property
    def end(self) -> int:
        return self.offset + self.length


def _lines(path: str) -> Iterator[_Line]:
    """The lines of a regular file, each read in pieces of LINE_CHUNK bytes; a file that cannot be read, or is
    not a regular file (a FIFO or a device has no end and cannot be read again by range), is a ProfileError."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ProfileError(read_problem(exc), Location(path)) from None
    with os.fdopen(fd, "rb") as fh:
        problem = not_regular(os.fstat(fd))
        if problem:
            raise ProfileError(f"{problem}; a file of several profiles is read from a regular file (save it to "
                               "one first)", Location(path))
        offset, number = 0, 0
        try:
            while True:
                piece = head = fh.readline(LINE_CHUNK)
                if not piece:
                    return
                number += 1
                length, blank = len(piece), not piece.strip()
                while not piece.endswith(b"\n"):
                    piece = fh.readline(LINE_CHUNK)
                    if not piece:
                        break
                    length += len(piece)
                    blank = blank and not piece.strip()
                yield _Line(number, offset, length, head, blank)
                offset += length
        except OSError as exc:
            raise ProfileError(read_problem(exc), Location(path)) from None


def not_regular(st: os.stat_result) -> str | None:
    """What a file is when it is not a regular file ("is a named pipe (FIFO)", ...), else None."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"is {kind}, not a regular file"


def _too_many(path: str, what: str, line: int) -> ProfileError:
    return ProfileError(f"holds more than {MAX_DOCUMENTS:,} {what}; split it into several files", Location(path, line))


def _json_lines(path: str) -> Iterator[Source | AdvisorError]:
    """One source per line that is not blank; the whole file is listed (at most MAX_DOCUMENTS lines with a
    profile) before any is given, so a file over the limit is refused before any profile is read."""
    sources = []
    try:
        for line in _lines(path):
            if not line.blank:
                if len(sources) == MAX_DOCUMENTS:
                    yield _too_many(path, "profiles (lines)", line.number)
                    return
                sources.append(Source(path, "line", line.offset, line.end, line.number))
    except ProfileError as exc:
        yield exc
        return
    if not sources:
        yield ProfileError("holds no profiles (a JSON Lines file has one profile per line)", Location(path))
    yield from sources


def _is_marker(line: bytes, marker: bytes) -> bool:
    return line.startswith(marker) and (len(line) == 3 or line[3:4] in (b" ", b"\t", b"\r", b"\n"))


def _yaml_documents(path: str) -> list[Source | AdvisorError]:
    """The documents of a YAML file as byte ranges, found without parsing (at most MAX_DOCUMENTS).

    YAML forbids a line that starts with `---` or `...` (then a space or the end of the line)
    anywhere but as a document marker, even inside a quoted or block scalar, so splitting there
    is exact. Comments and directives before a `---` belong to the document it starts.
    """
    start, first_line, content = 0, 1, False
    found: list[Source | AdvisorError] = []

    def add(begin: int, end: int, line: int) -> None:
        if len(found) == MAX_DOCUMENTS:
            raise _too_many(path, "YAML documents ('---')", line)
        found.append(Source(path, "document", begin, end, line, len(found) + 1))

    try:
        end = 0
        for line in _lines(path):
            if _is_marker(line.head, b"---"):
                if content:
                    add(start, line.offset, first_line)
                    start, first_line = line.offset, line.number
                content = True
            elif _is_marker(line.head, b"..."):
                if content:
                    add(start, line.end, first_line)
                start, first_line, content = line.end, line.number + 1, False
            elif not content and not line.blank and not line.head.startswith((b"#", b"%")):
                content = True
            end = line.end
        if content:
            add(start, end, first_line)
    except ProfileError as exc:
        return [exc]
    return found


def _read_range(src: Source) -> bytes:
    size = src.end - src.start
    if size > MAX_FILE_BYTES:
        what = "line" if src.kind == "line" else "document"
        raise ProfileError(f"{what} is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes", Location(src.name))
    try:
        with open(src.path, "rb") as fh:
            fh.seek(src.start)
            return fh.read(size)
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror or exc}", Location(src.path)) from None


# --------------------------------------------------------------------------- reading


def read_profiles(source: Any, rule_ids: set[str] | None = None) -> Iterator[tuple[str, LoadedProfile | AdvisorError]]:
    """(name, validated profile or the error that stops it) for every profile a source holds.

    `source` is a Source, a path (a YAML file, or a JSON Lines file: one profile per line), a
    dict, a Profile or a LoadedProfile. A YAML file holding several documents gives one profile
    per document, named `path#N`, with the file's own line numbers. Waivers are checked against
    rule_ids when given.
    """
    if isinstance(source, LoadedProfile):
        yield source.source, source
    elif _is_profile(source):
        yield "<profile>", LoadedProfile(source, "<profile>")
    elif isinstance(source, dict):
        yield "<dict>", _validate(source, "<dict>", None, rule_ids)
    elif isinstance(source, (str, os.PathLike)):
        for src in _path_sources(os.fspath(source)):
            if isinstance(src, AdvisorError):
                yield str(src.location.source) if src.location else "", src
            else:
                yield from _read_source(src, rule_ids)
    elif isinstance(source, Source):
        yield from _read_source(source, rule_ids)
    else:
        yield "<profile>", ProfileError(f"cannot read a profile from {type(source).__name__}; give a path, a dict or a "
                                        "Profile", Location("<profile>"))


def _is_profile(source: Any) -> bool:
    """Whether source is a Profile (a model): there is none before the models are imported, and reading a file
    does not import them (validation.reading_records)."""
    models = sys.modules.get(f"{__package__}.models")
    return models is not None and isinstance(source, models.Profile)


def load_profile(source: Any, rule_ids: set[str] | None = None) -> LoadedProfile:
    """The one profile a source holds (see read_profiles); a file holding several is an error that says so."""
    if isinstance(source, (str, os.PathLike)) and not os.fspath(source).endswith(JSON_LINES_SUFFIXES):
        name = os.fspath(source)
        return _one_document(read_text(source, name, error=ProfileError), name, rule_ids)
    found = read_profiles(source, rule_ids)
    name, loaded = next(found)
    second = next(found, None)
    if second is not None:
        raise ProfileError("holds more than one profile (one per line); give one profile per file", Location(second[0]))
    if isinstance(loaded, AdvisorError):
        raise loaded
    return loaded


def profile_from_text(text: str, source: str, rule_ids: set[str] | None = None) -> LoadedProfile:
    """Validate a profile given as YAML text holding one document."""
    return _one_document(text, source, rule_ids)


def _one_document(text: str, name: str, rule_ids: set[str] | None) -> LoadedProfile:
    doc = load_document(text, name, ProfileError)
    return validate(doc.data, name, doc, rule_ids)


def _path_sources(path: str) -> Iterator[Source | AdvisorError]:
    """A path read directly: its JSON lines, or the whole file (however large)."""
    if path.endswith(JSON_LINES_SUFFIXES):
        yield from _json_lines(path)
    else:
        yield Source(path)


def _read_source(src: Source, rule_ids: set[str] | None) -> Iterator[tuple[str, LoadedProfile | AdvisorError]]:
    if src.kind == "line":
        yield src.name, _json_line(src, rule_ids)
    elif src.kind == "document":
        yield src.name, _document(src, rule_ids)
    elif src.kind == "stdin":
        yield from _file(src.path, rule_ids, src.data or b"")
    else:
        yield from _file(src.path, rule_ids)


class _Refused(Exception):
    """A JSON value refused as YAML's would be: a duplicate key, a runaway number."""


def _number(parse: Any) -> Any:
    def checked(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_CHARS:
            raise _Refused(f"number {quoted(literal, 20)} is {len(literal):,} characters long, over the limit of "
                           f"{MAX_NUMBER_CHARS}; put it in quotes if it is text", literal)
        return parse(literal)
    return checked


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused(f"duplicate key {quoted(key)}; keep one of them", None)
    return data


def _json_line(src: Source, rule_ids: set[str] | None) -> LoadedProfile | AdvisorError:
    try:
        raw = _read_range(src)
        text = decode(raw, src.name, ProfileError)
        data = json.loads(text, parse_int=_number(int), parse_float=_number(float), object_pairs_hook=_unique)
    except ProfileError as exc:
        if exc.location is not None and exc.location.line is not None:  # not UTF-8: the column is in the line
            return ProfileError(exc.message, Location(src.path, src.line, exc.location.column))
        return exc
    except json.JSONDecodeError as exc:
        return ProfileError(f"invalid JSON: {exc.msg}", Location(src.path, src.line, exc.colno))
    except _Refused as exc:
        message, literal = exc.args
        column = text.find(literal) + 1 if literal else None
        return ProfileError(message, Location(src.path, src.line, column or None))
    except RecursionError:
        return ProfileError("invalid JSON: nested more than the parser allows", Location(src.name))
    except ValueError as exc:  # what json itself cannot build
        return ProfileError(f"invalid JSON: {exc}", Location(src.path, src.line))
    return _validate(data, src.name, None, rule_ids)


def _document(src: Source, rule_ids: set[str] | None) -> LoadedProfile | AdvisorError:
    """One document of a large YAML file, read alone; its lines are the file's own."""
    offset = src.line - 1
    try:
        text = decode(_read_range(src), src.name, ProfileError)
        parsed = next(iter(list(load_documents(text, src.name, ProfileError))), None)
    except ProfileError as exc:
        if exc.location is None or exc.location.line is None or exc.location.source != src.name:
            return exc
        return ProfileError(exc.message, _shifted(exc.location, src.name, offset), exc.field)
    data = parsed.data if parsed is not None else None
    marks = {path: (line + offset, column) for path, (line, column) in parsed.marks.items()} if parsed else {}
    return _validate(data, src.name, YamlDocument(data, src.name, marks), rule_ids)


def _file(path: str, rule_ids: set[str] | None,
          data: bytes | None = None) -> Iterator[tuple[str, LoadedProfile | AdvisorError]]:
    """Every profile of a whole YAML file (or of data already read, named path): one, or one per
    document (`path#N`)."""
    docs: list[YamlDocument] = []
    error: ProfileError | None = None
    try:
        text = read_text(path, error=ProfileError) if data is None else decode(data, path, ProfileError)
        for doc in load_documents(text, path, ProfileError):
            docs.append(doc)
    except ProfileError as exc:
        error = exc
    if len(docs) >= MAX_DOCUMENTS:  # too many documents: the file is refused as a whole
        yield path, error or ProfileError("too many documents", Location(path))
        return
    several = len(docs) + (error is not None) > 1
    if not docs and error is None:
        docs = [YamlDocument(None, path)]  # an empty file: "the profile is empty"
    for n, doc in enumerate(docs, 1):
        name = f"{path}#{n}" if several else path
        yield name, _validate(doc.data, name, YamlDocument(doc.data, name, doc.marks) if several else doc, rule_ids)
    if error is not None:
        if several:  # the document being read when the error came
            name = f"{path}#{len(docs) + 1}"
            yield name, ProfileError(error.message, _shifted(error.location, name, 0), error.field)
        else:
            yield path, error


def _shifted(location: Location, source: str, lines: int) -> Location:
    return Location(source, location.line + lines if location.line is not None else None, location.column)


def _validate(data: Any, name: str, doc: YamlDocument | None, rule_ids: set[str] | None) -> LoadedProfile | ProfileError:
    try:
        return validate(data, name, doc, rule_ids)
    except ProfileError as exc:
        return exc
