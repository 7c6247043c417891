"""The advice document rendered as Markdown, HTML or PDF from the Jinja2 templates in reports/ (the only module importing jinja2)."""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from markupsafe import Markup

from .. import __version__
from ..errors import UsageError, printable
from ..knowledge import KnowledgeBase, load_knowledge
from ..resources import data_path
from ..vocabulary import SEVERITY_LABELS
from ..words import day, in_words, upper_first
from .advice import AdviceDocument, build
from .findings import Report
from .pictures import coverage_svg, level_svg

#: The formats render() knows, and the template each one is made from (PDF is printed from the HTML).
FORMATS = ("markdown", "html", "pdf")
_TEMPLATES = {"markdown": "advice.md.j2", "html": "advice.html", "pdf": "advice.html"}

PDF_HINT = "PDF output needs WeasyPrint: pip install 'partnership-advisor[pdf]'"


# ---- escaping for Markdown ---------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~^$@&#])")
# Only at the start of a text: a list marker ("- ", "+ ", "1. ") followed by a space or the end.
_MD_LINE_START = re.compile(r"^([-+]|\d{1,9}(?=[.)]))(?=[.)]?(\s|$))")


def md_escape(value: Any) -> str:
    """Text that Markdown (GitHub and pandoc) shows as typed: no HTML, links, emphasis or tables."""
    if isinstance(value, Markup):
        return str(value)
    text = printable(" ".join(str(value).split()))  # no raw ESC or other control character in the file
    text = _MD_SPECIAL.sub(r"\\\1", text)
    m = _MD_LINE_START.match(text)
    if m:
        lead = m.group(1)
        text = (lead + "\\" if lead[0].isdigit() else "\\" + lead) + text[m.end() :]
    return text


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    return md_escape(value)


def _bar(share: float, width: int = 10) -> Markup:
    full = round(share * width)
    return Markup("█" * full + "░" * (width - full))


# ---- rendering --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _environment(folder: str, markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=False if markdown else jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_md_finalize if markdown else None,
    )
    env.filters["md"] = md_escape
    env.filters["bar"] = _bar
    env.filters["upper_first"] = upper_first
    env.filters["day"] = day
    env.filters["pct"] = lambda share: f"{share * 100:.0f}%"
    env.globals.update(
        coverage_svg=coverage_svg,
        level_svg=level_svg,
        show=in_words,
        SEVERITY_LABELS=SEVERITY_LABELS,
    )
    return env


def _html(doc: AdviceDocument, brief_only: bool) -> str:
    env = _environment(str(data_path("reports")), False)
    return env.get_template(_TEMPLATES["html"]).render(doc=doc, r=doc.report, kb=doc.knowledge, brief_only=brief_only)


def render(report: Report, fmt: str, knowledge: KnowledgeBase | None = None, brief: bool = False) -> str | bytes:
    """The advice document for a report: text for "markdown" and "html", bytes for "pdf".

    It opens with the committee brief (the verdict, the problems to act on first, the questions to settle and
    what is going well); the appendices follow, unless `brief` asks for the brief alone.
    The same report gives the same bytes; the date shown is the report's as_of.
    Raises UsageError for an unknown format, or for "pdf" when WeasyPrint is not installed.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown document format {fmt!r}; choose one of {', '.join(FORMATS)}")
    doc = build(report, knowledge)
    if fmt == "markdown":
        env = _environment(str(data_path("reports")), True)
        return env.get_template(_TEMPLATES["markdown"]).render(doc=doc, r=doc.report, kb=doc.knowledge, brief_only=brief)
    html = _html(doc, brief)
    if fmt == "html":
        return html
    return pdf_from_html(html)


def render_portfolio(summary: Any, rows: Any, knowledge: KnowledgeBase | None = None) -> str:
    """The portfolio overview page (HTML) from reports/portfolio.html.j2: the summary, charts of the
    findings across profiles, and a table with a row per profile linking its advice document.

    `summary` is an advisor.portfolio.PortfolioSummary, `rows` its OverviewRows in input order.
    The template escapes every piece of text itself (autoescape on, whatever its file name).
    """
    rows = list(rows)
    links = {row.source: row.document for row in rows if row.document}
    env = _environment(str(data_path("reports")), False)
    return env.get_template("portfolio.html.j2").render(
        s=summary, rows=rows, links=links, kb=knowledge or load_knowledge(), version=__version__
    )


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    raise ValueError(f"the advice document fetches nothing: {url}")


def pdf_from_html(html: str) -> bytes:
    """An HTML page as PDF bytes (WeasyPrint, no network): documents and the printable checklist."""
    try:
        import weasyprint  # optional extra partnership-advisor[pdf]: imported only here
    except ImportError:
        raise UsageError(PDF_HINT) from None
    except OSError as exc:  # WeasyPrint is there but the system's Pango is not
        raise UsageError(f"{PDF_HINT} (and the Pango library: {str(exc).splitlines()[0]})") from None
    return weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf()
