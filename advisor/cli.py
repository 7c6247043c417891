"""The command line: parses options, calls the library, prints, and maps errors to exit codes."""

from __future__ import annotations

import gc

#: Importing the command line makes long-lived objects (modules, classes, the profile models) and next to no
#: garbage: the cyclic collector, run ~120 times meanwhile, freed nothing and took ~8% of a command's start.
#: It is paused while this module's imports run (see the end of the module), not for the commands.
_COLLECTING = gc.isenabled()
gc.disable()

from . import cache  # noqa: E402

#: Meanwhile, the methods dataclasses writes as source for each class come compiled from the cache (cache.DataclassCode).
_DATACLASS_CODE = cache.DataclassCode.start()

import contextlib
import datetime
import json
import os
import signal
import sys
import textwrap
from typing import Any, Sequence

import click

from click.core import ParameterSource

from . import __version__
from . import engine as engines
from .config import CONFIG_FILE, DATE_HINT, Config, find_config, load_config, parse_date
from .errors import AdvisorError, UsageError, did_you_mean, printable
from .profile.reading import Source, expand_inputs, read_profiles
from .profile.validation import reading_records
from .report.output import DOCUMENT_FORMATS, FORMATS, MAX_TEXT_WIDTH, TEXT_FORMATS, Output, write_output
from .report.summary import PortfolioSummary
from .rulebook import load_rules
from .vocabulary import FAIL_ON

#: Every profile evaluated and nothing at or above --fail-on.
EXIT_OK = 0
#: Some report has a finding at or above --fail-on.
EXIT_FINDINGS = 1
#: Bad input or usage (a profile, a rule file, an option); the message is on stderr.
EXIT_ERROR = 2

#: Stopped by signal N: 128 + N, as a shell reports it (130 for Ctrl-C, SIGINT; 143 for SIGTERM).
EXIT_SIGNAL = 128
#: The reader of standard output went away (`| head`): 128 + SIGPIPE, quietly.
EXIT_BROKEN_PIPE = EXIT_SIGNAL + 13
#: The signals that stop a command cleanly: workers stopped, temporary files removed, exit 128 + N.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

#: A progress bar is drawn (on a terminal) when more profiles than this are evaluated.
PROGRESS_MIN = 20
#: The collector's thresholds while profiles are evaluated (gc.set_threshold): ~1.7% fewer instructions per
#: profile than the default (700, 10, 10) over 100 generated profiles, peak RSS over 2,000 the same (43.6 MiB).
GC_THRESHOLDS = (100_000, 50, 100)

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


def _error(exc: AdvisorError | str) -> None:
    click.echo(printable(f"error: {exc}"), err=True)


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


#: --color: auto (a terminal, unless NO_COLOR; FORCE_COLOR colours a pipe too), always, never.
COLOR_WHEN = ("auto", "always", "never")


def _use_color(stream: Any, when: str = "auto") -> bool:
    """Whether text on this stream is coloured. `auto` colours a terminal, never when NO_COLOR is set
    (https://no-color.org) and also a pipe when FORCE_COLOR is set (https://force-color.org; 0 or false
    turn it off); NO_COLOR wins over FORCE_COLOR. --color always and never override both."""
    if when != "auto":
        return when == "always"
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force:
        return force.strip().lower() not in ("0", "false", "no")
    return _isatty(stream)


def _notes_on_stderr() -> None:
    """Show the library's notes on stderr until the command ends (--verbose)."""
    import logging  # only for --verbose

    class _Notes(logging.Handler):
        """The library's notes (the "advisor" logger: why the rules cache was not used, ...) as `note: ...` lines."""

        def emit(self, record: logging.LogRecord) -> None:
            click.echo(printable(f"note: {record.getMessage()}"), err=True)

    logger, handler = logging.getLogger("advisor"), _Notes(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def remove() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    click.get_current_context().call_on_close(remove)


class Stopped(BaseException):
    """A stop signal arrived: raised in the main thread so that every `finally` runs (workers are stopped,
    temporary files removed) before the command exits with 128 + the signal number. A BaseException, so
    that no `except Exception` of a profile's evaluation takes it for that profile's failure."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: Any) -> None:
    for sig in STOP_SIGNALS:  # the first signal stops the command; more only wait for the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def _stopping_cleanly() -> Any:
    """Stop signals raise Stopped while the command runs (only where handlers can be set: the main thread)."""
    previous: dict[int, Any] = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # a command started with nohup keeps ignoring HUP
                previous[sig] = signal.signal(sig, _stop)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _quiet_stdout() -> None:
    """Point standard output at the null device, so that flushing it at exit raises nothing more."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _tolerant_stdout() -> None:
    """Text for a person on a standard output that is not UTF-8 (PYTHONIOENCODING=cp1252, a Windows console):
    a character it cannot write becomes '?' instead of a UnicodeEncodeError. JSON, Markdown and HTML are
    written as UTF-8 bytes (advisor.report.output.write_stdout)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") != "utf8":
        with contextlib.suppress(Exception):
            reconfigure(errors="replace")


class AdvisorGroup(click.Group):
    """A group that turns every library error into `error: <message>` and exit code 2, never a traceback; a
    stop signal into exit 128 + N, and a reader that went away (`| head`) into a quiet exit 141."""

    def invoke(self, ctx: click.Context) -> Any:
        _tolerant_stdout()
        try:
            # The commands only read profiles: no models needed. What they import (the portfolio, the evaluator, the
            # report writers) has the methods of its dataclasses compiled from the cache, as the start-up's are.
            with _stopping_cleanly(), reading_records(), cache.DataclassCode.resumed(_DATACLASS_CODE):
                return super().invoke(ctx)
        except AdvisorError as exc:
            _error(exc)
            ctx.exit(EXIT_ERROR)
        except Stopped as exc:
            ctx.exit(EXIT_SIGNAL + exc.signum)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)


rules_option = click.option(
    "--rules", "rule_dirs", multiple=True, metavar="DIR", type=click.Path(file_okay=False),
    help="A folder of extra rule files, loaded on top of the shipped rules (repeatable).",
)


class DateType(click.ParamType):
    """A date written YYYY-MM-DD; anything else is an error that shows how to write one."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime.date):
            return value
        date = parse_date(str(value))
        if date is None:
            self.fail(f"{str(value)!r} is not a date; {DATE_HINT}", param, ctx)
        return date


def _complete_rule_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of a rule id: the shipped rules' and those of --rules folders given before it."""
    try:
        rulebook = load_rules(ctx.params.get("rule_dirs") or ())
    except AdvisorError:
        rulebook = load_rules()
    return [click.shell_completion.CompletionItem(rule.id, help=rule.title)
            for rule in rulebook.rules if rule.id.startswith(incomplete)]


def _profile_argument(help_name: str = "PROFILE|DIR|GLOB...") -> Any:
    # A path type, so that shell completion offers files and folders (a plain string would offer nothing).
    return click.argument("profiles", nargs=-1, required=True, metavar=help_name, type=click.Path())


# --------------------------------------------------------------------------- the commands


def _version(ctx: click.Context, _param: Any, value: bool) -> None:
    """`advisor --version`: advisor's, the rules' and the guide's versions, and the engine that runs."""
    if not value or ctx.resilient_parsing:
        return
    rulebook = load_rules()
    guide = rulebook.knowledge.guide
    problem = engines.durable_problem()
    engine = "python engine (durable-rules is not installed: pip install 'partnership-advisor[durable]')" \
        if problem else "durable-rules engine (the python engine with --engine python)"
    click.echo(f"advisor {__version__} (partnership-advisor)\nrules {rulebook.version}, "
               f"{len(rulebook.rules)} rules\nguide: {guide.title}, {guide.publisher}, {guide.date}\n"
               f"engine: {engine}\nbuild: {build_words()}")
    ctx.exit()


def build_words(package: str | os.PathLike | None = None) -> str:
    """How this install runs: with the modules its wheel compiled with Cython (advisor/_compile.py), or from the .py
    files alone (no C compiler when it was installed, an editable install, ADVISOR_PURE_PYTHON=1)."""
    from importlib.machinery import EXTENSION_SUFFIXES
    from pathlib import Path

    root = Path(package or Path(__file__).parent)
    compiled = {path for suffix in EXTENSION_SUFFIXES for path in root.rglob("*" + suffix)}
    if not compiled:
        return "pure Python (the .py files; a wheel built with a C compiler runs about a fifth faster)"
    return f"compiled with Cython ({len(compiled)} modules; reports as the .py files write them)"


@click.group(cls=AdvisorGroup, context_settings=_CONTEXT)
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show advisor's, the rules' and the guide's versions and the engine, and exit.")
@click.option("--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False),
              help=f"Read default options from FILE ({CONFIG_FILE} or a pyproject.toml with [tool.advisor]) instead "
                   f"of the nearest one in this folder or its parents.")
@click.option("--no-config", is_flag=True, help="Read no configuration file: only the options given count.")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, no_config: bool) -> None:
    """Partnership advisor: checks a partnership profile against "A Guide to Strategic Partnering"
    (Civilian Secretariat for Police Service, 2020) and reports the recommended structure, the
    governance gaps, the failure risks and the strengths, each citing the guide.

    Exit codes: 0 ok, 1 findings at or above --fail-on, 2 bad input or usage, 128 + N stopped by signal N
    (130 Ctrl-C, 143 SIGTERM), 141 the reader of the output went away (| head).

    Defaults for options (rules, engine, fail-on, as-of, format) come from the
    nearest .advisor.yaml, or pyproject.toml with a [tool.advisor] table, in
    this folder or its parents; options on the command line win. Shell
    completion: see `advisor completion --help`.

    \b
    Example:
      advisor evaluate profiles/khayelitsha.yaml
      advisor validate profiles/*.yaml
      advisor rules list
    """
    if no_config and config_file:
        raise click.UsageError("--config and --no-config cannot be used together")
    path = None if no_config else config_file or find_config()
    if path is not None:
        config = load_config(path)
        ctx.default_map = config.default_map()
        ctx.obj = config


@cli.command(context_settings=_CONTEXT)
@_profile_argument()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal (one profile: its report; several: a line each, then the portfolio "
                   "summary); json prints one JSON object per profile per line (JSON Lines); markdown, html and "
                   "pdf write an advice document (html with -o DIR also writes the portfolio overview index.html).")
@click.option("-o", "--output", metavar="FILE|DIR", type=click.Path(),
              help="Write to FILE instead of standard output (atomically), or one file per profile into DIR: a "
                   "folder, created when missing (several documents, or a path ending in /). Never overwrites an "
                   "input profile.")
@rules_option
@click.option("--engine", type=click.Choice(engines.ENGINES), default=None,
              help="The rules engine. [default: durable where it is available, else python]")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True,
              help="Exit with 1 when a finding (not a strength) is at or above this severity. Documents (markdown, "
                   "html, pdf) exit 0 once written, unless --fail-on is given.")
@click.option("--as-of", type=DateType(), metavar="YYYY-MM-DD",
              help="Evaluate as on this date (reviews overdue, waivers expired). [default: today, or SOURCE_DATE_EPOCH]")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Evaluate in N worker processes (at most two per core); results and their order are the same "
                   "as with one. [default: the number of cores; one for fewer than 32 profiles]")
@click.option("--brief", is_flag=True,
              help="Write the committee brief alone: how ready the partnership is, the problems to act on first, the "
                   "questions to settle and what is going well (at most two A4 pages); with several profiles, a brief "
                   "each. For text, markdown, html and pdf.")
@click.option("--all", "everything", is_flag=True,
              help="Text: show everything (every problem with its evidence, every question, the recommended "
                   "structure, later, waivers) instead of the brief and one line for the rest.")
@click.option("--summary-only", is_flag=True,
              help="Print only the portfolio summary (with --format json, as one JSON object).")
@click.option("--color", "color", type=click.Choice(COLOR_WHEN), default="auto", show_default=True,
              help="Colour the text on standard output: auto colours a terminal (not when NO_COLOR is set; "
                   "FORCE_COLOR colours a pipe too), always and never override both. Files are never coloured.")
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which engine is used and why, and which files are written.")
@click.option("-q", "--quiet", is_flag=True, help="Print no report and no progress, only errors; the exit code tells the result.")
def evaluate(profiles: tuple[str, ...], fmt: str, output: str | None, rule_dirs: tuple[str, ...], engine: str | None,
             fail_on: str, as_of: Any, jobs: int | None, brief: bool, everything: bool, summary_only: bool, color: str,
             verbose: bool, quiet: bool) -> None:
    """Evaluate partnership profiles and print the advice for each.

    The text (the default) and every document open with the committee brief: how
    ready the partnership is at its stage, the three to five problems to act on
    first, the questions to settle and what is going well. Text then says in one
    line what else there is (--all shows it); documents go on with the action
    plan, the structure and the evidence (--brief leaves them out).

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
      130, 143  stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal's number
      141  the reader of the output went away (| head)

    \b
    Example:
      advisor evaluate profiles/khayelitsha.yaml
      advisor evaluate --all profiles/khayelitsha.yaml
      advisor evaluate --brief --format pdf -o brief.pdf profiles/khayelitsha.yaml
      advisor evaluate --format json --fail-on medium profiles/ > portfolio.jsonl
      advisor evaluate --summary-only 'stations/**/*.yaml' portfolio.jsonl
      advisor evaluate --format html -o overview/ profiles/
      advisor evaluate --as-of 2027-03-31 -o advice.txt profiles/khayelitsha.yaml
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    if summary_only and fmt not in TEXT_FORMATS:
        raise click.UsageError(f"--summary-only prints the summary as text or json, not as {fmt}")
    if summary_only and (brief or everything):
        raise click.UsageError("--summary-only prints only the summary; leave out --brief and --all")
    # The portfolio brings in multiprocessing: imported when a command evaluates, not at start-up.
    from .portfolio import cores, evaluate_portfolio, max_jobs

    if jobs is not None and jobs > max_jobs() and not quiet:
        click.echo(f"note: --jobs {jobs} is more than this machine can use; starting at most {max_jobs()} workers "
                   f"(two per core, {cores()} core{'s' if cores() != 1 else ''} here)", err=True)

    items = list(expand_inputs(profiles))
    single = len(items) == 1 and isinstance(items[0], Source) and items[0].kind in ("file", "stdin")
    stdout = sys.stdout
    to_terminal = not output and stdout.isatty()
    out = Output(fmt, output, items, single=single, summary_only=summary_only, quiet=quiet,
                 color=not output and _use_color(stdout, color),
                 # None: the terminal's own width; files and pipes get the widest text.
                 width=None if to_terminal else MAX_TEXT_WIDTH,
                 say=(lambda note: click.echo(printable(note), err=True)) if verbose else None, brief=brief,
                 everything=everything)
    if verbose:
        _notes_on_stderr()
        config = click.get_current_context().find_root().obj
        if isinstance(config, Config):
            click.echo(printable(f"note: defaults from {config.path}: {config.describe()}"), err=True)
    if verbose and engine is None:
        problem = engines.durable_problem()
        if problem:
            click.echo(f"note: using the python engine because {problem}", err=True)

    rulebook = load_rules(rule_dirs)
    gc.freeze()  # the rules live as long as the command
    # A profile's objects are freed by reference counting as soon as its report is written; the collector's
    # passes meanwhile (one every 700 allocations by default) find next to nothing: fewer, as mypy makes them.
    collecting = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    summary = PortfolioSummary(rulebook, fail_on=fail_on)
    stderr = sys.stderr
    # Progress only for a person watching: many profiles, stderr a terminal, and not --quiet.
    show_progress = not quiet and len(items) > PROGRESS_MIN and _isatty(stderr)
    bar = (click.progressbar(length=len(items), label="Evaluating", file=stderr, show_pos=True)
           if show_progress else contextlib.nullcontext())
    outcomes = evaluate_portfolio(
        items, rules=rulebook, engine=engine, as_of=as_of, jobs=jobs,
        render=out.render, progress=bar.update if show_progress else None,
    )
    try:
        with bar, contextlib.closing(outcomes):  # closing: the workers stop however this block ends
            _deliver(outcomes, summary, out, clear_line=show_progress)
        out.close(summary)
    except BaseException:
        out.discard()  # a signal, a reader gone (`| head`) or an error: no temporary file is left behind
        raise
    finally:
        gc.set_threshold(*collecting)  # as it was (a caller of cli.main() in a process of its own)
    ctx = click.get_current_context()
    # A document is written to be read: its findings fail the command only when --fail-on asks for it.
    checking = fmt not in DOCUMENT_FORMATS or ctx.get_parameter_source("fail_on") is not ParameterSource.DEFAULT
    ctx.exit(EXIT_ERROR if summary.failed or summary.unmatched
             else EXIT_FINDINGS if summary.at_fail_on and checking else EXIT_OK)


def _deliver(outcomes: Any, summary: PortfolioSummary, out: Output, clear_line: bool) -> None:
    """Each profile's outcome to the summary and the output; its error (if any) on stderr, in input order."""
    for outcome in outcomes:
        if outcome.error is not None:
            # Start on a clean line when the progress bar is drawn on this terminal.
            click.echo(("\r\x1b[K" if clear_line else "") + printable(f"error: {outcome.error}"), err=True)
            summary.add_error(outcome.error, unmatched=outcome.unmatched)
            out.skip(outcome)
        else:
            summary.add(outcome.record)
            out.put(outcome)


@cli.command(context_settings=_CONTEXT)
@_profile_argument()
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
    rule_ids = load_rules(rule_dirs).known
    failed = False
    for item in expand_inputs(profiles):
        found = [("", item)] if isinstance(item, AdvisorError) else read_profiles(item, rule_ids)
        for name, loaded in found:
            if isinstance(loaded, AdvisorError):
                _error(loaded)
                failed = True
            else:
                click.echo(f"ok: {printable(name)}")
    click.get_current_context().exit(EXIT_ERROR if failed else EXIT_OK)


@cli.command(context_settings=_CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json", show_default=True,
              help="json: the JSON Schema; markdown: every field in words (docs/profile-fields.md).")
@click.option("-o", "--output", metavar="FILE", help="Write the schema to FILE instead of standard output.")
def schema(fmt: str, output: str | None) -> None:
    """Print the JSON Schema of a profile, for editors that check YAML as you type.

    \b
    Example:
      advisor schema -o profile.schema.json
    Then put this first line in a profile (yaml-language-server, VS Code YAML):
      # yaml-language-server: $schema=profile.schema.json
    """
    # With the models: only this command needs them.
    from .profile.schema import field_reference, json_schema

    text = field_reference() if fmt == "markdown" else json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    write_output(text, output)


@cli.group(cls=AdvisorGroup, context_settings=_CONTEXT)
def rules() -> None:
    """List, explain and document the rules.

    \b
    Example:
      advisor rules list
      advisor rules show risk.lack-of-communication
      advisor rules docs -o rules/REFERENCE.md
    """


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
    from .language.docs import coverage_lines, focus_lines, problem_table, rule_table  # only the rules commands need it
    from .report.text import MAX_WIDTH, terminal_width  # only the rules commands need it

    rulebook = load_rules(rule_dirs)
    width = terminal_width() if sys.stdout.isatty() else MAX_WIDTH
    lines = rule_table(rulebook, width)
    lines += ["", f"{len(rulebook.rules)} rules, {len(rulebook.derived)} derived facts", "",
              "Actionable guide ids cited by a rule, per area:"]
    coverage = coverage_lines(rulebook)
    lines += ["  " + line for line in coverage[:-1]]
    lines.append(coverage[-1])
    lines += ["", "Problems (findings of several rules told once):"] + ["  " + line for line in problem_table(rulebook)]
    lines += ["", "Rules that read the partnership's focus, per focus:"] + ["  " + line for line in focus_lines(rulebook)]
    click.echo("\n".join(wrapped for line in lines for wrapped in _fit(line, width)))


def _fit(line: str, width: int) -> list[str]:
    """A line as lines no wider than width, continued under its own indent plus four spaces."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return textwrap.wrap(line, width=width, subsequent_indent=indent, break_on_hyphens=False) or [line]


@rules.command("show", context_settings=_CONTEXT)
@click.argument("rule_id", shell_complete=_complete_rule_ids)
@rules_option
def rules_show(rule_id: str, rule_dirs: tuple[str, ...]) -> None:
    """Show everything about one rule: its condition in words, templates and the guide text it cites.

    \b
    Example:
      advisor rules show risk.lack-of-communication
    """
    rulebook = load_rules(rule_dirs)
    try:
        rule = rulebook.rule(rule_id)
    except KeyError:
        raise UsageError(f"unknown rule '{rule_id}'{did_you_mean(rule_id, rulebook.ids)}") from None
    from .language.docs import rule_text
    from .report.text import MAX_WIDTH, terminal_width

    width = terminal_width() if sys.stdout.isatty() else MAX_WIDTH
    click.echo(rule_text(rule, rulebook.knowledge, width, problems=rulebook.problems), nl=False)


@rules.command("docs", context_settings=_CONTEXT)
@click.option("-o", "--output", metavar="FILE", help="Write the reference to FILE (atomically) instead of standard output.")
@rules_option
def rules_docs(output: str | None, rule_dirs: tuple[str, ...]) -> None:
    """Write the Markdown rule reference, generated from the rule files and the guide.

    \b
    Example:
      advisor rules docs -o rules/REFERENCE.md
    """
    from .language.docs import rule_reference

    write_output(rule_reference(load_rules(rule_dirs)), output)


#: The shells `advisor completion` writes a script for.
SHELLS = ("bash", "zsh", "fish")


@cli.command(context_settings=_CONTEXT)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Completes commands, options, their choices and rule ids (rules show), and
    keeps the shell's own completion of files and folders for profiles.

    \b
    Example: write the script where the shell looks, then open a new shell.
      bash: advisor completion bash > ~/.bash_completion.d/advisor
            (and, in ~/.bashrc: source ~/.bash_completion.d/advisor)
      zsh:  advisor completion zsh > ~/.zfunc/_advisor
            (and, in ~/.zshrc before compinit: fpath+=~/.zfunc)
      fish: advisor completion fish > ~/.config/fish/completions/advisor.fish
    Or, for this shell only:
      eval "$(advisor completion bash)"
    """
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    assert complete is not None  # every one of SHELLS is click's
    click.echo(complete(cli, {}, PROG, COMPLETE_VAR).source())


#: The command's name, and the environment variable its completion scripts call it with (click's _PROG_COMPLETE).
PROG, COMPLETE_VAR = "advisor", "_ADVISOR_COMPLETE"


from .forms.commands import register as _register_forms  # noqa: E402  init, form, import, table, examples (issue 15)

_register_forms(cli)

if _DATACLASS_CODE is not None:
    _DATACLASS_CODE.stop()
gc.freeze()  # what the imports made lives as long as the process: no collection needs to look at it again
if _COLLECTING:  # the imports are done: collect as usual from here on
    gc.enable()


def main(argv: Sequence[str] | None = None) -> None:
    """The console-script entry point (`advisor`, `python -m advisor`)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name=PROG)
