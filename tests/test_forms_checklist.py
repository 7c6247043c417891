"""`advisor form checklist`: the blank questionnaire on A4 paper."""

from __future__ import annotations

import html
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.forms.checklist import COPIES, blocks
from advisor.forms.questionnaire import load_questionnaire

try:
    import weasyprint  # noqa: F401
    WEASYPRINT = None
except (ImportError, OSError) as exc:  # pragma: no cover - the pdf extra is in CI
    WEASYPRINT = f"WeasyPrint cannot be imported: {exc}"


def _checklist(fmt: str) -> str:
    result = CliRunner().invoke(cli, ["form", "checklist", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_question_is_on_the_paper_with_its_guide_section_and_boxes_or_lines():
    qn = load_questionnaire()
    text = _checklist("markdown")
    for repeat, q in qn.questions():
        assert qn.label(q) in text, q.id
        for _name, label in qn.choices(q):
            assert f"- [ ] {label}" in text
    assert "**1. What is the partnership called?** (guide 3)" in text
    assert "**5b. Which sector is this partner from?** (guide 8.6)" in text
    assert "Only if the answer to question " in text and "is \u201cYes\u201d." in text
    assert text.count("## Partner ") == COPIES["partners"]
    assert "_" * 72 in text


def test_the_html_checklist_is_a4_with_round_and_square_boxes():
    page = _checklist("html")
    assert "size: A4" in page
    assert '<div class="boxes one">' in page and '<div class="boxes several">' in page
    assert '<div class="guide">Guide 21.6</div>' in page
    assert html.escape("Don't know") in page
    blocks_ = blocks(load_questionnaire())
    assert [b.title for b in blocks_ if b.level == 1][:2] == ["Who is involved", "Who is involved (continued)"]


def test_a_pdf_is_not_written_to_a_terminal_and_a_file_is_not_replaced(tmp_path):
    target = tmp_path / "c.md"
    target.write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["form", "checklist", "--format", "markdown", "-o", str(target)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine"


@pytest.mark.slow
@pytest.mark.skipif(WEASYPRINT is not None, reason=WEASYPRINT or "")
def test_the_pdf_checklist_renders_on_a4_pages(tmp_path):
    pdf = tmp_path / "checklist.pdf"
    result = CliRunner().invoke(cli, ["form", "checklist", "--format", "pdf", "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "(A4)" in info
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        assert 8 <= pages <= 20
    if shutil.which("pdftoppm"):  # the first two pages as a committee member sees them
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")],
                       check=True)
        assert len(list(tmp_path.glob("page-*.png"))) == 2
