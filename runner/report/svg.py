"""Line charts drawn as inline SVG on the server: no script, no library, a few kilobytes each.

The x axis is categorical: one evenly spaced tick per measured level and nothing in between, so a
sweep of 10, 20 and 50 users shows three ticks, not a continuous axis with ticks where nothing was
measured. The y axis starts at zero. Each point carries a <title>, which browsers show on hover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from runner.analysis import formatting as fmt

# plotly's default qualitative palette, which earlier reports used: colours stay familiar.
PALETTE = ["#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880"]

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 14, 52
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

Point = float | None  # None: not measured at that level (or not sampled)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[Point]  # one per category
    band: list[tuple[float, float] | None] | None = None  # min to max, drawn under the line
    color: str = PALETTE[0]
    # Per point, whether it is a floor (runner.analysis.floors): drawn hollow, titled "≥".
    floors: list[bool] | None = None

    def is_floor(self, index: int) -> bool:
        return bool(self.floors and self.floors[index])


@dataclass(frozen=True)
class LineChart:
    id: str
    title: str
    x_title: str
    y_title: str
    categories: list[str]
    series: list[Series] = field(default_factory=list)
    y_suffix: str = ""  # after each y tick label, e.g. "%"
    y_min_top: float = 0.0  # the axis reaches at least this, so all-zero data keeps its scale


def nice_ticks(top: float) -> list[float]:
    """Ticks from 0 past `top` in steps of 1, 2, 2.5 or 5 times a power of ten (about 5 ticks)."""
    top = top if top > 0 else 1.0
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _x(index: int, categories: int) -> float:
    return LEFT + (index + 0.5) * PLOT_W / max(categories, 1)


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H * (1 - value / top)


def _runs(values: list[Point]) -> list[list[int]]:
    """Indices of the contiguous stretches of measured points (a gap breaks the line)."""
    runs: list[list[int]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(index)
    return [run for run in runs if run]


def _axes(chart: LineChart, ticks: list[float]) -> list[str]:
    top, parts = ticks[-1], []
    for tick in ticks:
        y = _y(tick, top)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = escape(fmt.axis_tick(tick) + chart.y_suffix)
        parts.append(f'<text class="ytick" x="{LEFT - 6}" y="{y + 4:.1f}">{label}</text>')
    for index, category in enumerate(chart.categories):
        x = _x(index, len(chart.categories))
        parts.append(
            f'<line class="xtick" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H + 5}"/>'
        )
        parts.append(
            f'<text class="xlabel" x="{x:.1f}" y="{TOP + PLOT_H + 19}">{escape(category)}</text>'
        )
    parts.append(
        f'<text class="xtitle" x="{LEFT + PLOT_W / 2:.1f}" y="{HEIGHT - 8}">{escape(chart.x_title)}</text>'
    )
    mid = TOP + PLOT_H / 2
    parts.append(
        f'<text class="ytitle" x="16" y="{mid:.1f}" transform="rotate(-90 16 {mid:.1f})">'
        f"{escape(chart.y_title)}</text>"
    )
    return parts


def _band(series: Series, top: float, categories: int) -> list[str]:
    if series.band is None:
        return []
    parts = []
    for run in _runs([None if b is None else b[0] for b in series.band]):
        bounds = [(i, b) for i in run if (b := series.band[i]) is not None]
        upper = [f"{_x(i, categories):.1f},{_y(high, top):.1f}" for i, (_low, high) in bounds]
        lower = [f"{_x(i, categories):.1f},{_y(low, top):.1f}" for i, (low, _high) in bounds]
        points = " ".join(upper + lower[::-1])
        parts.append(f'<polygon class="band" points="{points}" fill="{series.color}"/>')
    return parts


def _line(series: Series, chart: LineChart, top: float) -> list[str]:
    categories = len(chart.categories)
    name = escape(series.name)
    parts = [
        f'<g class="series" data-series="{name}" stroke="{series.color}" fill="{series.color}">'
    ]
    for run in _runs(series.values):
        points = " ".join(
            f"{_x(i, categories):.1f},{_y(series.values[i] or 0.0, top):.1f}" for i in run
        )
        parts.append(f'<polyline fill="none" points="{points}"/>')
        parts += [_point(series, chart, i, top) for i in run]
    return [*parts, "</g>"]


def _point(series: Series, chart: LineChart, index: int, top: float) -> str:
    """A measured point; a floor is hollow and its title says "≥" and why."""
    value = series.values[index] or 0.0
    floor = series.is_floor(index)
    figure = ("≥ " if floor else "") + fmt.axis_tick(round(value, 2)) + chart.y_suffix
    why = " (k6's limit: a floor)" if floor else ""
    shown = escape(f"{series.name} at {chart.categories[index]}: {figure}{why}")
    hollow = ' class="floor" fill="white" stroke-width="2"' if floor else ""
    x, y = _x(index, len(chart.categories)), _y(value, top)
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"{hollow} data-value="{value}">'
        f"<title>{shown}</title></circle>"
    )


def render(chart: LineChart) -> Markup:
    """The chart's <svg> element, sized by its container (viewBox, width 100%)."""
    values = [v for s in chart.series for v in s.values if v is not None]
    highs = [b[1] for s in chart.series for b in (s.band or []) if b is not None]
    ticks = nice_ticks(max([chart.y_min_top, *values, *highs]))
    parts = [
        f'<svg class="chart" data-chart="{escape(chart.id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img"><title>{escape(chart.title)}</title>',
        *_axes(chart, ticks),
    ]
    for series in chart.series:
        parts += _band(series, ticks[-1], len(chart.categories))
    for series in chart.series:
        parts += _line(series, chart, ticks[-1])
    return Markup("\n".join([*parts, "</svg>"]))
