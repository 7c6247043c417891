"""The command line: parses options, calls the library, prints, and maps errors to exit codes."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from typing import Any, Iterable, Sequence

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
PROFILE_SUFFIXES = (".yaml", ".yml")
#: Text written to a file or a pipe is wrapped at this width (a terminal's own width is used otherwise).
MAX_TEXT_WIDTH = 100

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _error(exc: AdvisorError | str) -> None:
    click.echo(f"error: {exc}", err=True)


def _use_color(stream: Any) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


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


def expand_profiles(args: Iterable[str]) -> list[str | AdvisorError]:
    """Profile paths in the order given: a folder gives its *.yaml/*.yml files, a glob its matches.

    A folder without profiles or a glob without matches gives an error in its place;
    any other path is passed on as is (the loader reports a missing file).
    """
    out: list[str | AdvisorError] = []
    for arg in args:
        if os.path.isdir(arg):
            found = sorted(p for p in glob.glob(os.path.join(glob.escape(arg), "*"))
                           if p.endswith(PROFILE_SUFFIXES) and os.path.isfile(p))
            out.extend(found or [UsageError("no profiles (*.yaml, *.yml) in this folder", Location(arg))])
        elif not os.path.exists(arg) and any(c in arg for c in "*?["):
            found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
            out.extend(found or [UsageError("no files match this pattern", Location(arg))])
        else:
            out.append(arg)
    return out


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror or exc}", Location(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"cannot write: {exc.strerror or exc}", Location(path)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
        click.get_binary_stream("stdout").write(text)
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


def _renderer(fmt: str, color: bool, width: int | None):
    """The function that turns a report into output text (or bytes, for pdf) in this format."""
    if fmt == "json":
        return lambda report, knowledge: report.to_json() + "\n"
    if fmt == "text":
        from .textreport import format_text

        # width None: the terminal's width (format_text caps it).
        return lambda report, knowledge: format_text(report, knowledge, color=color, width=width)
    # Hook for the document formats: advisor.documents.render(report, fmt, knowledge) -> str | bytes.
    try:
        from . import documents
    except ImportError as exc:
        raise UsageError(f"--format {fmt} is not available yet: advisor.documents cannot be imported ({exc})") from None
    return lambda report, knowledge: documents.render(report, fmt, knowledge)


@cli.command(context_settings=_CONTEXT)
@click.argument("profiles", nargs=-1, required=True, metavar="PROFILE|DIR|GLOB...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal; json prints one JSON object per profile (JSON Lines for several); "
                   "markdown, html and pdf write an advice document.")
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
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which engine is used and why, and which files are written.")
@click.option("-q", "--quiet", is_flag=True, help="Print no report, only errors; the exit code tells the result.")
def evaluate(profiles: tuple[str, ...], fmt: str, output: str | None, rule_dirs: tuple[str, ...], engine: str | None,
             fail_on: str, as_of: Any, verbose: bool, quiet: bool) -> None:
    """Evaluate partnership profiles and print the advice for each.

    PROFILE is a YAML profile; a folder stands for its *.yaml files and a quoted
    glob for its matches. A profile that cannot be read is reported on stderr and
    the others are still evaluated.

    \b
    Exit codes:
      0  every profile evaluated, nothing at or above --fail-on
      1  a finding at or above --fail-on
      2  a profile, rule file or option is wrong (message on stderr)

    \b
    Example:
      advisor evaluate profiles/khayelitsha.yaml
      advisor evaluate --format json --fail-on medium profiles/ > portfolio.jsonl
      advisor evaluate --as-of 2027-03-31 -o advice.txt profiles/khayelitsha.yaml
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    items = expand_profiles(profiles)
    paths = [item for item in items if isinstance(item, str)]
    sink = _Sink(fmt, output, paths, several=len(items) > 1, quiet=quiet, verbose=verbose)
    render = _renderer(fmt, color=sink.color, width=sink.width)
    if verbose and engine is None:
        from .engine import durable_problem

        problem = durable_problem()
        if problem:
            click.echo(f"note: using the python engine because {problem}", err=True)

    from .api import Advisor

    advisor = Advisor(rule_dirs, engine=engine)
    failed = findings = False
    try:
        results = iter(advisor.evaluate_many(paths, as_of=as_of.date() if as_of else None))
        for item in items:
            result = item if isinstance(item, AdvisorError) else next(results)
            if isinstance(result, AdvisorError):
                _error(result)
                failed = True
                continue
            findings = findings or result.worst(fail_on)
            sink.put(item, render(result, advisor.knowledge))
        sink.close()
    finally:
        advisor.close()
    click.get_current_context().exit(EXIT_ERROR if failed else EXIT_FINDINGS if findings else EXIT_OK)


class _Sink:
    """Where reports go: standard output, one file (written once, at the end) or one file per profile in a folder."""

    def __init__(self, fmt: str, output: str | None, inputs: Sequence[str], several: bool, quiet: bool, verbose: bool):
        self.fmt, self.output, self.quiet, self.verbose = fmt, output, quiet, verbose
        self.to_dir = bool(output) and (os.path.isdir(output) or output.endswith(("/", os.sep)))
        self.collected: list[str | bytes] = []
        self.printed = 0
        if fmt in DOCUMENT_FORMATS and several and not self.to_dir:
            raise UsageError(f"--format {fmt} writes one document per profile; give -o DIR for several profiles")
        if fmt == "pdf" and not output and click.get_binary_stream("stdout").isatty():
            raise UsageError("--format pdf is binary; give -o FILE rather than print it to a terminal")
        self.targets: dict[str, str] = {}
        if self.to_dir:
            for path in inputs:
                target = os.path.join(output, os.path.splitext(os.path.basename(path))[0] + EXTENSIONS[fmt])
                if target in self.targets.values():
                    raise UsageError(f"two profiles would both be written to {target}; give them different names")
                self.targets[path] = target
        for target in self.targets.values() if self.to_dir else [output] if output else []:
            _refuse_inputs(target, inputs)
        stdout = click.get_text_stream("stdout")
        to_terminal = not output and stdout.isatty()
        self.color = to_terminal and _use_color(stdout)
        #: None: the terminal's own width; files and pipes get the widest text.
        self.width = None if to_terminal else MAX_TEXT_WIDTH

    def put(self, path: str, rendered: str | bytes) -> None:
        if self.to_dir:
            os.makedirs(self.output, exist_ok=True)
            self._write(self.targets[path], rendered)
        elif self.output:
            self.collected.append(rendered)
        elif not self.quiet:
            if self.printed and self.fmt == "text":
                click.echo()
            if isinstance(rendered, bytes):
                click.get_binary_stream("stdout").write(rendered)
            else:
                click.echo(rendered, nl=False, color=self.color)
            self.printed += 1

    def close(self) -> None:
        if self.output and not self.to_dir and self.collected:
            # Text reports are separated by a blank line; JSON Lines are joined as they are.
            joiner = "\n" if self.fmt == "text" else ""
            self._write(self.output, self.collected[0] if len(self.collected) == 1 else joiner.join(self.collected))

    def _write(self, path: str, data: str | bytes) -> None:
        write_atomic(path, data)
        if self.verbose:
            click.echo(f"wrote {path}", err=True)


@cli.command(context_settings=_CONTEXT)
@click.argument("profiles", nargs=-1, required=True, metavar="PROFILE|DIR|GLOB...")
@rules_option
def validate(profiles: tuple[str, ...], rule_dirs: tuple[str, ...]) -> None:
    """Check that profiles are valid, without evaluating them.

    Prints `ok: FILE` for each valid profile and the error of each invalid one on
    stderr (file, line, field and what is wrong). Waivers must name known rule ids.
    Exits with 2 when any profile is invalid.

    \b
    Example:
      advisor validate profiles/khayelitsha.yaml profiles/soweto.yaml
    """
    from .api import load_profile, load_rules

    ruleset = load_rules(rule_dirs)
    failed = False
    for item in expand_profiles(profiles):
        try:
            if isinstance(item, AdvisorError):
                raise item
            load_profile(item, ruleset)
        except AdvisorError as exc:
            _error(exc)
            failed = True
            continue
        click.echo(f"ok: {item}")
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
    from .api import load_rules
    from .knowledge import load_knowledge

    knowledge = load_knowledge()
    return load_rules(rule_dirs, knowledge=knowledge), knowledge


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
    width = terminal_width() if click.get_text_stream("stdout").isatty() else MAX_WIDTH
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
