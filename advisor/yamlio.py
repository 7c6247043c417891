"""Safe YAML reading that remembers the line and column of every node (the only module importing yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from .errors import Location

try:  # libyaml's parser is ten times faster; the pure-Python one is a fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: Files larger than this are refused before parsing: a real profile is a few KiB.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Mappings and lists nested deeper than this are refused (no profile needs more than 6).
MAX_DEPTH = 64
#: Values in a document, counting each alias as the size of what it stands for (stops "billion laughs").
MAX_NODES = 1_000_000

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}

Path = tuple  # a tuple of mapping keys (str) and list indices (int)


class YamlError(Exception):
    """YAML that cannot be read; carries the location of the problem."""

    def __init__(self, message: str, location: Location, field: str | None = None):
        self.message = message
        self.location = location
        self.field = field
        super().__init__(f"{location}: {field + ': ' if field else ''}{message}")


@dataclass
class Document:
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


def read_text(path: str | os.PathLike, source: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a file as UTF-8 text (a byte-order mark is allowed), refusing files over max_bytes."""
    source = source or str(path)
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise YamlError(
                f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes; split it into smaller files",
                Location(source),
            )
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise YamlError("file not found", Location(source)) from None
    except IsADirectoryError:
        raise YamlError("is a directory, not a file", Location(source)) from None
    except PermissionError:
        raise YamlError("permission denied", Location(source)) from None
    except OSError as exc:
        raise YamlError(f"cannot read: {exc.strerror or exc}", Location(source)) from None
    return decode(raw, source)


def decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
            Location(source, line, col),
        ) from None


def load_documents(text: str, source: str) -> Iterator[Document]:
    """Parse every YAML document in text, yielding each with its marks."""
    loader = _Loader(text)
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                problem = exc.problem or exc.context or "invalid YAML"
                raise YamlError(
                    f"invalid YAML: {problem}", Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
                ) from None
            except yaml.YAMLError as exc:
                raise YamlError(f"invalid YAML: {exc}", Location(source)) from None
            except RecursionError:
                raise YamlError(f"invalid YAML: nested more than the parser allows", Location(source)) from None
            if node is None:
                continue
            yield _Builder(loader, source).document(node)
    finally:
        loader.dispose()


def load_document(text: str, source: str) -> Document:
    """Parse text holding at most one YAML document; an empty text gives data None."""
    docs = load_documents(text, source)
    first = next(docs, None)
    if first is None:
        return Document(None, source)
    second = next(docs, None)
    if second is not None:
        loc = min(second.marks.values(), default=(None, None))
        raise YamlError("holds more than one YAML document ('---'); give one document per file", Location(source, *loc))
    return first


def load_file(path: str | os.PathLike, source: str | None = None) -> Document:
    """Read and parse one YAML file."""
    source = source or str(path)
    return load_document(read_text(path, source), source)


class _Builder:
    def __init__(self, loader: Any, source: str):
        self.loader = loader
        self.source = source
        self.marks: dict[Path, tuple[int, int]] = {}
        self.nodes = 0
        # An alias reuses the value built for its anchor (as PyYAML does) but counts its full size.
        self.built: dict[int, tuple[Any, int]] = {}

    def document(self, node: yaml.Node) -> Document:
        data = self.build(node, (), 0)
        return Document(data, self.source, self.marks)

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        seen = self.built.get(id(node))
        if seen is not None:
            self.nodes += seen[1]
            self._check_size(node)
            return seen[0]
        before = self.nodes
        self.nodes += 1
        self._check_size(node)
        value = self._build(node, path, depth)
        if isinstance(node, yaml.CollectionNode):
            self.built[id(node)] = (value, self.nodes - before)
        return value

    def _check_size(self, node: yaml.Node) -> None:
        if self.nodes > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} values (an alias repeated too often?)", self._loc(node)
            )

    def _build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep", self._loc(node))
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STANDARD_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise YamlError(f"YAML tag '{tag}' is not allowed: only plain values, lists and mappings", self._loc(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _STANDARD_TAGS:
                    raise YamlError("a mapping key must be a plain value", self._loc(key_node))
                if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                    raise YamlError("merge keys ('<<') are not supported; write the keys out", self._loc(key_node))
                key = self.loader.construct_object(key_node)
                if isinstance(key, (dict, list)):
                    raise YamlError("a mapping key must be a plain value", self._loc(key_node))
                if key in result:
                    first = self.marks.get(path + (key,))
                    where = f" (first at line {first[0]})" if first else ""
                    raise YamlError(f"duplicate key '{key}'{where}", self._loc(key_node))
                self.marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, path + (key,), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:
            what = getattr(exc, "problem", None) or str(exc)
            hint = "; write dates as YYYY-MM-DD" if node.tag.endswith(":timestamp") else ""
            raise YamlError(f"invalid value {node.value!r}: {what}{hint}", self._loc(node), _dotted(path)) from None


def _dotted(path: Path) -> str | None:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or None
