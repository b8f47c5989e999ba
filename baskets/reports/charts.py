"""Bar charts drawn on the server as SVG: no JavaScript, readable printed, accessible.

Only presentation attributes are used (no inline style), so the site's Content-Security-Policy
(style-src 'self') lets them draw; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

BAR = "#2f6f4f"
TEXT = "#1d1d1b"
GRID = "#c8c8c8"


def _fr(value: float) -> str:
    text = f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return text.replace(",", "\u202f").replace(".", ",")


def _open(width: int, height: int, title: str) -> list[str]:
    label = escape(title, {'"': "&quot;"})
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="100%" aria-label="{label}">',
            f"<title>{escape(title)}</title>"]


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
              orientation: str = "horizontal", number: Callable[[float], str] = _fr) -> Markup:
    """An SVG bar chart of `values`, one bar per label, with its figures written on it."""
    if orientation == "vertical":
        return _vertical(labels, values, title=title, unit=unit, number=number)
    row, left, width = 26, 230, 680
    height = row * max(len(values), 1) + 16
    top = max(values, default=0) or 1
    span = width - left - 90
    parts = _open(width, height, title)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 8 + index * row
        bar = max(span * value / top, 0)
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12" '
                     f'fill="{TEXT}">{escape(short)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" '
                     f'fill="{BAR}"><title>{escape(label)} : {escape(number(value))} '
                     f'{escape(unit)}</title></rect>')
        parts.append(f'<text x="{left + bar + 6:.1f}" y="{y + 15}" font-size="12" '
                     f'fill="{TEXT}">{escape(number(value))} {escape(unit)}</text>')
    parts.append(f'<line x1="{left}" y1="4" x2="{left}" y2="{height - 4}" stroke="{GRID}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _vertical(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str,
              number: Callable[[float], str]) -> Markup:
    width, height, bottom, top_margin = 640, 240, 40, 22
    count = max(len(values), 1)
    step = (width - 20) / count
    top = max(values, default=0) or 1
    span = height - bottom - top_margin
    parts = _open(width, height, title)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = 10 + index * step
        bar = span * value / top
        y = height - bottom - bar
        parts.append(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{step - 8:.1f}" '
                     f'height="{bar:.1f}" fill="{BAR}"><title>{escape(label)} : '
                     f'{escape(number(value))} {escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" '
                     f'font-size="11" fill="{TEXT}">{escape(number(value))}</text>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" font-size="10" fill="{TEXT}">{escape(label)}</text>')
    parts.append(f'<line x1="10" y1="{height - bottom}" x2="{width - 10}" '
                 f'y2="{height - bottom}" stroke="{GRID}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
