"""The command line of the ways in: `advisor init`, `advisor form`, `advisor import`, `advisor table` and
`advisor examples` (registered by advisor/cli.py)."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, Callable

import click

from ..errors import AdvisorError, Location, UsageError, printable

# The questionnaire and its readers are imported by the commands that use them, not when the command line starts
# (building the questionnaire's models costs ~15 ms that `advisor evaluate` does not need).

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
EXIT_ERROR = 2


def _write_new(path: str, data: str | bytes, force: bool) -> None:
    """Write a file atomically; an existing file only with --force (no user file is replaced by surprise)."""
    from ..report.output import write_atomic

    if os.path.lexists(path) and not force:
        raise UsageError("already exists; give another file name, or --force to replace it", Location(path))
    write_atomic(path, data)


# --------------------------------------------------------------------------- init


class _Terminal:
    """The interview in a terminal, with click's prompts: numbered choices, help under each question."""

    def section(self, title: str, guide: str) -> None:
        click.echo()
        click.secho(f"== {title} (guide {guide}) ==" if guide else f"== {title} ==", bold=True)

    def ask(self, text: str, help_line: str, options: list[str], hint: str, default: str | None,
            read: Callable[[str], Any]) -> Any:
        click.echo()
        click.secho(text, bold=True)
        click.secho("  " + help_line, dim=True)
        for n, option in enumerate(options, 1):
            click.echo(f"  {n:>2}. {option}")

        from .questionnaire import AnswerError

        def proc(value: str) -> Any:
            try:
                return read(value)
            except AnswerError as exc:
                raise click.UsageError(str(exc)) from None

        return click.prompt(f"  ({hint})", default=default or "", show_default=bool(default), value_proc=proc,
                            prompt_suffix=" ")

    def confirm(self, text: str, default: bool) -> bool:
        click.echo()
        return click.confirm(text, default=default)


@click.command(context_settings=_CONTEXT)
@click.argument("profile", default="profile.yaml", metavar="[PROFILE]")
@click.option("--from", "answers_file", metavar="ANSWERS",
              help="Take the answers from a YAML or JSON file (question ids to answers in words) instead of "
                   "asking.")
@click.option("--force", is_flag=True, help="Replace PROFILE if it exists.")
def init(profile: str, answers_file: str | None, force: bool) -> None:
    """Describe a partnership by answering questions; writes a profile.

    Asks the questionnaire (knowledge/questionnaire.yaml) in the terminal, in
    the guide's order: who is involved, purpose and goals, type and level,
    roles and governance, communication, resources and risks, monitoring.
    Choose answers by number or in words; press Enter to skip a question.
    Partners, goals, risks and KPIs repeat until you stop adding them. A
    summary is shown before anything is written, and the profile is written
    whole or not at all (Ctrl-C leaves nothing behind). The profile keeps
    each question as a comment above its answer, and validates. With --from,
    PROFILE may be - for standard output.

    \b
    Example:
      advisor init khayelitsha.yaml
      advisor init --from answers.yaml khayelitsha.yaml
      advisor init --from answers.json -
      advisor evaluate khayelitsha.yaml
    """
    from .answers import header_lines, make_profile, read_answers_file
    from .interview import interview, summary
    from .questionnaire import load_questionnaire

    qn = load_questionnaire()
    if profile == "-" and answers_file is None:
        raise UsageError("the questions are asked on the terminal; give a file name for the profile, or use - "
                         "with --from ANSWERS")
    if profile != "-" and os.path.lexists(profile) and not force:
        raise UsageError("already exists; give another file name, or --force to replace it", Location(profile))
    if answers_file is not None:
        if os.path.exists(profile) and os.path.exists(answers_file) and os.path.samefile(profile, answers_file):
            raise UsageError("is the answers file; give another name for the profile", Location(profile))
        answers = read_answers_file(qn, answers_file)
        how = f"made by `advisor init` from {os.path.basename(answers_file)}"
    else:
        click.echo("Describe the partnership: answer in words or by number; Enter skips a question.\n"
                   "Ctrl-C stops without writing anything.")
        try:
            answers = interview(qn, _Terminal())
        except click.Abort:
            raise UsageError("the questionnaire was not finished (no more input); nothing was written") from None
        click.echo()
        click.secho("== Your answers ==", bold=True)
        for title, rows in summary(qn, answers):
            click.secho(title, bold=True)
            for question, answer in rows:
                click.echo(f"  {question} {answer}")
        if not click.confirm(f"\nWrite {profile}?", default=True):
            click.echo("Nothing was written.")
            return
        how = "made by `advisor init`"
    text, _loaded = make_profile(qn, answers, "<stdout>" if profile == "-" else profile, header_lines(how))
    if profile == "-":
        from ..report.output import write_stdout

        write_stdout(text)
        return
    _write_new(profile, text, force)
    click.echo(f"wrote {printable(profile)}; next: advisor evaluate {printable(profile)}")


# --------------------------------------------------------------------------- examples


def _examples() -> list[tuple[str, str]]:
    """Each example profile and what it is: the first line of its opening comment (after the modeline)."""
    folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".yaml"):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as fh:
                first = next((line.lstrip("# ").strip() for line in fh
                              if line.startswith("#") and "yaml-language-server:" not in line), "")
            out.append((path, first))
    return out


@click.command(context_settings=_CONTEXT)
@click.option("--copy", "folder", metavar="DIR", help="Copy the example profiles into DIR (made if missing).")
def examples(folder: str | None) -> None:
    """List the example profiles that come with advisor, or copy them.

    pip installs them inside site-packages; --copy DIR puts them (and the
    schema their first line names, for editors) where you can start from
    one. Existing files in DIR are never replaced.

    \b
    Example:
      advisor examples
      advisor examples --copy my-profiles/
      advisor evaluate my-profiles/khayelitsha-safer-schools.yaml
    """
    found = _examples()
    if folder is None:
        for path, what in found:
            click.echo(f"{os.path.basename(path)}\n  {what}")
        click.echo(f"\nThey are in {os.path.dirname(found[0][0])}; copy them with: advisor examples --copy DIR")
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder: {exc.strerror or exc}", Location(folder)) from None
    failed = False
    # The examples' modeline names the schema beside them, so an editor checks a copy as you type.
    schema = os.path.join(os.path.dirname(found[0][0]), "profile.schema.json")
    for path in [p for p, _what in found] + ([schema] if os.path.exists(schema) else []):
        target = os.path.join(folder, os.path.basename(path))
        if os.path.lexists(target):
            click.echo(printable(f"error: {target}: already exists; not replaced"), err=True)
            failed = True
            continue
        try:
            shutil.copyfile(path, target)
        except OSError as exc:
            raise UsageError(f"cannot copy: {exc.strerror or exc}", Location(target)) from None
        click.echo(f"copied {printable(target)}")
    if failed:
        click.get_current_context().exit(EXIT_ERROR)


# --------------------------------------------------------------------------- form


@click.group(context_settings=_CONTEXT)
def form() -> None:
    """Write the questionnaire as a phone form or a printable checklist.

    \b
    Example:
      advisor form xlsform -o partnership.xlsx
      advisor form checklist --format pdf -o checklist.pdf
    """


@form.command("xlsform", context_settings=_CONTEXT)
@click.option("-o", "--output", required=True, metavar="FILE.xlsx", help="The XLSForm file to write.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def form_xlsform(output: str, force: bool) -> None:
    """Write the questionnaire as an XLSForm for KoboToolbox and ODK Collect.

    The form (survey, choices and settings sheets) asks for the whole
    profile on a phone, offline: a group per section, repeats for partners,
    goals, risks and KPIs, questions shown only when they apply, and a
    message when an answer is out of range. Upload it to KoboToolbox or ODK
    Central; bring the submissions back with advisor import.

    \b
    Example:
      advisor form xlsform -o partnership.xlsx
      advisor import kobo-export.xlsx -o profiles/
    """
    from .questionnaire import load_questionnaire
    from .xlsform import workbook_bytes

    if not output.lower().endswith(".xlsx"):
        raise UsageError("an XLSForm is an Excel workbook; give a file name ending in .xlsx", Location(output))
    _write_new(output, workbook_bytes(load_questionnaire()), force)
    click.echo(f"wrote {printable(output)}")


@form.command("checklist", context_settings=_CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "markdown"]), default="html", show_default=True,
              help="html and pdf are laid out for A4 paper; pdf needs the pdf extra.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def form_checklist(fmt: str, output: str | None, force: bool) -> None:
    """Print the questionnaire as a blank checklist for a meeting without laptops.

    Every question with tick boxes for its answers or lines to write on, the
    section of the guide beside it, when it applies, and blank blocks for
    partners, goals, risks and KPIs.

    \b
    Example:
      advisor form checklist --format pdf -o checklist.pdf
      advisor form checklist --format markdown > checklist.md
    """
    from ..report.output import write_stdout
    from .checklist import render
    from .questionnaire import load_questionnaire

    data = render(load_questionnaire(), fmt)
    if output:
        _write_new(output, data, force)
        click.echo(f"wrote {printable(output)}", err=True)
    elif fmt == "pdf" and sys.stdout.isatty():
        raise UsageError("a PDF is not for the terminal; give -o FILE.pdf")
    else:
        write_stdout(data)


# --------------------------------------------------------------------------- import


@click.command("import", context_settings=_CONTEXT)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-o", "--output", "folder", default=".", show_default=True, metavar="DIR",
              help="The folder to write the profiles into (made if missing).")
@click.option("--force", is_flag=True, help="Replace profiles that exist already.")
def import_(files: tuple[str, ...], folder: str, force: bool) -> None:
    """Make profiles from spreadsheets: one profile per submission or row.

    Reads the submissions of the phone form (advisor form xlsform) exported
    from KoboToolbox (XLS, or CSV with the repeat groups' files) or ODK
    Central (its .zip, or the CSV files in it), with the question ids as
    headers; metadata columns such as _uuid and _submission_time are left
    aside. Also reads a simple sheet: a row per partnership, headed with the question ids
    (partnership_name, stage, ...), and a second sheet or file with a row per
    partner, its 'partnership' column naming the partnership.

    Each profile is named after the partnership and validated. A bad row is
    reported as FILE:ROW:COLUMN and the other submissions are still imported;
    the exit code is then 2.

    \b
    Example:
      advisor import kobo-export.xlsx -o profiles/
      advisor import partnership_profile.zip -o profiles/
      advisor import partnerships.csv partners.csv -o profiles/
    """
    from .answers import slug
    from .importer import import_files
    from .questionnaire import load_questionnaire

    qn = load_questionnaire()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder: {exc.strerror or exc}", Location(folder)) from None
    failed = 0
    used: set[str] = set()
    for result in import_files(qn, list(files)):
        if result.error is not None:
            click.echo(printable(f"error: {result.error}"), err=True)
            failed += 1
            continue
        base = slug(result.name or "partnership")
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        target = os.path.join(folder, name + ".yaml")
        try:
            _write_new(target, result.text or "", force)
        except UsageError as exc:
            click.echo(printable(f"error: {exc}"), err=True)
            failed += 1
            continue
        click.echo(f"wrote {printable(target)} ({printable(result.name or '')}, from {printable(result.origin)})")
    if not used and not failed:
        raise UsageError("holds no submissions: no row under the header", Location(files[0]))
    if failed:
        click.get_current_context().exit(EXIT_ERROR)


# --------------------------------------------------------------------------- table


@click.command(context_settings=_CONTEXT)
@click.argument("profiles", nargs=-1, required=True, metavar="PROFILE|DIR|GLOB...")
@click.option("--per", type=click.Choice(["profile", "finding"]), default="profile", show_default=True,
              help="A row per profile (readiness, counts, the first problems) or per finding.")
@click.option("-o", "--output", metavar="FILE.csv", help="Write to FILE instead of standard output.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Evaluate as on this date. [default: today]")
def table(profiles: tuple[str, ...], per: str, output: str | None, force: bool, as_of: Any) -> None:
    """Evaluate profiles and write the results as CSV, for spreadsheets.

    --per profile (the default) gives a row per profile: its stage, readiness
    (a word and a percentage), steps in place, findings by severity and kind,
    and the three problems to act on first. A profile that cannot be read gets
    a row with its error. --per finding gives a row per finding: rule, kind,
    severity, title, subject, message, advice and guide sections. Text that a
    spreadsheet would take for a formula (=, +, -, @) starts with an
    apostrophe.

    \b
    Example:
      advisor table profiles/ -o portfolio.csv
      advisor table --per finding profiles/ -o findings.csv
    """
    from ..api import Advisor
    from ..profile.reading import expand_inputs
    from ..report.output import refuse_inputs, write_stdout
    from .tables import FINDING_COLUMNS, PROFILE_COLUMNS, error_row, finding_rows, profile_row, to_csv

    if output:
        refuse_inputs(output, list(profiles))
    advisor = Advisor()
    rows: list[dict[str, Any]] = []
    failed = False
    for item in expand_inputs(profiles):
        for result in [item] if isinstance(item, AdvisorError) else advisor.evaluate_many([item], as_of=as_of and as_of.date()):
            if isinstance(result, AdvisorError):
                click.echo(printable(f"error: {result}"), err=True)
                failed = True
                if per == "profile":
                    rows.append(error_row(result))
            else:
                rows.extend([profile_row(result)] if per == "profile" else finding_rows(result))
    text = to_csv(PROFILE_COLUMNS if per == "profile" else FINDING_COLUMNS, rows)
    if output:
        _write_new(output, text, force)
    else:
        write_stdout(text)
    if failed:
        click.get_current_context().exit(EXIT_ERROR)


COMMANDS = [init, form, import_, table, examples]


def register(group: click.Group) -> None:
    """Add these commands to advisor's command group."""
    for command in COMMANDS:
        group.add_command(command)

