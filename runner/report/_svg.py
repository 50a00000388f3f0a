"""Charts as inline SVG text, drawn here: no script, no font, no file, nothing to fetch.

Three shapes cover the report: horizontal bars (a rate per voucher or per segment
value), columns (a count per day) and a line with points (a running total per day).
Every chart is an ``<svg class="chart" data-chart=NAME>``; its bars are ``rect.bar``, its
points ``circle.point``, and each carries a ``<title>`` with its exact value (shown on
hover). All text is escaped.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "Bar",
    "Point",
    "axis_steps",
    "axis_text",
    "bar_chart",
    "column_chart",
    "line_chart",
    "nice_ceiling",
]

_WIDTH = 640
_FONT = 12
_LABEL_CHARS = 16


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (in the chart's unit) and the text shown beside it."""

    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Point:
    """One point of a series over days: the day (x label), value and its text."""

    label: str
    value: float
    text: str


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least *value* (1 for 0 or less)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-12):
            return step * power
    return 10.0 * power


def axis_steps(value: float, *, whole: bool) -> tuple[float, int]:
    """A round step (1, 2 or 5 × 10^k; at least 1 when *whole*) and how many of them
    (at most 5) reach *value*: the grid lines of a vertical axis up to *value*."""
    rough = max(value, 1e-9) / 5
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= rough * (1 - 1e-12))
    if whole:
        step = max(1.0, round(step))
    return step, max(1, math.ceil(value / step - 1e-9))


def axis_text(value: float) -> str:
    """An axis value: whole numbers without decimals, others with at most two."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _text_width(text: str) -> float:
    """Roughly how wide *text* is drawn at the chart's font size."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return (wide + 0.6 * (len(text) - wide)) * _FONT


def _short(text: str) -> str:
    """A label cut to fit the label column (the full text is in the bar's title)."""
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _svg(name: str, title: str, height: int, body: Sequence[str]) -> str:
    """The ``<svg>`` element around a chart's shapes."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return head + "".join(body) + "</svg>"


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "label") -> str:
    """A ``<text>`` element (escaped) at *x*, *y*."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )


def bar_chart(name: str, title: str, bars: Sequence[Bar], *, top: float | None = None) -> str:
    """Horizontal bars, one row per label, scaled to *top* (default: the largest value)."""
    label_w = min(200.0, max((_text_width(_short(b.label)) for b in bars), default=0) + 12)
    value_w, row_h = 110.0, 26
    scale_top = top if top is not None else nice_ceiling(max((b.value for b in bars), default=0))
    room = _WIDTH - label_w - value_w
    body: list[str] = []
    for n, bar in enumerate(bars):
        y = 8 + n * row_h
        width = 0.0 if scale_top <= 0 else max(0.0, min(1.0, bar.value / scale_top)) * room
        tip = f"{bar.label}: {bar.text}"
        body += [
            _text(label_w - 8, y + 15, _short(bar.label), "end"),
            f'<rect class="track" x="{label_w:.1f}" y="{y}" width="{room:.1f}" height="18"/>',
            f'<rect class="bar" x="{label_w:.1f}" y="{y}" width="{width:.1f}" height="18">'
            f"<title>{escape(tip)}</title></rect>",
            _text(label_w + room + 6, y + 14, bar.text, cls="value"),
        ]
    return _svg(name, title, 16 + row_h * max(len(bars), 1), body)


@dataclass(frozen=True)
class _Frame:
    """The plot area of a chart over days, and its vertical scale (*steps* grid steps)."""

    left: float
    top: float
    width: float
    height: float
    step: float
    steps: int

    @property
    def y_max(self) -> float:
        """The value at the top of the plot area."""
        return self.step * self.steps

    def y(self, value: float) -> float:
        """The vertical position of *value*."""
        return self.top + self.height * (1 - value / self.y_max)

    def x(self, index: int, count: int) -> float:
        """The horizontal centre of the *index*-th of *count* days."""
        return self.left + self.width * (index + 0.5) / count


def _axes(frame: _Frame, labels: Sequence[str]) -> list[str]:
    """Horizontal grid lines with their values, and every k-th day's label below."""
    body: list[str] = []
    right = frame.left + frame.width
    for n in range(frame.steps + 1):
        y = frame.y(frame.step * n)
        body.append(
            f'<line class="grid" x1="{frame.left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
        )
        body.append(_text(frame.left - 6, y + 4, axis_text(frame.step * n), "end", "axis"))
    every = max(1, math.ceil(len(labels) / 7))
    base = frame.top + frame.height + 16
    for n, label in enumerate(labels):
        if n % every == 0:
            body.append(_text(frame.x(n, len(labels)), base, label, "middle", "axis"))
    return body


def _day_frame(points: Sequence[Point], *, whole: bool) -> _Frame:
    """The plot area of a chart over days, scaled to the largest value."""
    step, steps = axis_steps(max((p.value for p in points), default=0), whole=whole)
    return _Frame(left=64, top=12, width=_WIDTH - 64 - 16, height=200, step=step, steps=steps)


def column_chart(name: str, title: str, points: Sequence[Point]) -> str:
    """One column per day (whole numbers: the axis steps by at least 1)."""
    frame = _day_frame(points, whole=True)
    slot = frame.width / max(len(points), 1)
    width = max(1.0, min(40.0, slot * 0.7))
    body = _axes(frame, [p.label for p in points])
    for n, point in enumerate(points):
        y = frame.y(point.value)
        x = frame.x(n, len(points)) - width / 2
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{frame.top + frame.height - y:.1f}">'
            f"<title>{escape(point.label)}: {escape(point.text)}</title></rect>"
        )
    return _svg(name, title, int(frame.top + frame.height + 28), body)


def line_chart(name: str, title: str, points: Sequence[Point]) -> str:
    """A line through one point per day."""
    frame = _day_frame(points, whole=False)
    body = _axes(frame, [p.label for p in points])
    xy = [(frame.x(n, len(points)), frame.y(p.value)) for n, p in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    body.append(f'<polyline class="line" points="{path}"/>')
    for (x, y), point in zip(xy, points, strict=True):
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
            f"<title>{escape(point.label)}: {escape(point.text)}</title></circle>"
        )
    return _svg(name, title, int(frame.top + frame.height + 28), body)
