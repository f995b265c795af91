"""Charts drawn on the server as inline SVG: no script, no build step, printable.

A chart is one currency's amounts (minor units) over labelled points (a label may have
two lines, "Jan\n2026"), as bars or a line, with a value axis in that currency (whole
units where they are, "€1,200"), a caption, and a <title> and <desc> a screen reader
announces; the page shows the same figures in a table beside it.
"""

from decimal import Decimal
from itertools import count

from babel.numbers import format_currency
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from groupbill.money import to_decimal

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 34, 36
TICKS = 4
_ids = count(1)


def axis_label(minor: int, currency: str) -> str:
    """An axis value in whole units of the currency when it is one ("€1,200"), else with
    the currency's decimals ("$2.50")."""
    value = to_decimal(minor, currency)
    if value == value.to_integral_value():
        return format_currency(value, currency, format="¤#,##0", locale="en_US",
                               currency_digits=False)  # fmt: skip
    return format_currency(value, currency, locale="en_US")


def nice_top(largest: int) -> int:
    """The axis' top: the smallest 1, 2, 2.5 or 5 x 10^k ≥ largest (at least 1)."""
    if largest <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= largest:
        magnitude *= 10
    for step in (1, 2, Decimal("2.5"), 5, 10):
        top = int(magnitude * step)
        if top >= largest:
            return top
    return magnitude * 10  # pragma: no cover


def _frame(title: str, desc: str, body: list[str]) -> SafeString:
    n = next(_ids)
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart{n}-t chart{n}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{n}-t">{escape(title)}</title><desc id="chart{n}-d">{escape(desc)}</desc>'
        f'<text class="caption" x="{LEFT}" y="18" aria-hidden="true">{escape(title)}</text>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # every text in it is escaped


def _axes(labels: list[str], values: list[int], currency: str) -> tuple[list[str], int, int]:
    """Grid lines and labels; returns them, the bottom's value and the scale's span."""
    low = min(0, *values) if values else 0
    top = nice_top(max([0, *values]))
    bottom = -nice_top(-low) if low < 0 else 0
    span = top - bottom
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for i in range(TICKS + 1):
        value = bottom + span * i // TICKS
        y = TOP + plot_h - plot_h * i / TICKS
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(axis_label(value, currency))}</text>"
        )
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    every = max(1, round(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + step * (i + 0.5)
            lines = "".join(
                f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 12}">{escape(part)}</tspan>'
                for n, part in enumerate(label.split("\n"))
            )
            out.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{lines}</text>'
            )
    return out, bottom, span


def _tip(label: str, value: int, currency: str) -> str:
    amount = format_currency(to_decimal(value, currency), currency, locale="en_US")
    return f"{label.replace(chr(10), ' ')}: {amount}"


def _y(value: int, bottom: int, span: int) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * (value - bottom) / span


def bars(title: str, labels: list[str], values: list[int], currency: str) -> SafeString:
    """A bar per label; a bar's tooltip is its label and amount."""
    body, bottom, span = _axes(labels, values, currency)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    zero = _y(0, bottom, span)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _y(value, bottom, span)
        top, height = min(y, zero), abs(zero - y)
        x = LEFT + step * i + step * 0.15
        tip = _tip(label, value, currency)
        body.append(
            f'<rect class="bar{" negative" if value < 0 else ""}" x="{x:.1f}" y="{top:.1f}" '
            f'width="{step * 0.7:.1f}" height="{height:.1f}"><title>{escape(tip)}</title></rect>'
        )
    desc = f"Bar chart in {currency}, {len(values)} bars."
    return _frame(title, desc, body)


def line(title: str, labels: list[str], values: list[int], currency: str) -> SafeString:
    """A line through the labelled points, each point with its amount as tooltip."""
    body, bottom, span = _axes(labels, values, currency)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    points = [(LEFT + step * (i + 0.5), _y(v, bottom, span)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body.append(f'<polyline class="line" points="{path}"/>')
    for (x, y), label, value in zip(points, labels, values, strict=True):
        tip = _tip(label, value, currency)
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(tip)}</title></circle>"
        )
    desc = f"Line chart in {currency}, {len(values)} points."
    return _frame(title, desc, body)
