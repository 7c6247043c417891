"""Safe YAML reading that remembers the line and column of every node (the only module importing yaml).

Two roads give the same data and line marks. A text of at most FAST_CHARS without tags or aliases
(every real profile) takes the fast road: the parser's events are read by a lean recursive walk that
gives up on anything unusual (a duplicate or merge key, a runaway number, deep nesting, a value it
cannot build, any parser error) and leaves the text to the careful road, which alone writes errors.
The careful road turns the parser's events into plain Python data without building PyYAML's node graph: nesting,
size and aliases are checked as the events arrive, so a hostile file (an alias bomb, thousands of
nested brackets, a runaway number) is refused within bounded time and memory. Only plain values,
lists and mappings are built; a tag that would construct anything else is an error. Mapping keys
are read as the text written (`true:` is the key 'true', `1:` the key '1').
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from .errors import AdvisorError, Location, YamlError
from .words import path_text, quoted

try:  # libyaml's parser is ten times faster; the pure-Python one is a fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: Files larger than this are refused before parsing: a real profile is a few KiB, and
#: 5,000 partners with a name and a sector take about 220 KiB.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Mappings and lists nested deeper than this are refused (a profile needs 4 levels, a rule file about 10).
MAX_DEPTH = 64
#: Values in one document, counting each alias as the size of what it stands for (stops "billion laughs").
MAX_NODES = 250_000
#: Documents in one YAML stream (and profiles in one JSON Lines file): a file holding more is refused.
MAX_DOCUMENTS = 100_000
#: A number written with more characters than this is refused (big or sexagesimal numbers cost time to build).
MAX_NUMBER_CHARS = 100

_TAG = "tag:yaml.org,2002:"
#: How YAML 1.1 writes numbers in base 60 (1:30), 16 (0x1F), 8 (012) and 2 (0b101).
_OTHER_BASE = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|0x[0-9a-fA-F_]+|0[0-7_]+|0b[01_]+)$")
_STANDARD_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}
#: Tags the resolver gives to plain `<<` and `=`; as values they are just text.
_TEXT_TAGS = {_TAG + "merge", _TAG + "value"}

Path = tuple  # a tuple of mapping keys (str) and list indices (int)

#: Texts up to this many characters, without tags ('!') or aliases ('*'), take the fast road; their values are
#: bounded by their size (no alias can repeat a part of them).
FAST_CHARS = 256 * 1024


@dataclass(frozen=True)
class Reading:
    """What is being read, for its errors: the name of its source and the error class of its kind
    (ProfileError for a profile, RuleError for a rule file, ...), so no caller re-wraps an error."""

    source: str
    error: type[AdvisorError] = YamlError

    def fail(self, message: str, line: int | None = None, column: int | None = None,
             field: str | None = None) -> AdvisorError:
        return self.error(message, Location(self.source, line, column), field if self.error.yaml_field else None)


@dataclass
class YamlDocument:
    """A parsed YAML document: plain Python data plus the location of every path in it."""

    data: Any
    source: str
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: Path) -> Location:
        """The location of a path, or of its nearest parent that has one."""
        path = tuple(path)
        while True:
            mark = self.marks.get(path)
            if mark is not None:
                return Location(self.source, mark[0], mark[1])
            if not path:
                return Location(self.source)
            path = path[:-1]

    def line(self, path: Path) -> int | None:
        return self.location(path).line


def read_text(path: str | os.PathLike, source: str | None = None, max_bytes: int = MAX_FILE_BYTES,
              error: type[AdvisorError] = YamlError) -> str:
    """Read a file as UTF-8 text (a byte-order mark is allowed), refusing files over max_bytes."""
    reading = Reading(source or str(path), error)
    try:
        # Opened without blocking: a FIFO without a writer must not hang the reader (it reads as empty).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise reading.fail(read_problem(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise reading.fail("is a folder, not a file")
        if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
            raise reading.fail(
                f"file is {st.st_size:,} bytes, over the limit of {max_bytes:,} bytes for one file; "
                "a profile is a few KiB: split the file or remove what does not belong in it"
            )
        if not stat.S_ISREG(st.st_mode) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a pipe or device named explicitly is read as `cat` would, within the limit
        # A regular file is read in one piece of its size (+1 to see whether it grew): a buffer of the limit's
        # size would be mapped and unmapped for every small file.
        raw = read_at_most(fd, max_bytes + 1, st.st_size + 1 if stat.S_ISREG(st.st_mode) else 1 << 20)
    except OSError as exc:
        raise reading.fail(read_problem(exc)) from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:  # the file grew while it was read (or is a device or pipe)
        raise reading.fail(f"file is over the limit of {max_bytes:,} bytes for one file")
    return _decode(raw, reading)


def read_at_most(fd: int, limit: int, first: int = 1 << 20) -> bytes:
    """At most limit bytes from fd, asking for `first` bytes first and then for pieces of 1 MiB."""
    chunks, size, piece = [], 0, max(first, 1)
    while size < limit:
        chunk = os.read(fd, min(limit - size, piece))
        piece = 1 << 20
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; a profile nests 4 levels at most: check for unclosed brackets"


def read_problem(exc: OSError) -> str:
    """What went wrong opening or reading a file, in the words every reader of files uses."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied; check that you may read the file"
    return f"cannot read: {exc.strerror or exc}"


def decode(raw: bytes, source: str, error: type[AdvisorError] = YamlError) -> str:
    """Bytes as UTF-8 text (a byte-order mark is dropped); other encodings are an error that says what to do."""
    return _decode(raw, Reading(source, error))


def _decode(raw: bytes, reading: Reading) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise reading.fail("the file is UTF-16 text; save it as UTF-8", 1, 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1: exc.start].decode("utf-8", "replace")) + 1
        raise reading.fail(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8 (is it a YAML file at all?)",
            line, col,
        ) from None


def _loader(text: str, reading: Reading) -> Any:
    try:
        return _Loader(text)
    except UnicodeEncodeError as exc:  # a lone surrogate, from text that did not come from a file
        before = text[: exc.start]
        raise reading.fail(
            f"character U+{ord(text[exc.start]):04X} cannot be stored as UTF-8; remove it",
            before.count("\n") + 1, exc.start - (before.rfind("\n") + 1) + 1,
        ) from None


def load_documents(text: str, source: str, error: type[AdvisorError] = YamlError) -> Iterator[YamlDocument]:
    """Parse every YAML document in text, yielding each with its marks."""
    reading = Reading(source, error)
    _count_documents(text, reading)
    fast = _fast_documents(text, source)
    if fast is not None:
        yield from fast
        return
    loader = _loader(text, reading)
    try:
        events = _Events(loader, text, reading)
        events.next()  # the stream start
        count = 0
        while not isinstance(events.peek(), yaml.StreamEndEvent):
            start = events.next()  # the document start
            count += 1
            if count > MAX_DOCUMENTS:
                raise reading.fail(f"holds more than {MAX_DOCUMENTS:,} YAML documents ('---'); split it into several files",
                                   start.start_mark.line + 1, start.start_mark.column + 1)
            document = _Composer(loader, events, reading).document()
            events.next()  # the document end
            yield document
    finally:
        loader.dispose()


#: A line that starts a YAML document: YAML allows `---` at the start of a line nowhere else.
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)


def _count_documents(text: str, reading: Reading) -> None:
    """Refuse a stream of more than MAX_DOCUMENTS documents before parsing any (parsing each costs time)."""
    if text.count("---") <= MAX_DOCUMENTS:
        return
    for n, match in enumerate(_DOCUMENT_START.finditer(text), 1):
        if n > MAX_DOCUMENTS + 1:  # the first document may lack its '---'
            before = text[: match.start()]
            raise reading.fail(f"holds more than {MAX_DOCUMENTS:,} YAML documents ('---'); split it into several files",
                               before.count("\n") + 1, 1)


def load_document(text: str, source: str, error: type[AdvisorError] = YamlError) -> YamlDocument:
    """Parse text holding at most one YAML document; an empty text gives data None."""
    fast = _fast_documents(text, source)
    if fast is not None and len(fast) <= 1:
        return fast[0] if fast else YamlDocument(None, source)
    reading = Reading(source, error)
    loader = _loader(text, reading)
    try:
        events = _Events(loader, text, reading)
        events.next()
        if isinstance(events.peek(), yaml.StreamEndEvent):
            return YamlDocument(None, source)
        events.next()
        document = _Composer(loader, events, reading).document()
        events.next()
        second = events.peek()
        if not isinstance(second, yaml.StreamEndEvent):
            mark = second.start_mark
            raise reading.fail("holds more than one YAML document ('---'); give one profile per file",
                               mark.line + 1, mark.column + 1)
        return document
    finally:
        loader.dispose()


def load_file(path: str | os.PathLike, source: str | None = None, error: type[AdvisorError] = YamlError) -> YamlDocument:
    """Read and parse one YAML file."""
    source = source or str(path)
    return load_document(read_text(path, source, error=error), source, error)


# --------------------------------------------------------------------------- the fast road


class _GiveUp(Exception):
    """The fast road met something only the careful road decides (or words as an error)."""


_STR, _INT, _FLOAT, _NULL, _BOOL = (_TAG + name for name in ("str", "int", "float", "null", "bool"))
_TIMESTAMP = _TAG + "timestamp"
#: The implicit resolvers of a plain scalar, by its first character (as the loader's resolve() finds them).
_WILDCARD = list(_Loader.yaml_implicit_resolvers.get(None, ()))
_RESOLVERS: dict[Any, list] = {k: list(v) + _WILDCARD for k, v in _Loader.yaml_implicit_resolvers.items() if k is not None}
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


#: Characters YAML allows in a text, less those the block road leaves to the parser: tabs, carriage returns, the
#: byte-order mark and the line breaks NEL, U+2028 and U+2029 (the parser counts lines and columns across them).
_NOT_BLOCK_PATTERN = "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
#: The same characters in an ASCII text, as the bytes to delete from it (bytes.translate): what is left is outside. The
#: full class takes ~8 ms to compile (a bitmap of the whole of Unicode), ~2% of a command's start: it is compiled when a
#: text that is not ASCII first comes; and deleting bytes costs a tenth of a regex search over the text.
_BLOCK_ASCII = bytes([10, *range(0x20, 0x7F)])


@functools.cache
def _not_block() -> re.Pattern:
    return re.compile(_NOT_BLOCK_PATTERN)


def _outside_block(text: str) -> bool:
    """Whether the text holds a character the block road leaves to the parser."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _BLOCK_ASCII))
    return _not_block().search(text) is not None


#: Every line of a text (re.MULTILINE): its indentation, a sequence dash and the spaces after it (not ending the line),
#: a plain mapping key (a name such as `partners` or `budget_committed`) with its colon and the spaces after it; then
#: the rest of the line. (Possessive repeats: none could give back a character that lets the rest match otherwise, so
#: they only save the engine trying. A group of all before the rest, which only a flow list's column needs, would cost
#: the engine a fifth more on every line: that column is measured on the flow list's line instead.)
_LINES = re.compile(r"^( *+)(- +(?=[^ \n]))?(?:([A-Za-z_][A-Za-z0-9_-]{0,200}+):(?: ++|$))?(.*+)$", re.MULTILINE)
#: A quoted scalar that ends on its line (a double-quoted one without escapes), then at most a comment.
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: *| +#.*)$")
_DOUBLE = re.compile(r'"([^"\\]*)"(?: *| +#.*)$')
_EMPTY_FLOW = re.compile(r"(?:\[\]|\{\})(?: *| +#.*)$")
#: A flow list on one line, such as `[rural, crime_prevention]`, and a plain scalar it may hold (no colon, bracket
#: or comment; not starting with an indicator or a quote).
_FLOW_LIST = re.compile(r"\[([^\[\]{}#]*)\](?: *| +#.*)$")
_FLOW_ITEM = re.compile(r"(?:[^ \-?:,\[\]{}#&*!|>'\"%@`]|-(?=[^ ]))[^:]*")
#: Characters a value cannot start with and still be a plain scalar the block road reads as it stands.
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`-?: ")

#: A row of the block road: (line, column, its sequence dash and the spaces after it or "", its mapping key or "", the
#: rest of the line): the strings of _LINES, measured only where they are used.
_Row = tuple[int, int, str, str, str]


def _block_document(text: str, source: str) -> YamlDocument | None:
    """The block road: a text of one document written as indented `key: value` and `- item` lines (how people and
    YAML dumpers write a profile), read line by line without the parser, with the data and marks the careful road
    would give; None for anything else (a flow collection other than [] and {}, a block or multi-line scalar, an
    anchor, a tag, an escape, a tab, a second document, an error of any kind), which the parser reads."""
    if len(text) > FAST_CHARS or _WILDCARD or _outside_block(text):
        return None  # (a resolver for every first character would make every plain scalar worth resolving)
    # Every line split at once (one regex pass over the text, _LINES) into its indentation, dash, key and rest; blank
    # lines and comments left out. A line without a key or a dash that starts at the margin with `---`, `...` or `%`
    # (a directive, a document start or end) is a row without a key: as the first row, `---` alone is dropped (the
    # document's start); anywhere else such a row ends the mapping it would belong to, and the parser reads the text.
    rows: list[_Row] = [(number, len(indent), dash, key, rest)
                        for number, (indent, dash, key, rest) in enumerate(_LINES.findall(text), 1)
                        if key or dash or rest and rest[0] != "#"]
    if rows and not rows[0][3] and not rows[0][1] and not rows[0][2] and rows[0][4].rstrip(" ") == "---":
        del rows[0]
    if not rows:
        return None
    first = rows[0]
    if first[2] or not first[3]:
        return None  # a list or a plain value: the parser reads it (and the profile's checks word it)
    marks: dict[Path, tuple[int, int]] = {(): (first[0], first[1] + 1)}
    try:
        data, end = _block_map(rows, 0, first[1], (), marks, 1, [text])
    except Exception:  # noqa: BLE001 - _GiveUp, or a value that cannot be built (2026-02-30): the parser words it
        return None
    if end != len(rows):
        return None
    return YamlDocument(data, source, marks)


def _block_map(rows: list[_Row], pos: int, indent: int, path: Path,
               marks: dict[Path, tuple[int, int]], level: int, lines: list[str]) -> tuple[dict[str, Any], int]:
    """The block mapping whose keys start at column `indent` from rows[pos]; the row after it. `lines` holds the text
    (split into its lines by the first flow list, which measures its column on its line)."""
    if level >= MAX_DEPTH:
        raise _GiveUp
    out: dict[str, Any] = {}
    n = len(rows)
    resolvers, known = _RESOLVERS, _PLAIN_CACHE.get
    while pos < n:
        number, col, dash, key, rest = rows[pos]
        if col != indent:
            if col < indent:
                break
            raise _GiveUp  # a continued plain scalar, or an error
        if dash or not key or key in out:
            raise _GiveUp
        here = path + (key,)
        marks[here] = (number, col + 1)
        pos += 1
        if rest:
            # A plain scalar as it stands (the common case), else one to trim or quoted, [] or {}.
            if rest[0] not in _NOT_PLAIN_START and " #" not in rest and ": " not in rest and rest[-1] not in " :":
                if rest[0] not in resolvers:
                    out[key] = rest
                else:  # most such values recur (true, false, numbers): resolved before
                    value = known(rest, _NO_KEY)
                    out[key] = _plain(rest) if value is _NO_KEY else value
                continue
            if rest[0] == "[" and rest[1:2] != "]":
                if len(lines) == 1:  # the text, split now (a text of one line is its only line already)
                    lines[:] = lines[0].split("\n")
                # the rest of a row runs to the end of its line: the column of '[' is the length of what comes before
                out[key] = _flow_list(rest, number, len(lines[number - 1]) - len(rest), here, marks)
                continue
            if rest[0] != "#":
                out[key] = _block_scalar(rest)
                continue
        if pos < n:  # nothing after the colon: a nested block below, or null
            below = rows[pos]
            if below[1] > indent or (below[2] and below[1] == indent):
                if below[2]:
                    out[key], pos = _block_seq(rows, pos, below[1], here, marks, level + 1, lines)
                else:
                    out[key], pos = _block_map(rows, pos, below[1], here, marks, level + 1, lines)
                continue
        out[key] = None
    return out, pos


def _block_seq(rows: list[_Row], pos: int, indent: int, path: Path,
               marks: dict[Path, tuple[int, int]], level: int, lines: list[str]) -> tuple[list[Any], int]:
    """The block sequence whose dashes are at column `indent` from rows[pos]; the row after it."""
    if level >= MAX_DEPTH:
        raise _GiveUp
    items: list[Any] = []
    n = len(rows)
    while pos < n:
        number, col, dash, key, rest = rows[pos]
        if col != indent:
            if col < indent:
                break
            raise _GiveUp
        if not dash:
            break  # the next key of the mapping this sequence is the value of (written without indenting it)
        start = col + len(dash)
        here = path + (len(items),)
        marks[here] = (number, start + 1)
        if key:
            rows[pos] = (number, start, "", key, rest)
            item, pos = _block_map(rows, pos, start, here, marks, level + 1, lines)
        elif not rest or rest[0] == "#":
            raise _GiveUp  # the item is on the lines below
        else:
            if rest[0] not in _NOT_PLAIN_START and " #" not in rest and ": " not in rest and rest[-1] not in " :":
                item = rest if rest[0] not in _RESOLVERS else _plain(rest)
            else:
                item = _block_scalar(rest)
            pos += 1
        items.append(item)
    return items, pos


def _flow_list(text: str, number: int, col: int, path: Path, marks: dict[Path, tuple[int, int]]) -> list[Any]:
    """A flow list of plain scalars written on one line from column `col`, such as `[rural, crime_prevention]`."""
    m = _FLOW_LIST.match(text)
    if m is None:
        raise _GiveUp
    items: list[Any] = []
    at = col + 1  # the column just after '['
    for piece in m.group(1).split(","):
        item = piece.strip(" ")
        if not item or _FLOW_ITEM.fullmatch(item) is None:
            raise _GiveUp  # an empty item ([a, , b] or a trailing comma), or one the parser reads otherwise
        marks[path + (len(items),)] = (number, at + len(piece) - len(piece.lstrip(" ")) + 1)
        items.append(_plain(item))
        at += len(piece) + 1
    return items


def _block_scalar(text: str) -> Any:
    """The value written on the rest of a line (not empty, not a comment)."""
    c = text[0]
    if c == "'":
        m = _SINGLE.match(text)
        if m is None:
            raise _GiveUp
        return m.group(1).replace("''", "'")
    if c == '"':
        m = _DOUBLE.match(text)
        if m is None:
            raise _GiveUp
        return m.group(1)
    if c in "-?:":
        if len(text) == 1 or text[1] == " ":
            raise _GiveUp
    elif c in _NOT_PLAIN_START:
        if c in "[{" and _EMPTY_FLOW.match(text) is not None:
            return [] if c == "[" else {}
        raise _GiveUp
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut]
    text = text.rstrip(" ")
    if text[-1] == ":" or ": " in text:
        raise _GiveUp
    return _plain(text)


def _fast_documents(text: str, source: str) -> list[YamlDocument] | None:
    """Every document of text with its marks, as the careful road would give them; None when the careful road
    must read it (too large, a tag or an alias, an error, anything it refuses or words)."""
    block = _block_document(text, source)
    if block is not None:
        return [block]
    if len(text) > FAST_CHARS or "!" in text or "*" in text:
        return None
    try:
        loader = _Loader(text)
    except Exception:  # noqa: BLE001 - a lone surrogate: the careful road says so
        return None
    try:
        get = loader.get_event
        get()  # the stream start
        docs = []
        while type(get()) is yaml.DocumentStartEvent:
            walker = _Walker(loader)
            data = walker.node(get(), (), 1)
            get()  # the document end
            docs.append(YamlDocument(data, source, walker.marks))
            if len(docs) >= MAX_DOCUMENTS:
                return None
        return docs
    except Exception:  # noqa: BLE001 - _GiveUp, or any parser error: the careful road words it
        return None
    finally:
        loader.dispose()


class _Walker:
    """Plain data and marks from one document's events, giving up wherever the careful road could differ."""

    __slots__ = ("loader", "get", "marks", "nodes")

    def __init__(self, loader: Any):
        self.loader = loader
        self.get = loader.get_event
        self.marks: dict[Path, tuple[int, int]] = {}
        self.nodes = 0

    def node(self, event: Any, path: Path, level: int) -> Any:
        """The value an event starts; its mark is recorded at path unless its mapping key has recorded it."""
        marks = self.marks
        if path not in marks:
            mark = event.start_mark
            marks[path] = (mark.line + 1, mark.column + 1)
        kind = type(event)
        self.nodes += 1
        if kind is yaml.ScalarEvent:
            return self.scalar(event)
        if level > MAX_DEPTH or self.nodes > MAX_NODES:
            raise _GiveUp
        get = self.get
        if kind is yaml.MappingStartEvent:
            out: dict[str, Any] = {}
            while True:
                key_event = get()
                if type(key_event) is not yaml.ScalarEvent:
                    if type(key_event) is yaml.MappingEndEvent:
                        return out
                    raise _GiveUp
                key = key_event.value
                if key in out or (key == "<<" and key_event.implicit[0]):
                    raise _GiveUp
                self.nodes += 1
                mark = key_event.start_mark
                here = path + (key,)
                marks[here] = (mark.line + 1, mark.column + 1)
                out[key] = self.node(get(), here, level + 1)
        if kind is yaml.SequenceStartEvent:
            items: list[Any] = []
            while True:
                event = get()
                if type(event) is yaml.SequenceEndEvent:
                    return items
                items.append(self.node(event, path + (len(items),), level + 1))
        raise _GiveUp  # an alias (the text has no '*', so never)

    def scalar(self, event: Any) -> Any:
        value = event.value
        if not event.implicit[0]:  # quoted, or a block scalar: text
            return value
        return _plain(value)


#: Plain scalars already resolved (only those the resolvers look at; every value is immutable): a profile's values
#: repeat (true, false, sectors, numbers), so most are found here. Emptied when it grows past _PLAIN_LIMIT.
_PLAIN_CACHE: dict[str, Any] = {}
_PLAIN_LIMIT = 4096
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _plain(value: str) -> Any:
    """The value of a plain (unquoted) scalar as the careful road builds it; _GiveUp where it would refuse or word it."""
    resolvers = _RESOLVERS.get(value[:1], _WILDCARD or None)
    if resolvers is None:
        return value
    try:
        return _PLAIN_CACHE[value]
    except KeyError:
        pass
    tag = _STR
    for tag_, regexp in resolvers:
        if regexp.match(value):
            tag = tag_
            break
    if tag == _STR or tag in _TEXT_TAGS:
        out: Any = value
    elif tag == _NULL:
        out = None
    elif tag == _BOOL:
        out = _BOOLS[value.lower()]
    else:
        if tag == _INT or tag == _FLOAT:
            if len(value) > MAX_NUMBER_CHARS or _OTHER_BASE.match(value):
                raise _GiveUp
        elif tag != _TIMESTAMP:
            raise _GiveUp
        out = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    if len(_PLAIN_CACHE) >= _PLAIN_LIMIT:
        _PLAIN_CACHE.clear()
    _PLAIN_CACHE[value] = out
    return out


# --------------------------------------------------------------------------- parser errors

#: What to do about the parser's own complaints, matched on its wording.
_HINTS = (
    ("tab character", "indent with spaces, not tabs"),
    ("unknown escape character", "in double quotes write \\\\ for a backslash, or use single quotes"),
    ("Unicode character escape", "in double quotes write \\\\ for a backslash, or use single quotes"),
    ("mapping values are not allowed", "put quotes around a value that contains ': '"),
    ("could not find expected ':'", "write 'key: value' with a space after the colon, or close the quote"),
    ("unexpected end of stream", "a quote or bracket is not closed"),
    ("found unexpected end", "a quote or bracket is not closed"),
    ("cannot start any token", "put quotes around a value that starts with this character"),
    ("did not find expected", "check the indentation and the brackets here"),
    ("expected <block end>", "check the indentation of this line"),
    ("incompatible YAML document", "remove the %YAML line"),
    ("while scanning", "check the quotes and brackets here"),
)


def _hint(problem: str) -> str:
    for needle, hint in _HINTS:
        if needle in problem:
            return hint
    return "check the quotes, brackets and indentation here"


class _Events:
    """The parser's events, with its errors turned into one-line errors of what is being read."""

    def __init__(self, loader: Any, text: str, reading: Reading):
        self.loader = loader
        self.text = text
        self.reading = reading

    def peek(self) -> yaml.Event:
        try:
            return self.loader.peek_event()
        except Exception as exc:  # noqa: BLE001 - every parser failure becomes one of advisor's errors
            raise self._error(exc) from None

    def next(self) -> yaml.Event:
        try:
            return self.loader.get_event()
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> AdvisorError:
        if isinstance(exc, yaml.reader.ReaderError):
            return self._reader_error(exc)
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            if (exc.context and "plain scalar" not in exc.context and exc.context_mark and exc.problem_mark
                    and exc.context_mark.line != exc.problem_mark.line):
                problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
            at = (mark.line + 1, mark.column + 1) if mark else ()
            if "maximum nesting depth" in problem:
                # libyaml 0.2.6 has a nesting limit of its own and, reading ahead, can meet it
                # before advisor's shallower limit does: the same mistake, in the same words.
                return self.reading.fail(_too_deep(), *at)
            return self.reading.fail(f"invalid YAML: {_one_line(problem)}; {_hint(problem)}", *at)
        if isinstance(exc, RecursionError):
            return self.reading.fail("invalid YAML: nested more than the parser allows")
        if isinstance(exc, MemoryError):
            return self.reading.fail("invalid YAML: too large to read")
        return self.reading.fail(f"invalid YAML: {_one_line(str(exc)) or type(exc).__name__}; {_hint(str(exc))}")

    def _reader_error(self, exc: Any) -> AdvisorError:
        # libyaml counts a byte offset in the UTF-8 text, the pure-Python reader a character offset.
        position = exc.position
        if _Loader.__name__.startswith("C"):
            position = len(self.text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        before = self.text[:position]
        line = before.count("\n") + 1
        col = position - (before.rfind("\n") + 1) + 1
        char = exc.character
        what = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        return self.reading.fail(
            f"invalid YAML: control character {what} is not allowed; remove it (is this a YAML text file?)", line, col
        )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --------------------------------------------------------------------------- composing data from events


class _Frame:
    __slots__ = ("value", "path", "anchor", "start", "is_map", "key", "key_mark", "keys", "depth_below")

    def __init__(self, value: Any, path: Path, anchor: str | None, start: int, is_map: bool):
        self.value = value
        self.path = path
        self.anchor = anchor
        self.start = start  # the node count when this collection began
        self.is_map = is_map
        self.key: Any = _NO_KEY
        self.key_mark: tuple[int, int] | None = None
        self.keys: dict[str, tuple[int, int]] = {}
        self.depth_below = 0  # the deepest nesting inside it so far (aliases count their own depth)


_NO_KEY = object()


class _Composer:
    """Builds one document's data from parser events with an explicit stack (no recursion)."""

    def __init__(self, loader: Any, events: _Events, reading: Reading):
        self.loader = loader
        self.events = events
        self.reading = reading
        self.source = reading.source
        self.marks: dict[Path, tuple[int, int]] = {}
        self.nodes = 0
        #: anchor -> (value, number of values it stands for, how deep it nests)
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.open_anchors: set[str] = set()

    def _fail(self, event: yaml.Event, message: str, field: str | None = None) -> AdvisorError:
        mark = event.start_mark
        return self.reading.fail(message, mark.line + 1, mark.column + 1, field)

    def _count(self, n: int, event: yaml.Event) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise self._fail(event, f"the document holds more than {MAX_NODES:,} values (counting what each alias "
                             "repeats); remove repeated aliases or split the file")

    def document(self) -> YamlDocument:
        stack: list[_Frame] = []
        result: Any = None
        done = False
        while not done:
            event = self.events.next()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value, depth = frame.value, frame.depth_below + 1
                if frame.anchor is not None:
                    self.open_anchors.discard(frame.anchor)
                    self.anchors[frame.anchor] = (value, self.nodes - frame.start, depth)
                path, mark = frame.path, None
            else:
                parent = stack[-1] if stack else None
                if parent is not None and parent.is_map and parent.key is _NO_KEY:
                    self._key(parent, event)
                    continue
                path = (parent.path + (parent.key if parent.is_map else len(parent.value),)) if parent else ()
                mark = (event.start_mark.line + 1, event.start_mark.column + 1)
                self.marks.setdefault(path, mark)
                if isinstance(event, yaml.AliasEvent):
                    value, depth = self._alias(event, len(stack))
                elif isinstance(event, yaml.ScalarEvent):
                    self._count(1, event)
                    value, depth = self._scalar(event, path), 0
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, 1, 0)
                elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    stack.append(self._start(event, path, len(stack)))
                    continue
                else:  # pragma: no cover - the parser guarantees node events here
                    raise self._fail(event, "invalid YAML: unexpected content")
            # A value is complete: put it in its parent (or it is the document).
            if not stack:
                result, done = value, True
                continue
            parent = stack[-1]
            parent.depth_below = max(parent.depth_below, depth)
            if len(stack) + depth > MAX_DEPTH:
                raise self._fail(event, _too_deep())
            if parent.is_map:
                parent.value[parent.key] = value
                parent.key = _NO_KEY
            else:
                parent.value.append(value)
        return YamlDocument(result, self.source, self.marks)

    def _start(self, event: Any, path: Path, depth: int) -> _Frame:
        is_map = isinstance(event, yaml.MappingStartEvent)
        if depth + 1 > MAX_DEPTH:
            raise self._fail(event, _too_deep())
        want = _TAG + ("map" if is_map else "seq")
        if event.tag not in (None, "!", want):
            raise self._fail(event, _tag_message(event.tag))
        self._count(1, event)
        frame = _Frame({} if is_map else [], path, event.anchor, self.nodes - 1, is_map)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
            self.anchors.pop(event.anchor, None)
        return frame

    def _alias(self, event: Any, depth: int) -> tuple[Any, int]:
        name = event.anchor
        if name in self.open_anchors:
            raise self._fail(event, f"alias '*{name}' is used inside the value it names; a value cannot contain itself")
        found = self.anchors.get(name)
        if found is None:
            raise self._fail(event, f"alias '*{name}' has no anchor '&{name}' before it; define the anchor first or "
                             "write the value out")
        value, size, nested = found
        self._count(size, event)
        if depth + nested > MAX_DEPTH:
            raise self._fail(event, _too_deep())
        return value, nested

    def _key(self, frame: _Frame, event: Any) -> None:
        if isinstance(event, yaml.AliasEvent):
            raise self._fail(event, "a mapping key must be plain text, not an alias")
        if not isinstance(event, yaml.ScalarEvent):
            raise self._fail(event, "a mapping key must be plain text, not a list or a mapping")
        tag = event.tag
        if tag in (None, "!") and event.implicit[0] and event.value == "<<":
            raise self._fail(event, "merge keys ('<<') are not supported; write the keys out in full")
        if tag not in (None, "!", _TAG + "str"):
            raise self._fail(event, f"a mapping key must be plain text; remove the tag {_short_tag(tag)}")
        self._count(1, event)
        key = event.value
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        first = frame.keys.get(key)
        if first is not None:
            raise self._fail(event, f"duplicate key {quoted(key)} (first at line {first[0]}); keep one of them",
                             path_text(frame.path) or None)
        frame.keys[key] = mark
        frame.key = key
        self.marks[frame.path + (key,)] = mark

    def _scalar(self, event: Any, path: Path) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag in _TEXT_TAGS:
                tag = _TAG + "str"
        if tag not in _STANDARD_TAGS or tag in (_TAG + "map", _TAG + "seq"):
            raise self._fail(event, _tag_message(tag))
        value = event.value
        if tag == _TAG + "str":
            return value
        if tag in (_TAG + "int", _TAG + "float") and len(value) > MAX_NUMBER_CHARS:
            raise self._fail(event, f"number {quoted(value, 20)} is {len(value):,} characters long, over the limit of "
                             f"{MAX_NUMBER_CHARS}; put it in quotes if it is text", path_text(path) or None)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        if tag in (_TAG + "int", _TAG + "float") and event.tag is None and _OTHER_BASE.match(value):
            # YAML 1.1 reads 1:30 as 90 (base 60), 0x1F as 31 and 012 as 10: rarely what was meant.
            meaning = self.loader.yaml_constructors[tag](self.loader, node)
            raise self._fail(event, f"number {quoted(value)} is read by YAML as {meaning}; write {meaning}, or put it "
                             "in quotes if it is text", path_text(path) or None)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except Exception as exc:  # noqa: BLE001 - a bad scalar (2026-02-30, !!int "x") is a user error
            what = _one_line(getattr(exc, "problem", None) or str(exc) or type(exc).__name__)
            if tag == _TAG + "timestamp":
                hint = "; write dates as YYYY-MM-DD"
            elif tag in (_TAG + "int", _TAG + "float"):
                hint = "; write a plain number, or put it in quotes if it is text"
            else:
                hint = f"; remove the tag {_short_tag(tag)}" if event.tag not in (None, "!") else ""
            raise self._fail(event, f"invalid value {quoted(value)}: {what}{hint}", path_text(path) or None) from None


def _short_tag(tag: str) -> str:
    return "'" + tag.replace(_TAG, "!!") + "'"


def _tag_message(tag: str) -> str:
    return f"YAML tag {_short_tag(tag)} is not allowed: only plain values, lists and mappings; remove the tag"
