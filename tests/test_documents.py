"""The advice document: every format renders every example, user text stays text, and a reader's browser sees it whole."""

from __future__ import annotations

import base64
import html as html_lib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import pytest
from conftest import AS_OF, EXAMPLES, get_advisor

import advisor
from advisor.report import advice, pictures
from advisor.report import document as documents
from advisor.errors import UsageError
from advisor.knowledge import load_knowledge
from advisor.report.findings import Evidence, Finding, Level, Recommendation, Report, Waived

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
EXAMPLE_IDS = [p.stem for p in EXAMPLE_FILES]
#: The example whose PDF and browser checks run in the everyday run; the other examples' are slow.
EVERYDAY = "khayelitsha-safer-schools"
HOSTILE = "<script>alert(1)</script> {{ 7*7 }}"

try:
    import weasyprint  # noqa: F401

    WEASYPRINT = None
except (ImportError, OSError) as exc:  # OSError: WeasyPrint without the Pango system library
    WEASYPRINT = f"WeasyPrint is not installed ({exc.__class__.__name__}); pip install 'advisor[pdf]'"

CHROMIUM = shutil.which("chromium")


def report_of(path_or_profile, as_of: str = AS_OF) -> Report:
    return get_advisor("python").evaluate(path_or_profile, as_of=as_of)


@pytest.fixture(scope="module")
def struggling() -> Report:
    return report_of(EXAMPLES / "struggling-business-forum.yaml")


def hostile_report() -> Report:
    """A report whose every piece of user text is hostile: names, statements, messages, evidence, waivers."""
    evaluated = report_of(
        {
            "name": f"Forum {HOSTILE}",
            "purpose": {"statement": f"Statement {HOSTILE}"},
            "partners": [{"name": f"Partner {HOSTILE}", "sector": "police"}, {"name": "CPF & <b>friends</b>"}],
            "waivers": [{"rule": "risk.lack-of-communication", "reason": f"Reason {HOSTILE}"}],
        }
    )
    extra = Finding(
        rule="risk.lack-of-communication-hand-made",
        kind="failure_risk",
        severity="high",
        title="Hand-made finding",
        message=f"The purpose is: Statement {HOSTILE}",
        advice=f"Agree with Partner {HOSTILE} what to do.",
        guide_refs=("B.6", "16.2"),
        evidence=(
            Evidence("purpose.statement", f"Statement {HOSTILE}", 3),
            Evidence("partners[0].objectives", [], 7),
            Evidence("derived.hand_made", 1, None, f"Note {HOSTILE}"),
        ),
        subject=f"Partner {HOSTILE}",
        item_index=0,
    )
    waived = Waived(extra, f"Reason {HOSTILE}", "2027-01-31")
    return Report.from_findings(
        profile_name=evaluated.profile_name,
        source=f"profiles/{HOSTILE}.yaml",
        recommendation=evaluated.recommendation,
        findings=evaluated.findings + (extra,),
        waived=evaluated.waived + (waived,),
        expired_waivers=({"rule": "x.y", "reason": f"Old {HOSTILE}", "until": "2020-01-01", "note": "expired"},),
        derived=evaluated.derived,
        engine=evaluated.engine,
        as_of=evaluated.as_of,
        advisor_version=evaluated.advisor_version,
        rules_version=evaluated.rules_version,
    )


# ---- every format, every example ---------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=EXAMPLE_IDS)
@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_text_formats_render_each_example(fmt, path):
    report = report_of(path)
    out = documents.render(report, fmt)
    assert isinstance(out, str)
    text = html_lib.unescape(out) if fmt == "html" else out.replace("\\", "")
    assert report.profile_name in text
    assert AS_OF in text and report.rules_version in text and report.engine in text
    # Every problem, question and strength is in the document (the brief, then the appendices).
    for problem in report.problems:
        assert problem.title in text
    for finding in report.questions + tuple(report.by_kind("strength")) + report.later:
        assert finding.title in text


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_documents_show_questions_to_settle(fmt):
    report = report_of(EXAMPLES / "draft-partners-only.yaml")
    assert report.questions
    out = documents.render(report, fmt)
    text = html_lib.unescape(out) if fmt == "html" else out.replace("\\", "")
    for question in report.questions:
        assert question.title in text


@pytest.mark.skipif(WEASYPRINT is not None, reason=WEASYPRINT or "")
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=() if p.stem == EVERYDAY else pytest.mark.slow)
                                  for p in EXAMPLE_FILES])
def test_pdf_renders_each_example(path):
    pdf = documents.render(report_of(path), "pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            info = subprocess.run([pdfinfo, f.name], capture_output=True, text=True, check=True).stdout
        assert "(A4)" in info


def test_unknown_format_is_a_usage_error(struggling):
    with pytest.raises(UsageError, match="unknown document format 'docx'"):
        documents.render(struggling, "docx")


def test_pdf_without_weasyprint_says_how_to_install(struggling, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint now raises ImportError
    with pytest.raises(UsageError) as info:
        documents.render(struggling, "pdf")
    assert str(info.value) == "PDF output needs WeasyPrint: pip install 'partnership-advisor[pdf]'"
    assert "\n" not in str(info.value)


# ---- contents -------------------------------------------------------------------------------------


def test_markdown_has_the_sections_in_order(struggling):
    md = documents.render(struggling, "markdown")
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Act on these first",
        "## Questions to settle",
        "## Going well",
        "## Action plan",
        "## Questions to settle, all of them",
        "## What is in place, area by area",
        "## Recommended structure",
        "## Evidence, for whoever keeps the profile",
        "## References",
    ]
    assert md.startswith(f"# {struggling.profile_name}\n")
    assert "**Not ready yet.**" in md and "*Why first:*" in md and "*Next meeting:*" in md
    assert "### 1. " in md and "*What to do:*" in md and "> “" in md


def test_the_action_plan_follows_the_problems_ranking(struggling):
    doc = advice.build(struggling)
    ranked = [p for p in struggling.problems if p.severity != "info"]
    assert [a.number for a in doc.actions] == list(range(1, len(doc.actions) + 1))
    assert [a.title for a in doc.actions] == [p.title for p in ranked]
    assert [a.why for a in doc.actions] == [p.why for p in ranked]
    # Every finding other than a strength or a question is told once, in the problem it is part of.
    acted_on = [f for f in struggling.findings if f.kind not in ("strength", "question")]
    assert sum(len(a.items) for a in doc.actions) == len(acted_on)
    assert 3 <= len(doc.first) <= 5 and doc.first == doc.actions[: len(doc.first)]


def test_the_guide_is_quoted_from_the_knowledge_base(struggling):
    kb = load_knowledge()
    html = documents.render(struggling, "html")
    quoted = re.findall(r"<q>(.*?)</q>", html)
    assert quoted
    texts = {advice.Quote("x", "x", s.text).display for s in kb}
    assert all(html_lib.unescape(q) in texts for q in quoted)
    for ref in kb.references:
        assert ref.url in html


def test_evidence_is_in_plain_words():
    line = advice.plain_evidence(Evidence("communication.frequency", "ad_hoc", 153))
    assert (line.label, line.value, line.line) == ("How often the partners communicate", "ad hoc", 153)
    line = advice.plain_evidence(Evidence("purpose.shared_vision", None, None))
    assert line.text == "Shared vision agreed by all partners: not recorded"
    names = {("partners", 2): "Msunduzi Local Municipality"}
    line = advice.plain_evidence(Evidence("partners[2].objectives", []), names)
    assert line.text == "Msunduzi Local Municipality's goals signed up to: none"
    line = advice.plain_evidence(Evidence("partners[0].values", ["fair trade", "land care"]), {("partners", 0): "Mandla Farms"})
    assert line.text == "Mandla Farms' values: fair trade, land care"
    assert advice.plain_evidence(Evidence("partners[4].sector", None)).label == "Sector of partner 5"
    line = advice.plain_evidence(Evidence("goals[0].priority", None), {("goals", 0): "g1"})
    assert line.text == "Priority (1 is the highest) of goal g1: not recorded"
    line = advice.plain_evidence(Evidence("derived.committed_share", 0.15, None, "Share of the budget"))
    assert (line.label, line.value, line.note) == ("Share of the budget committed", "15%", None)
    line = advice.plain_evidence(Evidence("goals", 3, 21, "number of items"))
    assert (line.label, line.value) == ("Number of goals", "3")
    line = advice.plain_evidence(Evidence("monitoring", None, None, "section missing"))
    assert (line.label, line.value) == ("Monitoring section", "not recorded")


def test_numbers_are_written_as_people_write_them():
    assert advice.plain_evidence(Evidence("funding.budget_committed", 565000.0, 51), currency="ZAR").text == "Budget committed: R565 000"
    assert advice.plain_evidence(Evidence("funding.budget_required", 1200000, 50), currency="USD").text == "Budget required: USD 1 200 000"
    assert advice.plain_evidence(Evidence("funding.budget_required", 1200000, 50)).text == "Budget required: 1 200 000"
    assert advice.plain_evidence(Evidence("duration.months", 0.03)).text == "Duration: 1 day"
    assert advice.plain_evidence(Evidence("duration.months", 9.0)).text == "Duration: 9 months"
    assert advice.plain_evidence(Evidence("monitoring.last_review", "2026-09-30", 242)).text == "Last review: 30 September 2026"
    assert advice.plain_evidence(Evidence("derived.days_since_review", 359)).value == "359 days"
    assert advice.plain_evidence(Evidence("derived.term", "event")).value == "a one-off event (under one month)"


def test_partner_names_replace_indices_in_the_document(struggling):
    md = documents.render(struggling, "markdown")
    assert "SAPS Pietermaritzburg's goals signed up to: **none**" in md
    assert not re.search(r"partners\[\d+\]", md)


def test_waived_items_show_reason_and_expiry():
    report = report_of(
        {
            "name": "Waiver test",
            "partners": [{"name": "SAPS", "sector": "police"}],
            "waivers": [
                {
                    "rule": "governance.purpose-statement",
                    "reason": "Statement agreed at next meeting",
                    "until": "2027-01-31",
                },
                {"rule": "risk.lack-of-communication", "reason": "One-off meeting", "until": "2020-01-01"},
            ],
        }
    )
    assert report.waived and report.expired_waivers
    for fmt in ("markdown", "html"):
        out = documents.render(report, fmt)
        assert "Statement agreed at next meeting" in out and "31 January 2027" in out
        assert "One-off meeting" in out and "ended on 1 January 2020" in out


# ---- per-area coverage ---------------------------------------------------------------------------


def test_area_coverage_counts_actionable_steps_of_every_area(struggling):
    kb = load_knowledge()
    coverage = advice.area_coverage(struggling, kb)
    assert [c.area for c in coverage] == [a.name for a in kb.areas]
    for c, area in zip(coverage, kb.areas):
        assert c.total == sum(1 for sid in area.ids if kb.sections[sid].actionable) > 0
        assert 0 <= c.in_place <= c.total
    assert advice.area_coverage(struggling, kb) == coverage  # pure


def test_area_coverage_counts_open_findings_not_waived_ones():
    kb = load_knowledge()
    gap = Finding("t.gap", "governance_gap", "high", "t", "m", "a", ("16.2", "B.6"))
    note = Finding("t.note", "structure", "info", "t", "m", "a", ("16.3",))
    rec = Recommendation(None, Level(None, None, None), None, None, ())
    base = {"profile_name": "t", "source": "t", "recommendation": rec}

    def communication(report):
        return next(c for c in advice.area_coverage(report, kb) if c.area == "communication")

    total = communication(Report.from_findings(findings=(), **base)).total
    assert communication(Report.from_findings(findings=(), **base)).in_place == total
    assert communication(Report.from_findings(findings=(gap, note), **base)).in_place == total - 1
    assert communication(Report.from_findings(findings=(note,), waived=(Waived(gap, "accepted"),), **base)).in_place == total


def test_healthy_partnership_has_most_steps_in_place():
    doc = advice.build(report_of(EXAMPLES / "khayelitsha-safer-schools.yaml"))
    assert doc.steps_in_place / doc.steps_total >= 0.9
    assert doc.readiness in ("ready", "nearly ready")


def test_coverage_chart_is_inline_svg():
    doc = advice.build(report_of(EXAMPLES / "draft-partners-only.yaml"))
    svg = str(pictures.coverage_svg(doc.coverage))
    assert svg.startswith("<svg") and svg.count("<rect") >= len(doc.coverage)
    assert "href" not in svg and "<script" not in svg


# ---- user text stays text --------------------------------------------------------------------------


def test_html_escapes_every_piece_of_user_text():
    html = documents.render(hostile_report(), "html")
    assert "<script" not in html.lower()
    assert "<b>friends</b>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}") >= 6
    assert "CPF &amp; &lt;b&gt;friends&lt;/b&gt;" in html
    assert "Reason &lt;script&gt;" in html and "Old &lt;script&gt;" in html and "Note &lt;script&gt;" in html


def test_markdown_escapes_every_piece_of_user_text():
    md = documents.render(hostile_report(), "markdown")
    assert not re.search(r"(?<!\\)<(script|/script|b>)", md)
    assert md.count(r"\<script\>alert(1)\</script\> {{ 7\*7 }}") >= 6
    assert md.startswith(r"# Forum \<script\>")


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (apt-get install pandoc)")
@pytest.mark.parametrize("reader", ["markdown", "gfm"])
def test_markdown_converts_cleanly_with_pandoc(reader):
    md = documents.render(hostile_report(), "markdown")
    done = subprocess.run(
        ["pandoc", "-f", reader, "-t", "html"], input=md, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr == ""
    assert "<script" not in done.stdout and "<b>friends" not in done.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in done.stdout
    assert done.stdout.count("<table") == 2  # the coverage table and the level table, nothing else


def test_html_fetches_nothing_and_runs_nothing(struggling):
    html = documents.render(struggling, "html")
    lowered = html.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "@font-face"):
        assert needle not in lowered, needle
    assert re.findall(r'href="([^"#][^"]*)"', html) == [ref.url for ref in load_knowledge().references]


# ---- deterministic ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["markdown", "html", pytest.param("pdf", marks=pytest.mark.slow)])
def test_identical_inputs_give_identical_bytes(fmt):
    if fmt == "pdf" and WEASYPRINT:
        pytest.skip(WEASYPRINT)
    path = EXAMPLES / "khayelitsha-safer-schools.yaml"
    first = documents.render(report_of(path), fmt)
    second = documents.render(advisor.Advisor(engine="python").evaluate(path, as_of=AS_OF), fmt)
    assert first == second


def test_the_date_comes_from_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798416000")  # 2026-12-28T00:00:00Z
    report = get_advisor("python").evaluate(EXAMPLES / "soweto-youth-day-event.yaml")
    assert report.as_of == "2026-12-28"
    assert "*Committee brief, 28 December 2026." in documents.render(report, "markdown")
    assert '<p class="meta">28 December 2026' in documents.render(report, "html")


# ---- as a reader sees it: headless Chromium --------------------------------------------------------


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): no port, no network.

    The document itself carries no script; the measurements run through DevTools, from outside the page.
    """

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    )

    def __init__(self, exe: str, timeout: float = 60):
        self.timeout = timeout
        self.tmp = tempfile.TemporaryDirectory()
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def pipe_on_3_and_4():
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [exe, *self.FLAGS, f"--user-data-dir={self.tmp.name}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # preexec_fn is safe here: the test process starts no threads of its own.
            preexec_fn=pipe_on_3_and_4,  # noqa: PLW1509
            close_fds=True,
            pass_fds=(3, 4),
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        target = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Network.enable", session=True)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        message, self._buf = self._buf.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def open(self, url: str, width: int, mobile: bool) -> list[str]:
        """Load url in a viewport `width` CSS pixels wide; return every URL the page requested."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + self.timeout
        while not any(m.get("method") == "Page.loadEventFired" for m in self.events):
            self.events.append(self._read(deadline))
        return [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, full: bool) -> bytes:
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=full)["data"]
        return base64.b64decode(data)

    def pdf(self) -> bytes:
        data = self.call("Page.printToPDF", session=True, preferCSSPageSize=True, printBackground=True)["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self.tmp.cleanup()


#: Layout as the browser computed it: the page's width and every element that sticks out to the right or left.
MEASURE = """(() => {
  const width = document.documentElement.clientWidth, outside = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5))
      outside.push(el.tagName.toLowerCase() + ' ' + Math.round(box.left) + '..' + Math.round(box.right)
                   + ' ' + (el.textContent || '').trim().slice(0, 60));
  }
  return {width: width, scrollWidth: document.documentElement.scrollWidth,
          height: document.documentElement.scrollHeight, text: document.body.innerText.length,
          outside: outside.slice(0, 10)};
})()"""

WIDTHS = [pytest.param(390, True, id="phone-390"), pytest.param(1280, False, id="desktop-1280")]
#: Every example at every width; one example on a phone in the everyday run, the others are slow.
PAGES = [pytest.param(path, *width.values, id=f"{path.stem}-{width.id}",
                      marks=() if (path.stem, width.id) == (EVERYDAY, "phone-390") else pytest.mark.slow)
         for path in EXAMPLE_FILES for width in WIDTHS]


def png_colours(png: bytes) -> int:
    """How many different byte values the image data holds: a blank page gives very few."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    data, pos = b"", 8
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(data)))


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the page is not checked in a browser")
    browser = Chromium(CHROMIUM)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Screenshots and PDFs for a person to look at: $ADVISOR_DOC_ARTIFACTS when set, else a temporary folder."""
    folder = os.environ.get("ADVISOR_DOC_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("documents")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("path, width, mobile", PAGES)
def test_page_fits_the_screen_in_chromium(chromium, artifacts, path, width, mobile):
    page = artifacts / f"{path.stem}.html"
    page.write_text(documents.render(report_of(path), "html"), encoding="utf-8")
    requested = chromium.open(page.as_uri(), width, mobile)
    assert requested == [page.as_uri()], "the document must fetch nothing"
    got = chromium.evaluate(MEASURE)
    assert got["width"] == width  # the viewport meta tag works: the page is laid out for the phone
    assert got["outside"] == [] and got["scrollWidth"] <= width, got
    assert got["text"] > 1000 and got["height"] > 1500, got
    png = chromium.screenshot(full=False)  # the first screen a reader sees
    (artifacts / f"{path.stem}-{width}.png").write_bytes(png)
    assert png_colours(png) > 50
    if path.stem == "struggling-business-forum":  # and one whole page, top to bottom
        (artifacts / f"{path.stem}-{width}-full.png").write_bytes(chromium.screenshot(full=True))


def test_overflow_check_catches_a_page_too_wide(chromium, tmp_path):
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><meta name="viewport" content="width=device-width"><body><table style="width:700px">'
        "<tr><td>too wide</td></tr></table>",
        encoding="utf-8",
    )
    chromium.open(page.as_uri(), 390, True)
    got = chromium.evaluate(MEASURE)
    assert got["scrollWidth"] > 390 and any(o.startswith("table ") for o in got["outside"])


@pytest.mark.slow  # a second browser run and a PDF rasterised; WeasyPrint's A4 PDF is checked in the everyday run
def test_chromium_prints_the_document_to_a4_pdf(chromium, artifacts, struggling):
    page = artifacts / "struggling-print.html"
    page.write_text(documents.render(struggling, "html"), encoding="utf-8")
    chromium.open(page.as_uri(), 1280, False)
    pdf = chromium.pdf()
    (artifacts / "struggling-business-forum-chromium.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # the first page as a reader sees it, turned into an image
        pdf_file = artifacts / "struggling-business-forum-chromium.pdf"
        page_png = artifacts / "struggling-business-forum-chromium-page1"
        subprocess.run(
            [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf_file), str(page_png)],
            check=True,
            timeout=60,
        )
        assert png_colours(page_png.with_suffix(".png").read_bytes()) > 50


def test_charts_are_labelled_for_screen_readers(struggling) -> None:
    html = documents.render(struggling, "html")
    assert "&lt;title" not in html and "&lt;desc" not in html
    for ids in re.findall(r'aria-labelledby="([^"]+)"', html):
        for one in ids.split():
            assert f'id="{one}"' in html, one
