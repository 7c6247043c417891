"""Pictures for the advice documents as inline SVG: coverage per area and the partnership's levels (no script, no fonts fetched)."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..vocabulary import LEVELS
from .advice import AreaCoverage


_SVG_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, Liberation Sans, Arial, sans-serif"'


def _fill(share: float) -> str:
    if share >= 0.8:
        return "#1f7a4d"
    if share >= 0.5:
        return "#b7791f"
    return "#c0392b"


def coverage_svg(coverage: list[AreaCoverage] | tuple[AreaCoverage, ...]) -> Markup:
    """A horizontal bar chart: one bar per area of the guide, the share of its steps in place."""
    width, label_w, bar_w, row, top = 400, 116, 236, 24, 4
    height = top + row * len(coverage) + 6
    parts = [
        (
            f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="chart-title chart-desc" {_SVG_FONT} font-size="14">'
        ),
        '<title id="chart-title">How much of each area of the guide is in place</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{c.title}: {c.in_place} of {c.total} steps in place" for c in coverage))
        + "</desc>",
    ]
    for i, c in enumerate(coverage):
        y = top + i * row
        filled = round(bar_w * c.share, 1)
        label = escape(c.area.replace("_", " ").capitalize())
        parts.append(f"<g><title>{escape(c.title)}: {c.in_place} of {c.total} in place</title>")
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" fill="#222">{label}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="15" rx="3" fill="#e6e8eb"/>')
        if filled > 0:
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="{filled}" height="15" rx="3" fill="{_fill(c.share)}"/>'
            )
        parts.append(f'<text x="{label_w + bar_w + 5}" y="{y + 17}" fill="#222">{c.in_place}/{c.total}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


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
        + escape(
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
