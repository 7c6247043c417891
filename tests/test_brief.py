"""The committee brief: it opens every document and the text output, holds at most five problems, fits two A4
pages, speaks in plain words, and `--brief` writes it alone."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import tempfile

import pytest
from click.testing import CliRunner
from conftest import AS_OF, EXAMPLES, ROOT, get_advisor

from advisor.cli import cli
from advisor.report import advice, pictures
from advisor.report import document as documents
from advisor.report.findings import Finding, Level, Recommendation, Report
from advisor.report.text import format_text
from advisor.words import day, duration, money, percent, possessive

SITUATIONS = ROOT / "tests" / "situations"
PROFILES = sorted(EXAMPLES.glob("*.yaml")) + sorted(SITUATIONS.glob("*.yaml"))
STRUGGLING = EXAMPLES / "struggling-business-forum.yaml"
HEALTHY = EXAMPLES / "khayelitsha-safer-schools.yaml"
IDEA = SITUATIONS / "only-an-idea.yaml"

#: A field path or a rule id as a committee should never read it: `purpose.shared_vision`, `risk.value-mismatch`.
FIELD_PATH = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
URL = re.compile(r"https?://\S+")

try:
    import weasyprint  # noqa: F401

    WEASYPRINT = None
except (ImportError, OSError) as exc:
    WEASYPRINT = f"WeasyPrint is not installed ({exc.__class__.__name__}); pip install 'advisor[pdf]'"


def report_of(path) -> Report:
    return get_advisor("python").evaluate(path, as_of=AS_OF)


def evaluate(*args):
    return CliRunner().invoke(cli, ["evaluate", "--engine", "python", "--as-of", AS_OF, *map(str, args)],
                              catch_exceptions=False)


def brief_of_html(page: str) -> str:
    """The text a reader sees in the brief's section of an HTML document."""
    section = page[page.index('<section id="brief"'):page.index("</section>", page.index('<section id="brief"'))]
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", section))


def brief_of_markdown(md: str) -> str:
    """The brief of a Markdown document: everything before its first appendix (or its colophon)."""
    end = md.find("\n## Action plan")
    return md[: end if end >= 0 else md.index("\n---\n")]


def body_of_text(text: str) -> str:
    """The text output less its footer (the profile's file name, the rules' version, the guide)."""
    return text.rstrip("\n").rsplit("\n\n", 1)[0]


def pages(pdf: bytes) -> int:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return len(re.findall(rb"/Type\s*/Page\b", pdf))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run([pdfinfo, f.name], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def questions_report(count: int) -> Report:
    """A report by hand with `count` questions to settle across three areas of the guide, and one problem."""
    areas = [("4.1", "Which values do all the partners share?"), ("16.2", "How often do the partners communicate?"),
             ("17.1", "How much of the budget have the partners committed?")]
    findings = [Finding("risk.hand-made", "failure_risk", "high", "Partners rarely communicate", "m", "a", ("B.6", "16.2"))]
    for i in range(count):
        ref, text = areas[i % 3]
        findings.append(Finding(f"q.{i}", "question", "medium", f"{text} ({i + 1})", "Not recorded yet.", "Settle it.", (ref,)))
    rec = Recommendation(None, Level(None, None, None), None, None, ())
    return Report.from_findings(findings=tuple(findings), profile_name="Questions", source="q.yaml", recommendation=rec,
                                as_of=AS_OF)


# ---- the brief comes first and holds at most five problems -----------------------------------------------


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_the_brief_comes_first_and_holds_three_to_five_problems(path):
    report = report_of(path)
    doc = advice.build(report)
    actionable = [p for p in report.problems if p.severity != "info"]
    assert min(3, len(actionable)) <= len(doc.first) <= 5
    assert [a.title for a in doc.first] == [p.title for p in actionable[: len(doc.first)]]  # the most pressing

    page = documents.render(report, "html")
    assert page.index('<section id="brief"') < page.index('<div id="appendices">')
    brief = page[page.index('<section id="brief"'):page.index('<div id="appendices">')]
    assert brief.count('<li class="problem') == len(doc.first)

    md = documents.render(report, "markdown")
    brief_md = brief_of_markdown(md)
    assert len(re.findall(r"^\d+\. \*\*", brief_md, re.MULTILINE)) == len(doc.first)
    assert "## Action plan" not in brief_md and md.index("## Going well") < md.find("## Recommended structure")


def test_each_problem_of_the_brief_says_why_first_what_to_do_and_who_owns_it(struggling_report):
    md = brief_of_markdown(documents.render(struggling_report, "markdown"))
    for problem in struggling_report.problems[:5]:
        assert f"**{problem.title}**" in md
        assert f"*Why first:* {problem.why}" in md
        assert f"*Next meeting:* {problem.advice}" in md
    assert md.count("*Owner:* ") == 5
    more = len(advice.build(struggling_report).actions) - 5
    assert f"… and {more} more problems in the action plan below." in md


def test_a_problem_names_its_owner_where_the_profile_says(struggling_report):
    doc = advice.build(struggling_report)
    owned = next(a for a in doc.actions if a.owner)
    md = documents.render(struggling_report, "markdown")
    assert f"Owner: {owned.owner}" in md.replace("*", "")


def test_a_healthy_partnership_brief_says_so_in_a_few_lines():
    report = report_of(HEALTHY)
    text = format_text(report, None, width=100, brief=True)
    assert re.match(rf"{re.escape(report.profile_name)}\n(Ready|Nearly ready)\. Of the \d+ steps the guide expects at its "
                    r"stage \(running\), \d+ are in place \((8\d|9\d|100)%\)\.", text)
    assert len(body_of_text(text).splitlines()) <= 20
    md = brief_of_markdown(documents.render(report, "markdown"))
    assert "## The one thing to act on" in md and "## Going well" in md
    assert len([line for line in md.splitlines() if line.strip()]) <= 20


def test_readiness_is_stated_and_explained_in_one_line(struggling_report):
    v = advice.build(struggling_report).verdict
    readiness = struggling_report.summary["readiness"]
    assert (v.in_place, v.due, v.score) == (readiness["in_place"], readiness["due"], struggling_report.summary["score"])
    assert readiness["stage"] == "active" and v.word == "Not ready yet"
    assert v.sentence == f"Of the {v.due} steps the guide expects at its stage (running), {v.in_place} are in place ({v.score}%)."
    assert v.explanation == "Readiness is the share of the guide's steps due by this stage that no open problem or question names."
    for fmt in ("markdown", "html"):
        out = html_lib.unescape(documents.render(struggling_report, fmt, brief=True))
        assert v.sentence in out and v.explanation in out


def test_the_areas_add_up_to_readiness():
    for path in (STRUGGLING, IDEA):
        report = report_of(path)
        coverage = advice.area_coverage(report, at_stage=True)
        readiness = report.summary["readiness"]
        assert (sum(c.in_place for c in coverage), sum(c.total for c in coverage)) == (readiness["in_place"], readiness["due"])


# ---- questions to settle -----------------------------------------------------------------------------------


def test_questions_are_grouped_by_area_the_most_important_first_with_and_n_more():
    report = questions_report(9)
    doc = advice.build(report)
    assert [g.title for g in doc.questions] == ["Culture and values", "Communication and information sharing",
                                                "Resources and assumptions"]
    assert sum(len(g.questions) for g in doc.brief_questions) == advice.BRIEF_QUESTIONS and doc.more_questions == 3
    md = brief_of_markdown(documents.render(report, "markdown"))
    assert md.index("**Culture and values**") < md.index("**Communication and information sharing**")
    assert "- Which values do all the partners share? (1)" in md and "(7)" not in md
    assert "… and three more questions below." in md
    text = format_text(report, None, width=100)
    assert "Questions to settle (9)\n  Culture and values\n    • Which values do all the partners share? (1)\n" in text
    assert "  … and 3 more questions\n" in text and "3 more questions: --all shows everything" in text
    assert "(9)" in format_text(report, None, width=100, everything=True)


def test_a_short_list_of_questions_has_no_and_more():
    md = documents.render(questions_report(2), "markdown")
    assert "more question" not in brief_of_markdown(md)


# ---- text output folds, --all unfolds ----------------------------------------------------------------------


def test_text_output_folds_everything_after_the_brief_behind_one_line(struggling_report):
    folded = format_text(struggling_report, None, width=100)
    shown = [p for p in struggling_report.problems if p.title in folded]
    assert [p.rank for p in shown] == [1, 2, 3, 4, 5]
    more = len(advice.build(struggling_report).actions) - 5
    assert f"\n… {more} more problems: --all shows everything\n" in folded
    assert "because:" not in folded and "Recommended structure" not in folded
    everything = format_text(struggling_report, None, width=100, everything=True)
    assert all(p.title in everything for p in struggling_report.problems)
    assert "because: " in everything and "\nRecommended structure\n" in everything
    assert "--all shows everything" not in everything
    assert len(folded.splitlines()) <= 60 < len(everything.splitlines())


def test_the_command_line_folds_and_all_unfolds():
    folded, everything = evaluate(STRUGGLING), evaluate("--all", STRUGGLING)
    assert folded.stdout.count("why first:") == 5 and "--all shows everything" in folded.stdout
    assert everything.stdout.count("why here:") == len(advice.build(report_of(STRUGGLING)).actions) - 5
    assert folded.exit_code == everything.exit_code == 1


def test_json_is_unchanged_and_refuses_brief_and_all():
    plain = evaluate("--format", "json", STRUGGLING)
    assert plain.stdout == report_of(STRUGGLING).to_json() + "\n"
    for option in ("--brief", "--all"):
        refused = evaluate("--format", "json", option, STRUGGLING)
        assert refused.exit_code == 2 and "always writes the whole report" in refused.stderr
    assert "cannot be used together" in evaluate("--brief", "--all", STRUGGLING).stderr


# ---- --brief writes the brief alone ------------------------------------------------------------------------


def test_brief_writes_the_brief_alone_in_every_document_format(tmp_path):
    for fmt, appendix in (("markdown", "## Action plan"), ("html", 'id="appendices"')):
        full = evaluate("--format", fmt, STRUGGLING).stdout
        brief = evaluate("--format", fmt, "--brief", STRUGGLING).stdout
        assert appendix in full and appendix not in brief
        assert "Act on these first" in brief and "in the full advice" in brief
    text = evaluate("--brief", STRUGGLING).stdout
    assert "--all shows everything" not in text and text.count("why first:") == 5


def test_brief_gives_a_brief_each_for_several_profiles(tmp_path):
    result = evaluate("--format", "markdown", "--brief", "-o", tmp_path / "briefs", STRUGGLING, HEALTHY)
    written = sorted(p.name for p in (tmp_path / "briefs").iterdir())
    assert written == ["khayelitsha-safer-schools.md", "struggling-business-forum.md"], result.output
    assert all("## Action plan" not in (tmp_path / "briefs" / name).read_text() for name in written)
    text = evaluate("--brief", STRUGGLING, HEALTHY).stdout
    assert text.count(" steps the guide expects at its stage") == 2 and "Portfolio: 2 profiles" in text


@pytest.mark.skipif(WEASYPRINT is not None, reason=WEASYPRINT or "")
@pytest.mark.slow  # three PDFs each, 7 s for the struggling forum: the slow run (CI) checks every profile
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in PROFILES])
def test_the_brief_prints_on_at_most_two_a4_pages(path):
    report = report_of(path)
    assert pages(documents.render(report, "pdf", brief=True)) <= 2
    if path == STRUGGLING:  # the full document starts its appendices on the page after the brief
        assert pages(documents.render(report, "pdf")) > 2


# ---- plain words ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_no_field_path_or_rule_id_in_the_brief_or_the_text(path):
    report = report_of(path)
    committee_reads = {
        "text": body_of_text(format_text(report, None, width=100)),
        "markdown": brief_of_markdown(documents.render(report, "markdown")),
        "html": brief_of_html(documents.render(report, "html")),
    }
    for fmt, text in committee_reads.items():
        found = FIELD_PATH.findall(URL.sub("", text))
        assert not found, f"{fmt}: {found}"
        assert not re.search(r"\[\d+\]", text), fmt
        assert not any(f.rule in text for f in report.findings), fmt


def test_evidence_names_items_and_fields_in_words_in_the_full_document(struggling_report):
    md = documents.render(struggling_report, "markdown")
    appendix = md[md.index("## Evidence, for whoever keeps the profile"):md.index("## References")]
    assert "- Budget committed: **R180 000** — line 47" in appendix  # in the profile's currency
    assert "- Last review: **1 December 2025** — line 181" in appendix
    assert "`risk.value-mismatch`" in appendix  # the expert's appendix cites rule ids, set apart
    before = md[: md.index("## Evidence, for whoever keeps the profile")]
    assert "risk.value-mismatch" not in before and "line 47" not in before


def test_the_report_currency_writes_money_as_people_write_it(struggling_report):
    object.__setattr__(struggling_report, "currency", "ZAR")  # what evaluation will give the report
    try:
        md = documents.render(struggling_report, "markdown")
    finally:
        object.__delattr__(struggling_report, "currency")
    assert "- Budget committed: **R180 000** — line 47" in md and "- Budget required: **R1 200 000** — line 46" in md


def test_words_write_values_as_people_write_them():
    assert money(565000, "ZAR") == "R565 000" and money(1200.5, "USD") == "USD 1 200.5" and money(42) == "42"
    assert duration(0.03) == "1 day" and duration(0.07) == "2 days" and duration(1) == "1 month"
    assert duration(9) == "9 months" and duration(14.5) == "about 15 months" and duration(24.02) == "24 months"
    assert percent(0.75) == "75%" and day("2026-09-30") == "30 September 2026"
    assert possessive("Mandla Farms") == "Mandla Farms'" and possessive("SAPS Khayelitsha") == "SAPS Khayelitsha's"


# ---- the area chart ------------------------------------------------------------------------------------------


def test_an_area_with_nothing_in_place_is_drawn_red_not_grey():
    svg = str(pictures.coverage_svg([advice.AreaCoverage("values", "Culture and values", 0, 3),
                                     advice.AreaCoverage("goals", "Goals", 3, 3),
                                     advice.AreaCoverage("risks", "Risks", 0, 0)]))
    values = svg[svg.index("<g><title>Culture and values"):svg.index("</g>")]
    pale, red = pictures.NOTHING_IN_PLACE
    assert f'fill="{pale}" stroke="{red}"' in values and f'fill="{red}" font-weight="700">0/3' in values
    assert "none of 3 steps in place" in values
    risks = svg[svg.index("<g><title>Risks"):]
    assert red not in risks[: risks.index("</g>")] and "not due" in risks


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def struggling_report() -> Report:
    return report_of(STRUGGLING)


def test_the_brief_is_byte_identical_for_the_same_input():
    assert documents.render(report_of(IDEA), "html", brief=True) == documents.render(report_of(IDEA), "html", brief=True)
    assert format_text(report_of(IDEA), None, width=80) == format_text(report_of(IDEA), None, width=80)


def test_the_brief_of_an_idea_lists_what_can_wait():
    report = report_of(IDEA)
    assert report.later
    text = format_text(report, None, width=100)
    assert f"{len(advice.build(report).later)} for later" in text
    md = documents.render(report, "markdown")
    assert "## For later" in md and md.index("## For later") > md.index("## Action plan")
