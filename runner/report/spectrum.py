"""The latency spectrum of report.html: HdrHistogram-style percentile plots, inline SVG.

One chart per target, one line per level: latency (ms, from zero) against the percentile on a
log scale of 1 / (1 - p), so p50, p90, p99, p99.9 and p99.99 are evenly spaced and the tail gets
the room it needs. Each line is the median over the level's repetitions, and shows only the
percentiles every repetition has enough requests for (runner.measure.validity). Drawn in the style of
runner.report.svg (its sizes, palette, ticks and CSS classes).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.measure.validity import percentile_name, withheld_cell
from runner.records.results import RunRecord, StepResult
from runner.report import svg

# The stored spectrum (results.LatencyMs field, percentile as a fraction), lowest first.
SPECTRUM = [
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99_9", 0.999),
    ("p99_99", 0.9999),
]
TICKS = [0.5, 0.9, 0.99, 0.999, 0.9999]
SPECTRUM_NOTE = (
    "Latency by percentile, one chart per target and one line per level (median over "
    "repetitions): the percentile axis is a log scale of 1 / (1 - p), as HdrHistogram plots "
    "it. A percentile is drawn only from enough requests (see Step validity)."
)


@dataclass(frozen=True)
class Line:
    name: str
    points: list[tuple[float, float]]  # (percentile, ms)
    color: str


def spectrum_points(steps: list[StepResult], samples_per_tail: float) -> list[tuple[float, float]]:
    """(percentile, median ms over the repetitions) for each percentile that every repetition
    stored (p75 and p99.99 only from schema 3 on) and has enough requests for."""
    fewest = min(s.requests for s in steps)
    points = []
    for field, p in SPECTRUM:
        values = [getattr(s.latency_ms, field) for s in steps]
        if any(v is None for v in values) or withheld_cell(p, fewest, samples_per_tail):
            continue
        points.append((p, statistics.median(values)))
    return points


def _x(p: float) -> float:
    """1 / (1 - p) on a log scale, from p50 at the left edge to p99.99 at the right."""
    low, high = math.log10(2.0), math.log10(1.0 / (1.0 - TICKS[-1]))
    share = (math.log10(1.0 / (1.0 - p)) - low) / (high - low)
    return svg.LEFT + 8 + share * (svg.PLOT_W - 16)


def _y(value: float, top: float) -> float:
    return svg.TOP + svg.PLOT_H * (1 - value / top)


def _axes(ticks: list[float]) -> list[str]:
    top, parts = ticks[-1], []
    right = svg.WIDTH - svg.RIGHT
    for tick in ticks:
        y = _y(tick, top)
        parts.append(f'<line class="grid" x1="{svg.LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = escape(fmt.axis_tick(tick))
        parts.append(f'<text class="ytick" x="{svg.LEFT - 6}" y="{y + 4:.1f}">{label}</text>')
    bottom = svg.TOP + svg.PLOT_H
    for p in TICKS:
        x = _x(p)
        parts.append(
            f'<line class="xtick" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 5}"/>'
        )
        label = escape(f"{p * 100:g}%")
        parts.append(f'<text class="xlabel" x="{x:.1f}" y="{bottom + 19}">{label}</text>')
    middle = svg.LEFT + svg.PLOT_W / 2
    parts.append(f'<text class="xtitle" x="{middle:.1f}" y="{svg.HEIGHT - 8}">percentile</text>')
    mid = svg.TOP + svg.PLOT_H / 2
    parts.append(
        f'<text class="ytitle" x="16" y="{mid:.1f}" transform="rotate(-90 16 {mid:.1f})">ms</text>'
    )
    return parts


def _line(line: Line, top: float) -> list[str]:
    name = escape(line.name)
    parts = [f'<g class="series" data-series="{name}" stroke="{line.color}" fill="{line.color}">']
    points = " ".join(f"{_x(p):.1f},{_y(v, top):.1f}" for p, v in line.points)
    parts.append(f'<polyline fill="none" points="{points}"/>')
    for p, value in line.points:
        shown = escape(f"{line.name}, {percentile_name(p)}: {fmt.ms(value)} ms")
        parts.append(
            f'<circle cx="{_x(p):.1f}" cy="{_y(value, top):.1f}" r="3.5" data-value="{value}">'
            f"<title>{shown}</title></circle>"
        )
    return [*parts, "</g>"]


def render(chart_id: str, title: str, lines: list[Line]) -> Markup:
    ticks = svg.nice_ticks(max([1.0, *(v for line in lines for _p, v in line.points)]))
    parts = [
        f'<svg class="chart" data-chart="{escape(chart_id)}" viewBox="0 0 {svg.WIDTH} '
        f'{svg.HEIGHT}" role="img"><title>{escape(title)}</title>',
        *_axes(ticks),
    ]
    for line in lines:
        parts += _line(line, ticks[-1])
    return Markup("\n".join([*parts, "</svg>"]))


def spectrum_figure(record: RunRecord, analysis: Analysis, target: str) -> dict[str, Any]:
    """One target's chart, as runner.report.charts.figure gives the template."""
    lines = []
    for index, level in enumerate(analysis.levels):
        steps = [s for s in record.steps if s.target == target and s.level == level]
        points = spectrum_points(steps, analysis.validity.samples_per_tail) if steps else []
        if points:
            name = f"{fmt.count(level)} {analysis.level_unit}"
            lines.append(Line(name, points, svg.PALETTE[index % len(svg.PALETTE)]))
    chart_id = f"chart-latency-spectrum-{target}"
    title = f"{analysis.labels[target]}: latency by percentile"
    return {
        "id": chart_id,
        "title": title,
        "svg": render(chart_id, title, lines),
        "legend": [(line.name, line.color) for line in lines],
    }
