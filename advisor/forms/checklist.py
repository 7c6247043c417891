"""The questionnaire on paper: a printable A4 checklist (Markdown, HTML, PDF) with tick boxes, lines to write on
and the guide section beside each question, for a workshop or a meeting without laptops."""

from __future__ import annotations

import html
from dataclasses import dataclass

from .. import __version__
from .questionnaire import Condition, Question, Questionnaire, Repeat, answer_words

#: How many blank copies of a repeat's questions the paper gives (more go on a separate sheet).
COPIES = {"partners": 3, "goals": 2, "risks": 2, "kpis": 2}
#: Lines to write on, by type of question.
_LINES = {"text": 2, "list": 2, "number": 1, "whole": 1, "date": 1, "partner": 1, "partners": 2}
INTRO = ("Answer what you know; leave the rest. Tick one box where the boxes are round, any number where they "
         "are square, and write on the lines. The section of A Guide to Strategic Partnering (Civilian "
         "Secretariat for Police Service, 2020) each question comes from is in the right margin. Afterwards, "
         "type the answers in with advisor init, or enter them in the phone form (advisor form xlsform).")


@dataclass(frozen=True)
class Item:
    """One question as printed: its number, words, help, guide sections, boxes or lines, and when it applies."""

    number: str
    text: str
    help: str
    guide: str
    boxes: tuple[str, ...]
    several: bool
    lines: int
    condition: str


def _condition(qn: Questionnaire, when: Condition | None, numbers: dict[str, str]) -> str:
    if when is None:
        return ""
    q = qn.by_id[when.question]
    ref = f"question {numbers.get(q.id, '')}".strip()
    if when.answered is not None:
        return f"Only if {ref} is {'answered' if when.answered else 'left blank'}."
    words = [answer_words(qn, q, v) for v in when.is_ or ()]
    listed = ", ".join(f"\u201c{w}\u201d" for w in words[:-1]) + (" or " if len(words) > 1 else "") + f"\u201c{words[-1]}\u201d"
    return f"Only if the answer to {ref} is {listed}."


def _item(qn: Questionnaire, q: Question, number: str, numbers: dict[str, str]) -> Item:
    numbers[q.id] = number
    boxes = tuple(label for _n, label in qn.choices(q)) if q.type in ("yes_no", "choice", "choices") else ()
    help_text = q.help + (" One per line." if q.type == "list" else "")
    if q.type == "date":
        help_text += " Write it as YYYY-MM-DD."
    if q.type in ("partner", "partners"):
        help_text += " Name " + ("the partner" if q.type == "partner" else "the partners") + " as written above."
    return Item(number, qn.label(q), help_text, ", ".join(q.refs), boxes, q.type == "choices",
                0 if boxes else _LINES.get(q.type, 1), _condition(qn, q.when, numbers))


@dataclass(frozen=True)
class Block:
    """A section, or one copy of a repeat (Partner 1, Goal 2, ...)."""

    title: str
    guide: str
    note: str
    items: tuple[Item, ...]
    level: int


def blocks(qn: Questionnaire) -> list[Block]:
    """The checklist's blocks in order: each section, with its repeats printed as numbered blank copies."""
    out: list[Block] = []
    numbers: dict[str, str] = {}
    items: list[Item] = []

    def flush(title: str, level: int, note: str, guide: str) -> None:
        out.append(Block(title, guide, note, tuple(items), level))
        items.clear()

    n = 0
    for section in qn.sections:
        first = True
        for entry in section.questions:
            if isinstance(entry, Repeat):
                if items or first:
                    flush(section.title, 1, "", section.guide)
                first = False
                noun = entry.item[0].upper() + entry.item[1:]
                n += 1
                base = n
                condition = _condition(qn, entry.when, numbers)
                for copy in range(1, COPIES.get(entry.repeat, 2) + 1):
                    for letter, q in zip("abcdefghijklmnopqrstuvwxyz", _with_reasons(entry.questions)):
                        items.append(_item(qn, q, f"{base}{letter}", numbers))
                    note = (condition + " " if condition else "") + (
                        f"One block per {entry.item}; more on a separate sheet." if copy == 1 else "")
                    flush(f"{noun} {copy}", 2, note.strip(), ", ".join(entry.questions[0].refs))
                continue
            for q in _with_reasons((entry,)):
                n += 1
                items.append(_item(qn, q, str(n), numbers))
        if items or first:
            flush(section.title if first else f"{section.title} (continued)", 1, "", section.guide)
    return out


def _with_reasons(questions: tuple[Question, ...]) -> list[Question]:
    out = []
    for q in questions:
        out.append(q)
        if q.reason_question() is not None:
            out.append(q.reason_question())
    return out


# --------------------------------------------------------------------------- Markdown


def markdown(qn: Questionnaire) -> str:
    """The checklist as Markdown: - [ ] boxes and lines of underscores to write on."""
    lines = [f"# {qn.title}: checklist", "", INTRO, "",
             "Partnership: ____________________________________  Date: ______________", ""]
    for block in blocks(qn):
        lines += [f"{'#' * (block.level + 1)} {block.title}" + (f" (guide {block.guide})" if block.guide else ""), ""]
        if block.note:
            lines += [f"*{block.note}*", ""]
        for item in block.items:
            lines.append(f"**{item.number}. {item.text}** (guide {item.guide})  ")
            tick = (" Tick all that apply." if item.several else " Tick one.") if item.boxes else ""
            lines.append(f"{item.help}{tick}" + (f" {item.condition}" if item.condition else ""))
            lines.append("")
            for box in item.boxes:
                lines.append(f"- [ ] {box}")
            for _ in range(item.lines):
                lines.append("_" * 72)
                lines.append("")
            if item.boxes:
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- HTML and PDF

_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm;
        @bottom-center { content: "Partnership checklist, page " counter(page) " of " counter(pages);
                         font: 8pt sans-serif; color: #555; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #111; line-height: 1.3;
       max-width: 182mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 5mm 0 2mm; padding: 1mm 2mm; background: #e8eef5; border-left: 3pt solid #2a5885;
     break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1mm; border-bottom: 0.6pt solid #2a5885; break-after: avoid; }
.intro { font-size: 9pt; margin: 0 0 3mm; }
.who { margin: 2mm 0 3mm; }
.note { font-style: italic; font-size: 8.5pt; color: #333; margin: 0 0 1mm; }
.q { display: flex; gap: 3mm; padding: 1.6mm 0; border-bottom: 0.4pt solid #ccc; break-inside: avoid; }
.body { flex: 1; }
.text { font-weight: bold; }
.num { display: inline-block; min-width: 7mm; }
.help { font-size: 8pt; color: #444; margin-top: 0.5mm; }
.when { font-size: 8pt; color: #7a3b00; }
.guide { width: 16mm; text-align: right; font-size: 8pt; color: #2a5885; white-space: nowrap; }
.boxes { margin-top: 1mm; }
.box { display: inline-block; margin: 0.6mm 4mm 0.6mm 0; white-space: nowrap; }
.box i { display: inline-block; width: 3mm; height: 3mm; border: 0.8pt solid #111; margin-right: 1.2mm;
         vertical-align: -0.4mm; }
.one .box i { border-radius: 50%; }
.line { border-bottom: 0.6pt solid #777; height: 6.5mm; }
"""


def _item_html(item: Item) -> str:
    e = html.escape
    parts = [f'<div class="q"><div class="body"><div class="text"><span class="num">{e(item.number)}.</span> '
             f"{e(item.text)}</div>"]
    parts.append(f'<div class="help">{e(item.help)}</div>')
    if item.condition:
        parts.append(f'<div class="when">{e(item.condition)}</div>')
    if item.boxes:
        kind = "several" if item.several else "one"
        parts.append(f'<div class="boxes {kind}">' + "".join(f'<span class="box"><i></i>{e(b)}</span>'
                                                            for b in item.boxes) + "</div>")
    parts += ['<div class="line"></div>'] * item.lines
    parts.append(f'</div><div class="guide">Guide {e(item.guide)}</div></div>')
    return "".join(parts)


def html_page(qn: Questionnaire) -> str:
    """The checklist as one HTML page laid out for A4 paper."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(qn.title)}: checklist</title>", f'<meta name="generator" content="advisor {e(__version__)}">',
           f"<style>{_CSS}</style></head><body>", f"<h1>{e(qn.title)}: checklist</h1>",
           f'<p class="intro">{e(INTRO)}</p>',
           '<div class="who q"><div class="body"><b>Partnership</b><div class="line"></div></div>'
           '<div class="body" style="flex:0 0 40mm"><b>Date</b><div class="line"></div></div></div>']
    for block in blocks(qn):
        tag = "h2" if block.level == 1 else "h3"
        guide = f" <small>(guide {e(block.guide)})</small>" if block.guide else ""
        out.append(f"<section><{tag}>{e(block.title)}{guide}</{tag}>")
        if block.note:
            out.append(f'<p class="note">{e(block.note)}</p>')
        out += [_item_html(item) for item in block.items]
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def pdf(qn: Questionnaire) -> bytes:
    """The checklist as an A4 PDF (WeasyPrint, the `pdf` extra)."""
    from ..report.document import pdf_from_html

    return pdf_from_html(html_page(qn))


def render(qn: Questionnaire, fmt: str) -> str | bytes:
    return {"markdown": markdown, "html": html_page, "pdf": pdf}[fmt](qn)
