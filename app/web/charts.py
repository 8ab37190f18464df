"""Charts as inline SVG, built server-side with ElementTree (every text and attribute is escaped).

The pages embed them directly; no JavaScript. Each chart is an ``role="img"`` with a title and a
description, and the pages show the same numbers as a table for screen readers and print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from prr.svg import element, markup, svg_root, text

_UNSET = object()


@dataclass(frozen=True)
class HistoryPoint:
    """One change of a service's served verdict on its history chart."""

    at: datetime
    score: float | None
    level: str | None
    ready: bool
    label: str = ""  # e.g. the cause and short commit, shown in the point's tooltip
    waiver_carried: bool = False  # a waiver held the level or readiness up


def history_chart(points: list[HistoryPoint], title: str, width: int = 1100, height: int = 260) -> Markup:
    """Score over time (0–100): a line through the scans, one marker per scan (filled = ready).

    Markers carry a tooltip with the date, score, level and ``label``; the level name is written
    above each point where it changes so the chart reads without colour.
    """
    left, right, top, bottom = 48, 24, 34, 36
    inset = 40  # keeps the first and last markers (and their labels) off the chart's edges
    plot_w, plot_h = width - left - right, height - top - bottom
    svg = svg_root(
        width, height, title, f"{len(points)} scans; latest score {_fmt_score(points[-1].score) if points else 'none'}"
    )
    for value in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - value / 100)
        element(svg, "line", x1=left, x2=left + plot_w, y1=y, y2=y, **{"class": "grid"})
        text(svg, str(value), x=left - 8, y=y + 4, **{"class": "axis", "text-anchor": "end"})
    if not points:
        text(
            svg, "No scans yet", x=left + plot_w / 2, y=top + plot_h / 2, **{"class": "empty", "text-anchor": "middle"}
        )
        return markup(svg)

    start, end = points[0].at.timestamp(), points[-1].at.timestamp()
    span = end - start

    def x_of(i: int, p: HistoryPoint) -> float:
        usable = plot_w - 2 * inset
        if span <= 0:
            return left + inset + usable * (0.5 if len(points) == 1 else i / (len(points) - 1))
        return left + inset + usable * (p.at.timestamp() - start) / span

    def y_of(score: float) -> float:
        return top + plot_h * (1 - score / 100)

    coords = [(x_of(i, p), y_of(p.score) if p.score is not None else None) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords if y is not None)
    if line:
        element(svg, "polyline", points=line, **{"class": "line"})
    last_tick = -1e9
    for i, tick in _date_ticks(points):
        if coords[i][0] - last_tick >= 70:  # no overlapping date labels
            text(svg, tick, x=coords[i][0], y=height - 12, **{"class": "axis", "text-anchor": "middle"})
            last_tick = coords[i][0]
    previous_level: str | object | None = _UNSET
    for (x, y_or_none), p in zip(coords, points):
        y_mark = y_or_none if y_or_none is not None else top + plot_h
        kind = ("ready" if p.ready else "not-ready") + (" waived" if p.waiver_carried else "")
        group = element(svg, "g", **{"class": "point " + kind})
        tip = (
            f"{p.at:%Y-%m-%d %H:%M} UTC — score {_fmt_score(p.score)}, level {p.level or 'none'}, "
            f"{'ready' if p.ready else 'not ready'}"
            + (", carried by a waiver" if p.waiver_carried else "")
            + (f" ({p.label})" if p.label else "")
        )
        text(group, tip, "title")
        element(group, "circle", cx=x, cy=y_mark, r=5)
        if p.waiver_carried:  # a ring around the point: the verdict rests on a waiver
            element(group, "circle", cx=x, cy=y_mark, r=9, **{"class": "waiver-ring"})
        if p.level != previous_level:
            text(svg, p.level or "no level", x=x, y=y_mark - 12, **{"class": "level-label", "text-anchor": "middle"})
            previous_level = p.level
    return markup(svg)


def sparkline(values: list[float | None], title: str, width: int = 120, height: int = 28) -> Markup:
    """A small trend line (0–100) for tables; the last value is marked."""
    svg = svg_root(width, height, title, "trend: " + ", ".join(_fmt_score(v) for v in values[-12:]), css="sparkline")
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return markup(svg)
    pad = 3
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = [
        (pad + i * step if len(values) > 1 else width / 2, pad + (height - 2 * pad) * (1 - v / 100)) for i, v in known
    ]
    if len(coords) > 1:
        element(svg, "polyline", points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords), **{"class": "line"})
    x, y = coords[-1]
    element(svg, "circle", cx=x, cy=y, r=2.5, **{"class": "last"})
    return markup(svg)


def ratio_bar(part: int, whole: int, title: str, width: int = 160, height: int = 14) -> Markup:
    """A horizontal bar showing part/whole (e.g. ready services of a tier)."""
    svg = svg_root(width, height, title, f"{part} of {whole}", css="ratio-bar")
    element(svg, "rect", x=0, y=0, width=width, height=height, rx=3, **{"class": "track"})
    if whole and part:
        element(svg, "rect", x=0, y=0, width=round(width * part / whole, 1), height=height, rx=3, **{"class": "fill"})
    return markup(svg)


def _fmt_score(score: float | None) -> str:
    return "none" if score is None else f"{score:g}"


def _date_ticks(points: list[HistoryPoint], most: int = 6) -> list[tuple[int, str]]:
    """Indexes of the points to label on the x axis (first, last, and evenly between)."""
    n = len(points)
    chosen = list(range(n)) if n <= most else sorted({round(k * (n - 1) / (most - 1)) for k in range(most)})
    return [(i, f"{points[i].at:%b %d}") for i in chosen]
