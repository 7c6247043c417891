"""The command line: parses options, calls the library, prints, and maps errors to exit codes."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import tempfile
from typing import Any, Sequence

import click

from . import __version__
from .engine import ENGINES
from .errors import AdvisorError, Location, UsageError, did_you_mean

#: Every profile evaluated and nothing at or above --fail-on.
EXIT_OK = 0
#: Some report has a finding at or above --fail-on.
EXIT_FINDINGS = 1
#: Bad input or usage (a profile, a rule file, an option); the message is on stderr.
EXIT_ERROR = 2

#: Formats this module renders itself; the document formats come from advisor.documents.
TEXT_FORMATS = ("text", "json")
DOCUMENT_FORMATS = ("markdown", "html", "pdf")
FORMATS = TEXT_FORMATS + DOCUMENT_FORMATS
#: The file name extension of each format, for `-o DIR`.
EXTENSIONS = {"text": ".txt", "json": ".json", "markdown": ".md", "html": ".html", "pdf": ".pdf"}
FAIL_ON = ("high", "medium", "low", "never")
#: A progress bar is drawn (on a terminal) when more profiles than this are evaluated.
PROGRESS_MIN = 20
#: Text written to a file or a pipe is wrapped at this width (a terminal's own width is used otherwise).
MAX_TEXT_WIDTH = 100

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _error(exc: AdvisorError | str) -> None:
    click.echo(f"error: {exc}", err=True)


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _use_color(stream: Any) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return _isatty(stream)


class AdvisorGroup(click.Group):
    """A group that turns every library error into `error: <message>` and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AdvisorError as exc:
            _error(exc)
            ctx.exit(EXIT_ERROR)


rules_option = click.option(
    "--rules", "rule_dirs", multiple=True, metavar="DIR",
    help="A folder of extra rule files, loaded on top of the shipped rules (repeatable).",
)


# --------------------------------------------------------------------------- files


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class _StreamFile:
    """A file written whole or not at all: a temporary file in the same folder, renamed into place by commit()."""

    def __init__(self, path: str):
        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
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
            os.chmod(self.tmp, _file_mode(self.path))
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise UsageError(f"cannot write: {exc.strerror or exc}", Location(self.path)) from None
        self.tmp = None

    def discard(self) -> None:
        self.fh.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then os.replace."""
    out = _StreamFile(path)
    try:
        out.write(data)
        out.commit()
    finally:
        out.discard()


def _refuse_inputs(target: str, inputs: Sequence[str]) -> None:
    if not os.path.exists(target):
        return
    for path in inputs:
        with contextlib.suppress(OSError):
            if os.path.samefile(target, path):
                raise UsageError(f"refusing to overwrite the input profile {path}", Location(target))


def _output(text: str | bytes, output: str | None) -> None:
    if output:
        write_atomic(output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


# --------------------------------------------------------------------------- the commands


@click.group(cls=AdvisorGroup, context_settings=_CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="advisor")
def cli() -> None:
    """Partnership advisor: checks a partnership profile against "A Guide to Strategic Partnering"
    (Civilian Secretariat for Police Service, 2020) and reports the recommended structure, the
    governance gaps, the failure risks and the strengths, each citing the guide.

    Exit codes: 0 ok, 1 findings at or above --fail-on, 2 bad input or usage.

    \b
    Example:
      advisor evaluate profiles/khayelitsha.yaml
      advisor validate profiles/*.yaml
      advisor rules list
    """


def _json_line(report: Any, knowledge: Any) -> bytes:
    return (report.to_json() + "\n").encode("utf-8")


def _document(report: Any, knowledge: Any, fmt: str) -> str | bytes:
    import importlib

    return importlib.import_module("advisor.documents").render(report, fmt, knowledge)


def _renderer(fmt: str, color: bool, width: int | None):
    """The function that turns a report into output text (or bytes, for json and pdf) in this format.

    It runs in the worker processes, so it is a module-level function or a partial of one.
    """
    if fmt == "json":
        return _json_line
    if fmt == "text":
        from .textreport import format_text

        # width None: the terminal's width (format_text caps it).
        return functools.partial(format_text, color=color, width=width)
    # The document formats: advisor.documents.render(report, fmt, knowledge) -> str | bytes.
    import importlib

    try:
        importlib.import_module("advisor.documents")
    except ImportError as exc:
        raise UsageError(f"--format {fmt} is not available yet: advisor.documents cannot be imported ({exc})") from None
    return functools.partial(_document, fmt=fmt)


@cli.command(context_settings=_CONTEXT)
@click.argument("profiles", nargs=-1, required=True, metavar="PROFILE|DIR|GLOB...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal (one profile: its report; several: a line each, then the portfolio "
                   "summary); json prints one JSON object per profile per line (JSON Lines); markdown, html and "
                   "pdf write an advice document (html with -o DIR also writes the portfolio overview index.html).")
@click.option("-o", "--output", metavar="FILE|DIR",
              help="Write to FILE instead of standard output (atomically), or one file per profile into an "
                   "existing DIR (or a path ending in /). Never overwrites an input profile.")
@rules_option
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="The rules engine. [default: durable where it is available, else python]")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True,
              help="Exit with 1 when a finding (not a strength) is at or above this severity.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Evaluate as on this date (reviews overdue, waivers expired). [default: today, or SOURCE_DATE_EPOCH]")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Evaluate in N worker processes; results and their order are the same as with one. "
                   "[default: the number of cores; one for fewer than 32 profiles]")
@click.option("--summary-only", is_flag=True,
              help="Print only the portfolio summary (with --format json, as one JSON object).")
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which engine is used and why, and which files are written.")
@click.option("-q", "--quiet", is_flag=True, help="Print no report and no progress, only errors; the exit code tells the result.")
def evaluate(profiles: tuple[str, ...], fmt: str, output: str | None, rule_dirs: tuple[str, ...], engine: str | None,
             fail_on: str, as_of: Any, jobs: int | None, summary_only: bool, verbose: bool, quiet: bool) -> None:
    """Evaluate partnership profiles and print the advice for each.

    PROFILE is a YAML profile; a folder stands for every *.yaml and *.yml file in
    it and its subfolders, a quoted glob for its matches. A JSON Lines file
    (*.jsonl) holds a profile per line, and a YAML file may hold several
    profiles as documents separated by '---'. A profile that cannot be read is
    reported on stderr (with its file) and the others are still evaluated.

    Many profiles are a portfolio: they are evaluated in worker processes
    (--jobs), and the text output ends with what matters across them.

    \b
    Exit codes:
      0  every profile evaluated, nothing at or above --fail-on
      1  a finding at or above --fail-on
      2  a profile, rule file or option is wrong (message on stderr)

    \b
    Example:
      advisor evaluate profiles/khayelitsha.yaml
      advisor evaluate --format json --fail-on medium profiles/ > portfolio.jsonl
      advisor evaluate --summary-only 'stations/**/*.yaml' portfolio.jsonl
      advisor evaluate --format html -o overview/ profiles/
      advisor evaluate --as-of 2027-03-31 -o advice.txt profiles/khayelitsha.yaml
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    if summary_only and fmt not in TEXT_FORMATS:
        raise click.UsageError(f"--summary-only prints the summary as text or json, not as {fmt}")
    from .portfolio import PortfolioSummary, Source, evaluate_portfolio, expand_inputs

    items = list(expand_inputs(profiles))
    single = len(items) == 1 and isinstance(items[0], Source) and items[0].kind == "file"
    sink = _Sink(fmt, output, items, single=single, summary_only=summary_only, quiet=quiet, verbose=verbose)
    if verbose and engine is None:
        from .engine import durable_problem

        problem = durable_problem()
        if problem:
            click.echo(f"note: using the python engine because {problem}", err=True)

    ruleset, knowledge = _ruleset(rule_dirs)
    summary = PortfolioSummary(ruleset, knowledge, fail_on=fail_on)
    stderr = sys.stderr
    # Progress only for a person watching: many profiles, stderr a terminal, and not --quiet.
    show_progress = not quiet and len(items) > PROGRESS_MIN and _isatty(stderr)
    bar = (click.progressbar(length=len(items), label="Evaluating", file=stderr, show_pos=True)
           if show_progress else contextlib.nullcontext())
    outcomes = evaluate_portfolio(
        items, rules=ruleset, engine=engine, as_of=as_of.date() if as_of else None, jobs=jobs,
        render=sink.render, progress=bar.update if show_progress else None,
    )
    try:
        with bar, contextlib.closing(outcomes):
            for outcome in outcomes:
                if outcome.error is not None:
                    # Start on a clean line when the progress bar is drawn on this terminal.
                    click.echo(("\r\x1b[K" if show_progress else "") + f"error: {outcome.error}", err=True)
                    summary.add_error(outcome.error)
                    sink.skip(outcome)
                else:
                    summary.add(outcome.record)
                    sink.put(outcome)
        sink.close(summary)
    except BrokenPipeError:
        # The reader stopped reading (`| head`): stop without a traceback, as other tools do.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        click.get_current_context().exit(EXIT_ERROR)
    click.get_current_context().exit(EXIT_ERROR if summary.failed else EXIT_FINDINGS if summary.at_fail_on else EXIT_OK)


class _Sink:
    """Where the output goes: standard output, one file (streamed, then renamed into place), or a file per profile.

    One profile gets its report (or document). Several get a line each then the portfolio
    summary (text), a JSON line each (json), or a document each in a folder, with the
    portfolio overview index.html for html. Nothing is kept per profile but the names of the
    files written and, for html, a row of the overview, so memory stays flat for any number.
    """

    def __init__(self, fmt: str, output: str | None, items: Sequence[Any], single: bool, summary_only: bool,
                 quiet: bool, verbose: bool):
        self.fmt, self.output, self.quiet, self.verbose = fmt, output, quiet, verbose
        self.summary_only = summary_only
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
            _refuse_inputs(output, self.inputs)
        stdout = sys.stdout
        to_terminal = not output and stdout.isatty()
        self.color = to_terminal and _use_color(stdout)
        #: None: the terminal's own width; files and pipes get the widest text.
        self.width = None if to_terminal else MAX_TEXT_WIDTH
        # Reports are rendered where they are made (in the worker processes), and only when shown.
        wanted = not summary_only and (fmt != "text" or single or self.to_dir)
        self.render = _renderer(fmt, self.color, self.width) if wanted else None
        #: One file: its outcomes wait until it is known whether it held one profile or several.
        self.deferred: list[Any] | None = [] if single else None
        self.file: _StreamFile | None = None
        self.lines = 0
        self.names: set[str] = {"index.html"} if fmt == "html" else set()
        self.entries: list[Any] = []
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
        elif self.fmt == "text":
            from .textreport import portfolio_line

            self._emit(portfolio_line(outcome.record) + "\n")
            self.lines += 1
        else:
            self._emit(outcome.output)

    def skip(self, outcome: Any) -> None:
        """A profile that could not be evaluated (its error is already on stderr)."""
        if self.deferred is not None:
            self.deferred.append(outcome)
        elif self.to_dir and self.fmt == "html":
            self.entries.append(_entry(outcome, None))

    def close(self, summary: Any) -> None:
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
                if self.verbose:
                    click.echo(f"wrote {self.output}", err=True)
        finally:
            if self.file is not None:
                self.file.discard()

    def _summary(self, summary: Any) -> str:
        if self.fmt == "json":
            return json.dumps(summary.to_dict(), ensure_ascii=False) + "\n"
        from .textreport import format_portfolio

        return format_portfolio(summary, color=self.color, width=self.width)

    def _overview(self, summary: Any) -> None:
        from . import documents

        os.makedirs(self.output, exist_ok=True)
        target = os.path.join(self.output, "index.html")
        self._refuse(target)
        self._write(target, documents.render_portfolio(summary, self.entries, summary.knowledge))

    def _put_file(self, outcome: Any) -> None:
        target = os.path.join(self.output, self._name(outcome.source))
        self._refuse(target)
        os.makedirs(self.output, exist_ok=True)
        self._write(target, outcome.output)
        if self.fmt == "html":
            self.entries.append(_entry(outcome, os.path.basename(target)))

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
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(target)
            if (st.st_dev, st.st_ino) in self._inodes:
                raise UsageError(f"refusing to overwrite the input profile {target}", Location(target))

    def _emit(self, data: str | bytes) -> None:
        if self.output:
            if self.file is None:
                self.file = _StreamFile(self.output)
            self.file.write(data)
        elif not self.quiet:
            if isinstance(data, bytes):
                sys.stdout.buffer.write(data)
            else:
                click.echo(data, nl=False, color=self.color)

    def _write(self, path: str, data: str | bytes) -> None:
        write_atomic(path, data)
        if self.verbose:
            click.echo(f"wrote {path}", err=True)


def _entry(outcome: Any, document: str | None) -> Any:
    from .portfolio import OverviewRow

    return OverviewRow.of(outcome, document)


@cli.command(context_settings=_CONTEXT)
@click.argument("profiles", nargs=-1, required=True, metavar="PROFILE|DIR|GLOB...")
@rules_option
def validate(profiles: tuple[str, ...], rule_dirs: tuple[str, ...]) -> None:
    """Check that profiles are valid, without evaluating them.

    Takes the same files, folders, globs, JSON Lines and multi-document YAML
    files as evaluate. Prints `ok: FILE` for each valid profile and the error of
    each invalid one on stderr (file, line, field and what is wrong). Waivers
    must name known rule ids. Exits with 2 when any profile is invalid.

    \b
    Example:
      advisor validate profiles/khayelitsha.yaml profiles/soweto.yaml
    """
    from .api import load_rules
    from .portfolio import expand_inputs, read_profiles

    rule_ids = load_rules(rule_dirs).ids
    failed = False
    for item in expand_inputs(profiles):
        found = [("", item)] if isinstance(item, AdvisorError) else read_profiles(item, rule_ids)
        for name, loaded in found:
            if isinstance(loaded, AdvisorError):
                _error(loaded)
                failed = True
            else:
                click.echo(f"ok: {name}")
    click.get_current_context().exit(EXIT_ERROR if failed else EXIT_OK)


@cli.command(context_settings=_CONTEXT)
@click.option("-o", "--output", metavar="FILE", help="Write the schema to FILE instead of standard output.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of a profile, for editors that check YAML as you type.

    \b
    Example:
      advisor schema -o profile.schema.json
    Then put this first line in a profile (yaml-language-server, VS Code YAML):
      # yaml-language-server: $schema=profile.schema.json
    """
    import json

    from .models import Profile

    generated = Profile.model_json_schema()
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Partnership profile (advisor, profile_version 1)",
        "description": "A strategic partnership described for advisor, after 'A Guide to Strategic Partnering' "
                       "(Civilian Secretariat for Police Service, 2020). Only name and one partner are required; "
                       "a section left out is reported as a governance gap.",
    }
    document.update({k: v for k, v in generated.items() if k not in document})
    _output(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)


@cli.group(cls=AdvisorGroup, context_settings=_CONTEXT)
def rules() -> None:
    """List, explain and document the rules.

    \b
    Example:
      advisor rules list
      advisor rules show risk.lack-of-communication
      advisor rules docs -o rules/REFERENCE.md
    """


def _ruleset(rule_dirs: Sequence[str]):
    from .api import compiled_rules

    knowledge, ruleset, _ = compiled_rules(rule_dirs)
    return ruleset, knowledge


@rules.command("list", context_settings=_CONTEXT)
@rules_option
def rules_list(rule_dirs: tuple[str, ...]) -> None:
    """List every rule, then how much of the guide the rules cover.

    Coverage counts, for each area of the guide, the actionable ids (steps a
    profile can show done or not done) that some rule cites.

    \b
    Example:
      advisor rules list
      advisor rules list --rules my-rules/
    """
    from .ruledocs import coverage_lines, rule_table

    ruleset, knowledge = _ruleset(rule_dirs)
    lines = rule_table(ruleset)
    lines += ["", f"{len(ruleset.rules)} rules, {len(ruleset.derived)} derived facts", "",
              "Actionable guide ids cited by a rule, per area:"]
    lines += ["  " + line for line in coverage_lines(ruleset, knowledge)[:-1]]
    lines.append(coverage_lines(ruleset, knowledge)[-1])
    click.echo("\n".join(lines))


@rules.command("show", context_settings=_CONTEXT)
@click.argument("rule_id")
@rules_option
def rules_show(rule_id: str, rule_dirs: tuple[str, ...]) -> None:
    """Show everything about one rule: its condition in words, templates and the guide text it cites.

    \b
    Example:
      advisor rules show risk.lack-of-communication
    """
    from .ruledocs import rule_text
    from .textreport import MAX_WIDTH, terminal_width

    ruleset, knowledge = _ruleset(rule_dirs)
    try:
        rule = ruleset.rule(rule_id)
    except KeyError:
        raise UsageError(f"unknown rule '{rule_id}'{did_you_mean(rule_id, ruleset.ids)}") from None
    width = terminal_width() if sys.stdout.isatty() else MAX_WIDTH
    click.echo(rule_text(rule, knowledge, width), nl=False)


@rules.command("docs", context_settings=_CONTEXT)
@click.option("-o", "--output", metavar="FILE", help="Write the reference to FILE (atomically) instead of standard output.")
@rules_option
def rules_docs(output: str | None, rule_dirs: tuple[str, ...]) -> None:
    """Write the Markdown rule reference, generated from the rule files and the guide.

    \b
    Example:
      advisor rules docs -o rules/REFERENCE.md
    """
    from .ruledocs import rule_reference

    ruleset, knowledge = _ruleset(rule_dirs)
    _output(rule_reference(ruleset, knowledge), output)


def main(argv: Sequence[str] | None = None) -> None:
    """The console-script entry point (`advisor`, `python -m advisor`)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="advisor")
