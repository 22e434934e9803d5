"""The charts of report.html: what each one plots, drawn as inline SVG by runner.report.svg."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.analysis import Analysis, Cell
from runner.analysis import formatting as fmt
from runner.records.results import RunRecord
from runner.report import svg
from runner.report.spectrum import spectrum_figure


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    axis: str
    value: Callable[[Cell], float | None]  # None: not sampled (a `url` target's CPU, memory)
    band: Callable[[Cell], tuple[float, float]] | None = None
    y_suffix: str = ""
    y_min_top: float = 0.0
    floors: bool = False  # draws floors (runner.analysis.floors) as hollow points


CHARTS = [
    ChartSpec(
        "chart-throughput",
        "Throughput (median; band: min to max over repetitions)",
        "requests per second",
        lambda c: c.rps.median,
        lambda c: (c.rps.min, c.rps.max),
        floors=True,
    ),
    ChartSpec(
        "chart-p95",
        "p95 latency (median; band: min to max)",
        "ms",
        lambda c: c.p95.median,
        lambda c: (c.p95.min, c.p95.max),
    ),
    ChartSpec(
        "chart-p99",
        "p99 latency (median; band: min to max)",
        "ms",
        lambda c: c.p99.median,
        lambda c: (c.p99.min, c.p99.max),
    ),
    # Plotted in percent (0-100 scale); at least 0 to 1% so a run without errors reads as such.
    ChartSpec(
        "chart-errors",
        "Error rate",
        "% of requests",
        lambda c: c.error_rate * 100,
        y_suffix="%",
        y_min_top=1.0,
    ),
    ChartSpec("chart-cpu", "Server CPU", "% of one core", lambda c: c.cpu_percent, y_suffix="%"),
    ChartSpec("chart-memory", "Server memory (max RSS)", "MiB", lambda c: c.memory_max_mib),
]


def measured_levels(analysis: Analysis) -> list[int]:
    """The levels some target was measured at: the chart's categories, nothing in between."""
    return [
        lv
        for lv in analysis.levels
        if any(analysis.cell(t, lv) or analysis.floor(t, lv) for t in analysis.targets)
    ]


def axis_title(analysis: Analysis) -> str:
    return f"{analysis.level_name.split(' ')[0].lower()} ({analysis.level_unit})"


def _series(spec: ChartSpec, analysis: Analysis, target: str, color: str) -> svg.Series:
    levels = measured_levels(analysis)
    cells = [analysis.cell(target, level) for level in levels]
    floors = [analysis.floor(target, level) if spec.floors else None for level in levels]
    drawn = [c or f for c, f in zip(cells, floors, strict=True)]
    values = [None if c is None else spec.value(c) for c in drawn]
    band = None
    if spec.band is not None and any(c is not None and c.runs > 1 for c in cells):
        band = [None if c is None else spec.band(c) for c in cells]
    marked = [f is not None and c is None for c, f in zip(cells, floors, strict=True)]
    return svg.Series(analysis.labels[target], values, band, color, marked if any(marked) else None)


def chart(spec: ChartSpec, analysis: Analysis) -> svg.LineChart:
    series = [
        _series(spec, analysis, target, svg.PALETTE[index % len(svg.PALETTE)])
        for index, target in enumerate(analysis.targets)
        if analysis.series(target) or any(t == target for t, _ in analysis.floors)
    ]
    # A series that was never sampled (a `url` target's CPU) has nothing to draw.
    series = [s for s in series if any(v is not None for v in s.values)]
    return svg.LineChart(
        id=spec.id,
        title=spec.title,
        x_title=axis_title(analysis),
        y_title=spec.axis,
        categories=[fmt.count(level) for level in measured_levels(analysis)],
        series=series,
        y_suffix=spec.y_suffix,
        y_min_top=spec.y_min_top,
    )


def figure(line_chart: svg.LineChart) -> dict[str, Any]:
    """What the template shows: the title, the <svg> and an HTML legend (it wraps as text does)."""
    return {
        "id": line_chart.id,
        "title": line_chart.title,
        "svg": svg.render(line_chart),
        "legend": [(s.name, s.color) for s in line_chart.series],
    }


def charts(analysis: Analysis) -> list[dict[str, Any]]:
    return [figure(chart(spec, analysis)) for spec in CHARTS]


def latency_spectrum_charts(record: RunRecord, analysis: Analysis) -> list[dict[str, Any]]:
    """One percentile plot per measured target (runner.report.spectrum)."""
    measured = {s.target for s in record.steps}
    return [spectrum_figure(record, analysis, t) for t in analysis.targets if t in measured]
