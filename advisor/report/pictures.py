"""Pictures for the advice documents as inline SVG: coverage per area and the partnership's levels (no script, no fonts fetched)."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..vocabulary import LEVELS
from .advice import AreaCoverage


def _text(value: object) -> str:
    """Text escaped for SVG, as a plain str: added to a str, a Markup would escape the markup beside it."""
    return str(escape(value))


_SVG_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, Liberation Sans, Arial, sans-serif"'


def _fill(share: float) -> str:
    if share >= 0.8:
        return "#1f7a4d"
    if share >= 0.5:
        return "#b7791f"
    return "#c0392b"


#: An area with steps due and none in place is the most urgent: its whole bar is drawn in red.
NOTHING_IN_PLACE = ("#f8d7d3", "#c0392b")
#: An area with no step due yet at the partnership's stage: grey, and said in words.
NOTHING_DUE = "#e6e8eb"


def coverage_svg(coverage: list[AreaCoverage] | tuple[AreaCoverage, ...]) -> Markup:
    """A horizontal bar chart: one bar per area of the guide, the share of its steps due at the stage in place.

    An area with nothing in place is the most urgent: its bar is red from end to end (a pale red track with a
    red outline), never the neutral grey of an area with nothing due yet.
    """
    width, label_w, bar_w, row, top = 400, 116, 220, 24, 4
    height = top + row * len(coverage) + 6
    parts = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="chart-title chart-desc" {_SVG_FONT} font-size="14">'
        ),
        '<title id="chart-title">How much of each area of the guide is in place</title>',
        '<desc id="chart-desc">'
        + _text("; ".join(f"{c.title}: {_words(c)}" for c in coverage))
        + "</desc>",
    ]
    for i, c in enumerate(coverage):
        y = top + i * row
        filled = round(bar_w * c.share, 1)
        label = _text(c.area.replace("_", " ").capitalize())
        parts.append(f"<g><title>{_text(c.title)}: {_words(c)}</title>")
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" fill="#222">{label}</text>')
        if not c.total:
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="15" rx="3" fill="{NOTHING_DUE}"/>')
            parts.append(f'<text x="{label_w + bar_w + 5}" y="{y + 17}" fill="#5b6470">not due</text></g>')
            continue
        if c.in_place == 0:
            pale, red = NOTHING_IN_PLACE
            parts.append(f'<rect x="{label_w + 0.75}" y="{y + 5.75}" width="{bar_w - 1.5}" height="13.5" rx="3" '
                         f'fill="{pale}" stroke="{red}" stroke-width="1.5"/>')
        else:
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="15" rx="3" fill="#e6e8eb"/>')
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="{filled}" height="15" rx="3" fill="{_fill(c.share)}"/>'
            )
        colour = NOTHING_IN_PLACE[1] if c.in_place == 0 else "#222"
        weight = ' font-weight="700"' if c.in_place == 0 else ""
        parts.append(f'<text x="{label_w + bar_w + 5}" y="{y + 17}" fill="{colour}"{weight}>{c.in_place}/{c.total}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _words(c: AreaCoverage) -> str:
    if not c.total:
        return "no step due yet"
    if not c.in_place:
        return f"none of {c.total} steps in place"
    return f"{c.in_place} of {c.total} steps in place"


def level_svg(declared: str | None, evidenced: str | None, recommended: str | None) -> Markup:
    """The four levels of 9.1 as rising steps, marking the declared, evidenced and recommended level."""
    width, col, base = 420, 105, 92
    marks = (
        ("declared", declared, "#4a5568"),
        ("evidenced", evidenced, "#2b6cb0"),
        ("recommended", recommended, "#1f7a4d"),
    )
    used = [m for m in marks if m[1] in LEVELS]
    height = base + 22 + 16 * max((sum(1 for m in used if m[1] == lv) for lv in LEVELS), default=0) + 4
    parts = [
        (
            f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="ladder-title" {_SVG_FONT} font-size="12">'
        ),
        '<title id="ladder-title">'
        + _text(
            "Partnership levels, lowest to highest: "
            + ", ".join(LEVELS)
            + ". "
            + "; ".join(f"{name}: {value}" for name, value, _ in used)
        )
        + "</title>",
    ]
    for i, lv in enumerate(LEVELS):
        x = i * col
        h = 26 + i * 18
        highlight = lv == recommended
        parts.append(
            f'<rect x="{x + 3}" y="{base - h}" width="{col - 6}" height="{h}" rx="3" '
            f'fill="{"#d7efe2" if highlight else "#eef0f3"}" stroke="{"#1f7a4d" if highlight else "#c5cad1"}"/>'
        )
        parts.append(f'<text x="{x + col / 2}" y="{base - h + 16}" text-anchor="middle" fill="#222">{i + 1}</text>')
        parts.append(
            f'<text x="{x + col / 2}" y="{base + 15}" text-anchor="middle" fill="#222" font-weight="600">{lv}</text>'
        )
        y = base + 32
        for name, value, colour in used:
            if value == lv:
                parts.append(f'<circle cx="{x + 12}" cy="{y - 4}" r="4" fill="{colour}"/>')
                parts.append(f'<text x="{x + 20}" y="{y}" fill="{colour}" font-size="11">{name}</text>')
                y += 16
    parts.append("</svg>")
    return Markup("".join(parts))
