"""The report's trend chart: share of services meeting their tier's bar, per tier, month by month.

Drawn as SVG with presentation attributes (no stylesheet needed), so it renders the same in the
PDF and on the portal's report page. Lines are told apart by colour and by their end labels.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from prr.svg import element, markup, svg_root, text

TIER_COLOURS = {"0": "#b42318", "1": "#b54708", "2": "#175cd3"}
OVERALL_COLOUR = "#101828"


def readiness_trend(points: list[dict[str, Any]], width: int = 640, height: int = 250) -> Markup:
    """Ready percent per tier (and overall) at each month's end; months without services leave gaps."""
    left, right, top, bottom = 44, 92, 16, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    tiers = sorted({tier for point in points for tier in point["by_tier"]})
    svg = svg_root(width, height, "Services meeting their tier's bar, by month", _describe(points, tiers))
    for value in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - value / 100)
        element(svg, "line", x1=left, x2=left + plot_w, y1=y, y2=y, stroke="#eaecf0", **{"stroke-width": 1})
        text(svg, f"{value}%", x=left - 6, y=y + 4, fill="#667085", **{"font-size": 10, "text-anchor": "end"})
    step = plot_w / max(len(points) - 1, 1)
    for i, point in enumerate(points):
        text(
            svg,
            point["label"],
            x=left + i * step,
            y=height - 10,
            fill="#667085",
            **{"font-size": 10, "text-anchor": "middle"},
        )
    series = [
        (f"Tier-{tier}", TIER_COLOURS.get(tier, "#475467"), [p["by_tier"].get(tier) for p in points]) for tier in tiers
    ]
    series.append(("All", OVERALL_COLOUR, [p["overall"] for p in points]))
    label_ys: list[float] = []
    for name, colour, values in series:
        coords = [
            (left + i * step, top + plot_h * (1 - value.percent / 100))
            for i, value in enumerate(values)
            if value is not None and value.percent is not None
        ]
        if not coords:
            continue
        dash = {} if name == "All" else {"stroke-dasharray": "0"}
        if len(coords) > 1:
            element(
                svg,
                "polyline",
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                fill="none",
                stroke=colour,
                **{"stroke-width": 2.5 if name == "All" else 1.8, **dash},
            )
        for x, y in coords:
            element(svg, "circle", cx=x, cy=y, r=3, fill=colour)
        label_y = _free_spot(coords[-1][1] + 4, label_ys)
        label_ys.append(label_y)
        text(
            svg,
            f"{name} {values[-1].percent:g}%" if values[-1] and values[-1].percent is not None else name,
            x=left + plot_w + 8,
            y=label_y,
            fill=colour,
            **{"font-size": 10, "font-weight": "bold"},
        )
    return markup(svg)


def _free_spot(y: float, taken: list[float], gap: float = 12) -> float:
    """Move an end label down until it does not overlap the labels already placed."""
    while any(abs(y - other) < gap for other in taken):
        y += gap
    return y


def _describe(points: list[dict[str, Any]], tiers: list[str]) -> str:
    parts = []
    for point in points:
        overall = point["overall"].percent
        parts.append(f"{point['label']}: {'no services' if overall is None else f'{overall:g}%'}")
    return "; ".join(parts) + f" (tiers {', '.join(tiers)})"
