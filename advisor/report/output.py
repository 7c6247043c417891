"""Where reports go: standard output, one file written whole or not at all, or a file per profile in a folder.

The command line decides the options (format, colour, width) and hands each evaluated profile
to an Output; choosing the renderer, naming the files, refusing to overwrite an input and
putting files in place atomically happen here, so the library can write what the command does.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import re
import stat
import sys
from typing import Any, Callable, Sequence

from ..errors import Location, UsageError
from .summary import OverviewRow, PortfolioSummary

#: Formats written as text or JSON, and the advice-document formats (advisor.report.document).
TEXT_FORMATS = ("text", "json")
DOCUMENT_FORMATS = ("markdown", "html", "pdf")
FORMATS = TEXT_FORMATS + DOCUMENT_FORMATS
#: The file name extension of each format, for `-o DIR`.
EXTENSIONS = {"text": ".txt", "json": ".json", "markdown": ".md", "html": ".html", "pdf": ".pdf"}
#: Text written to a file or a pipe is wrapped at this width (a terminal's own width is used otherwise).
MAX_TEXT_WIDTH = 100


# --------------------------------------------------------------------------- files


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _special(path: str) -> os.stat_result | None:
    """The status of path when it is something other than a regular file or a folder (a device, a FIFO, a
    socket), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return None if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) else st


class StreamFile:
    """A file written whole or not at all: a temporary file in the same folder, renamed into place by commit().

    Only a regular file (or a path not there yet) is replaced so. A device or a FIFO (`-o /dev/null`,
    `-o >(gzip > x.gz)`) is written into directly, as a shell redirection does, and never replaced; a
    socket is refused.
    """

    def __init__(self, path: str):
        self.path = path
        self.tmp: str | None = None
        special = _special(path)
        if special is not None:
            if stat.S_ISSOCK(special.st_mode):
                raise UsageError("is a socket; write to a file, a folder or a device", Location(path))
            try:
                fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
            except OSError as exc:
                raise UsageError(f"cannot write: {exc.strerror or exc}", Location(path)) from None
            self.fh = os.fdopen(fd, "wb")
            return
        folder = os.path.dirname(os.path.abspath(path))
        import tempfile  # only for a file written (with shutil and random, ~5 ms of a start that prints)

        try:
            fd, self.tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror or exc}", Location(path)) from None
        self.fh = os.fdopen(fd, "wb")

    def write(self, data: str | bytes) -> None:
        try:
            self.fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        except OSError as exc:
            self.discard()
            raise UsageError(f"cannot write: {exc.strerror or exc}", Location(self.path)) from None

    def commit(self) -> None:
        try:
            self.fh.close()
            if self.tmp is not None:
                os.chmod(self.tmp, _file_mode(self.path))
                os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise UsageError(f"cannot write: {exc.strerror or exc}", Location(self.path)) from None
        self.tmp = None

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # a device that fails on close has had its say in write()
            self.fh.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then os.replace."""
    out = StreamFile(path)
    try:
        out.write(data)
        out.commit()
    finally:
        out.discard()


def write_output(data: str | bytes, output: str | None) -> None:
    """Data (JSON, Markdown: UTF-8 whatever the terminal's encoding) to a file (atomically) or to standard output."""
    if output:
        write_atomic(output, data)
    else:
        write_stdout(data if isinstance(data, bytes) or data.endswith("\n") else data + "\n")


def write_stdout(data: str | bytes, text: bool = False) -> None:
    """Output to standard output: text for a person in the stream's own encoding (a character it cannot write
    becomes '?'), and data (bytes, or with text False a str of JSON, Markdown or HTML) as UTF-8, the encoding
    those formats are read in, whatever the stream's."""
    if text and isinstance(data, str):
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    sys.stdout.flush()  # what was written as text comes first
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream without bytes (a test's StringIO): text is all it takes
        sys.stdout.write(data.decode("utf-8") if isinstance(data, bytes) else data)
    else:
        buffer.write(data.encode("utf-8") if isinstance(data, str) else data)
        buffer.flush()


def refuse_inputs(target: str, inputs: Sequence[str]) -> None:
    """A UsageError when target is one of the input files."""
    if not os.path.exists(target):
        return
    for path in inputs:
        with contextlib.suppress(OSError):
            if os.path.samefile(target, path):
                raise UsageError(f"refusing to overwrite the input profile {path}", Location(target))


# --------------------------------------------------------------------------- renderers


def _json_line(report: Any, knowledge: Any) -> bytes:
    return (report.to_json() + "\n").encode("utf-8")


def _document(report: Any, knowledge: Any, fmt: str, brief: bool = False) -> str | bytes:
    return importlib.import_module("advisor.report.document").render(report, fmt, knowledge, brief=brief)


def renderer(fmt: str, color: bool = False, width: int | None = None, *, brief: bool = False,
             everything: bool = False) -> Callable[[Any, Any], str | bytes]:
    """The function that turns a report (and the knowledge base) into output text, or bytes for json and pdf.

    `brief` gives the committee brief alone (text and documents); `everything` the whole text report rather
    than the brief and one line for the rest. It runs in the worker processes, so it is a module-level
    function or a partial of one.
    """
    if (brief or everything) and fmt == "json":
        raise UsageError("--format json always writes the whole report; --brief and --all are for text and documents")
    if brief and everything:
        raise UsageError("--brief and --all cannot be used together")
    if fmt == "json":
        return _json_line
    if fmt == "text":
        from .text import format_text

        # width None: the terminal's width (format_text caps it).
        return functools.partial(format_text, color=color, width=width, everything=everything, brief=brief)
    if everything:
        raise UsageError(f"--all is for text: a {fmt} document always holds everything after its brief "
                         "(--brief gives the brief alone)")
    try:
        importlib.import_module("advisor.report.document")
    except ImportError as exc:
        raise UsageError(f"--format {fmt} is not available yet: advisor.report.document cannot be imported ({exc})") from None
    return functools.partial(_document, fmt=fmt, brief=brief)


# --------------------------------------------------------------------------- the output of a run


class Output:
    """Where the output goes: standard output, one file (streamed, then renamed into place), or a file per profile.

    One profile gets its report (or document). Several get a line each (a brief each with `brief`) then the
    portfolio summary (text), a JSON line each (json), or a document each in a folder, with the
    portfolio overview index.html for html. Nothing is kept per profile but the names of the
    files written and, for html, a row of the overview, so memory stays flat for any number.
    `say` receives the "wrote FILE" notes of verbose mode.
    """

    def __init__(self, fmt: str, output: str | None, items: Sequence[Any], *, single: bool, summary_only: bool,
                 quiet: bool, color: bool, width: int | None, say: Callable[[str], None] | None = None,
                 brief: bool = False, everything: bool = False):
        self.fmt, self.output, self.quiet, self.say = fmt, output, quiet, say
        self.summary_only = summary_only
        self.color, self.width = color, width
        #: several profiles as text: a line each, or with --brief a brief each
        self.brief = brief
        self.to_dir = bool(output) and (os.path.isdir(output) or output.endswith(("/", os.sep)))
        # Several documents need a folder: `-o reports` that does not exist yet (and is not named like one
        # document, report.html) is that folder, created on the first write.
        self.new_dir = (bool(output) and fmt in DOCUMENT_FORMATS and not summary_only and not self.to_dir
                        and not os.path.lexists(output) and not output.lower().endswith(EXTENSIONS[fmt]))
        if self.new_dir and not single:
            self.to_dir = True
        if summary_only and self.to_dir:
            raise UsageError("--summary-only writes one summary; give -o FILE, not a folder")
        if fmt in DOCUMENT_FORMATS and not single and not self.to_dir:
            raise UsageError(f"--format {fmt} writes one document per profile; give -o DIR for several profiles (a folder, "
                             "created if missing)")
        if fmt == "pdf" and not output and sys.stdout.buffer.isatty():
            raise UsageError("--format pdf is binary; give -o FILE rather than print it to a terminal")
        self.inputs = list(dict.fromkeys(item.path for item in items if hasattr(item, "path")))
        if output and not self.to_dir:
            refuse_inputs(output, self.inputs)
        # Reports are rendered where they are made (in the worker processes), and only when shown.
        wanted = not summary_only and (fmt != "text" or single or self.to_dir or brief)
        make = renderer(fmt, color, width, brief=brief, everything=everything)  # checks the options even when unused
        self.render = make if wanted else None
        #: One file: its outcomes wait until it is known whether it held one profile or several.
        self.deferred: list[Any] | None = [] if single else None
        self.file: StreamFile | None = None
        self.lines = 0
        self.names: set[str] = {"index.html"} if fmt == "html" else set()
        self.entries: list[OverviewRow] = []
        self._inodes: set[tuple[int, int]] | None = None
        if self.to_dir and fmt == "html":  # before any work: the overview would replace an input
            self._refuse(os.path.join(output, "index.html"))

    def put(self, outcome: Any) -> None:
        """An evaluated profile."""
        if self.deferred is not None:
            self.deferred.append(outcome)
        elif self.to_dir:
            self._put_file(outcome)
        elif self.summary_only:
            pass
        elif self.fmt == "text" and self.brief:
            self._emit(("\n" if self.lines else "") + outcome.output)
            self.lines += 1
        elif self.fmt == "text":
            from .text import portfolio_line

            self._emit(portfolio_line(outcome.record) + "\n")
            self.lines += 1
        else:
            self._emit(outcome.output)

    def skip(self, outcome: Any) -> None:
        """A profile that could not be evaluated (its error is already on stderr)."""
        if self.deferred is not None:
            self.deferred.append(outcome)
        elif self.to_dir and self.fmt == "html":
            self.entries.append(OverviewRow.of(outcome, None))

    def close(self, summary: PortfolioSummary) -> None:
        """Print the summary (and write the overview) as the format asks, and put the output file in place."""
        try:
            several = self.deferred is None
            if self.deferred is not None:
                deferred, self.deferred = self.deferred, None
                several = len(deferred) > 1
                if several and self.new_dir:
                    self.to_dir = True
                if several and self.fmt in DOCUMENT_FORMATS and not self.to_dir:
                    raise UsageError(f"--format {self.fmt} writes one document per profile and this file holds "
                                     f"{len(deferred)}; give -o DIR (a folder, created if missing)", Location(self.inputs[0]))
                for outcome in deferred:
                    if outcome.error is not None:
                        self.skip(outcome)
                    elif several or self.to_dir or self.summary_only:
                        self.put(outcome)
                    else:
                        self._emit(outcome.output)
            if self.summary_only or (several and self.fmt == "text" and not self.to_dir):
                self._emit(("\n" if self.lines else "") + self._summary(summary))
            if self.to_dir and self.fmt == "html":
                self._overview(summary)
            if self.file is not None:
                self.file.commit()
                self._wrote(self.output)
        finally:
            if self.file is not None:
                self.file.discard()

    def discard(self) -> None:
        """Give up the output file (the run was stopped): its temporary file is removed, the target untouched."""
        if self.file is not None:
            self.file.discard()

    def _summary(self, summary: PortfolioSummary) -> str:
        if self.fmt == "json":
            return json.dumps(summary.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
        from .text import format_portfolio

        return format_portfolio(summary, color=self.color, width=self.width)

    def _overview(self, summary: PortfolioSummary) -> None:
        from . import document

        self._make_folder()
        target = os.path.join(self.output, "index.html")
        self._refuse(target)
        self._write(target, document.render_portfolio(summary, self.entries, summary.knowledge))

    def _make_folder(self) -> None:
        try:
            os.makedirs(self.output, exist_ok=True)
        except OSError as exc:  # under a file, or where one may not write
            why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc)).lower()
            if isinstance(exc, FileExistsError):
                why = "a file of that name is in the way"
            elif isinstance(exc, NotADirectoryError):
                why = "part of the path is a file, not a folder"
            raise UsageError(f"cannot create the folder: {why}", Location(self.output)) from None

    def _put_file(self, outcome: Any) -> None:
        target = os.path.join(self.output, self._name(outcome.source))
        self._refuse(target)
        self._make_folder()
        self._write(target, outcome.output)
        if self.fmt == "html":
            self.entries.append(OverviewRow.of(outcome, os.path.basename(target)))

    def _name(self, source: str) -> str:
        """A profile's file name in the folder: its file's stem (`-N` for a document or line), made unique."""
        m = re.match(r"^(?P<stem>.*?)(?:\.(?:ya?ml|jsonl|ndjson))?(?:[#:](?P<n>\d+))?$", os.path.basename(source))
        stem = m["stem"] + (f"-{m['n']}" if m["n"] else "") if m and m["stem"] else "profile"
        ext = EXTENSIONS[self.fmt]
        name, n = stem + ext, 1
        while name in self.names:
            n += 1
            name = f"{stem}-{n}{ext}"
        self.names.add(name)
        return name

    def _refuse(self, target: str) -> None:
        if self._inodes is None:  # stat every input once, not once per file written
            self._inodes = set()
            for path in self.inputs:
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    self._inodes.add((st.st_dev, st.st_ino))
        with contextlib.suppress(OSError):  # not there (or under a file): not an input
            st = os.stat(target)
            if (st.st_dev, st.st_ino) in self._inodes:
                raise UsageError(f"refusing to overwrite the input profile {target}", Location(target))

    def _emit(self, data: str | bytes) -> None:
        if self.output:
            if self.file is None:
                self.file = StreamFile(self.output)
            self.file.write(data)
        elif not self.quiet:
            write_stdout(data, text=self.fmt == "text")

    def _write(self, path: str, data: str | bytes) -> None:
        write_atomic(path, data)
        self._wrote(path)

    def _wrote(self, path: str) -> None:
        if self.say is not None:
            self.say(f"wrote {path}")

