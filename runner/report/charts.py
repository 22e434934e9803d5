"""The plotly charts of report.html, as JSON for a <script> (plotly.js itself is inlined)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

from runner.analysis import Analysis, Cell
from runner.report import formatting as fmt
from runner.report.templating import script_json
from runner.results import RunRecord, StepResult
from runner.validity import percentile_name, withheld_cell


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    axis: str
    value: Callable[[Cell], float | None]  # None: not sampled (a `url` target's CPU, memory)
    band: Callable[[Cell], tuple[float, float]] | None = None


CHARTS = [
    ChartSpec(
        "chart-throughput",
        "Throughput (median; band: min to max over repetitions)",
        "requests per second",
        lambda c: c.rps.median,
        lambda c: (c.rps.min, c.rps.max),
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
    ChartSpec("chart-errors", "Error rate", "% of requests", lambda c: c.error_rate * 100),
    ChartSpec("chart-cpu", "Server CPU", "% of one core", lambda c: c.cpu_percent),
    ChartSpec("chart-memory", "Server memory (max RSS)", "MiB", lambda c: c.memory_max_mib),
]


def _rgba(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _add_band(figure: go.Figure, spec: ChartSpec, series: list[Cell], color: str) -> None:
    """The min-to-max band over repetitions, drawn under the median line."""
    if spec.band is None or not any(c.runs > 1 for c in series):
        return
    levels = [c.level for c in series]
    lows, highs = zip(*(spec.band(c) for c in series), strict=True)
    style = {"mode": "lines", "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"}
    figure.add_trace(go.Scatter(x=levels, y=list(highs), **style))
    figure.add_trace(
        go.Scatter(x=levels, y=list(lows), fill="tonexty", fillcolor=_rgba(color, 0.2), **style)
    )


def chart_figure(spec: ChartSpec, analysis: Analysis) -> go.Figure:
    figure = go.Figure()
    palette = qualitative.Plotly
    for index, target in enumerate(analysis.targets):
        series = analysis.series(target)
        if not series:
            continue
        color = palette[index % len(palette)]
        _add_band(figure, spec, series, color)
        figure.add_trace(
            go.Scatter(
                x=[c.level for c in series],
                y=[spec.value(c) for c in series],
                mode="lines+markers",
                name=fmt.html_safe(analysis.labels[target]),
                line={"color": color},
            )
        )
    figure.update_layout(
        title={"text": spec.title},
        xaxis={"title": {"text": axis_title(analysis)}},
        yaxis={"title": {"text": spec.axis}, "rangemode": "tozero"},
        margin={"l": 60, "r": 20, "t": 50, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22},
    )
    return figure


def axis_title(analysis: Analysis) -> str:
    return f"{analysis.level_name.split(' ')[0].lower()} ({analysis.level_unit})"


def figure_json(figure: go.Figure) -> dict[str, Any]:
    """A figure's data and layout, safe inside a <script>."""
    # plotly's own encoder turns numpy values and the like into plain JSON.
    data = json.loads(figure.to_json())
    return {"data_json": script_json(data["data"]), "layout_json": script_json(data["layout"])}


def charts(analysis: Analysis) -> list[dict[str, Any]]:
    return [
        {"id": spec.id, "id_json": script_json(spec.id)} | figure_json(chart_figure(spec, analysis))
        for spec in CHARTS
    ]


# The latency spectrum (results.LatencyMs field, percentile as a fraction), lowest first.
SPECTRUM = [
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99_9", 0.999),
    ("p99_99", 0.9999),
]
SPECTRUM_TICKS = [0.5, 0.9, 0.99, 0.999, 0.9999]


def _x(p: float) -> float:
    """HdrHistogram's percentile axis: 1 / (1 - p) on a log scale spreads out the tail."""
    return 1.0 / (1.0 - p)


def spectrum_points(steps: list[StepResult], samples_per_tail: float) -> list[tuple[float, float]]:
    """(percentile, median latency ms over the repetitions) for each percentile that every
    repetition has and has enough requests for (runner.validity)."""
    fewest = min(s.requests for s in steps)
    points = []
    for field, p in SPECTRUM:
        values = [getattr(s.latency_ms, field) for s in steps]
        if any(v is None for v in values) or withheld_cell(p, fewest, samples_per_tail):
            continue
        points.append((p, statistics.median(values)))
    return points


def spectrum_figure(record: RunRecord, analysis: Analysis, target: str) -> go.Figure:
    """One target's latency percentiles, one line per level (median over repetitions)."""
    figure = go.Figure()
    palette = qualitative.Plotly
    for index, level in enumerate(analysis.levels):
        steps = [s for s in record.steps if s.target == target and s.level == level]
        points = spectrum_points(steps, analysis.validity.samples_per_tail) if steps else []
        if not points:
            continue
        figure.add_trace(
            go.Scatter(
                x=[_x(p) for p, _ in points],
                y=[value for _, value in points],
                text=[percentile_name(p) for p, _ in points],
                hovertemplate="%{text}: %{y:.2f} ms",
                mode="lines+markers",
                name=f"{level} {analysis.level_unit}",
                line={"color": palette[index % len(palette)]},
            )
        )
    label = fmt.html_safe(analysis.labels[target])
    figure.update_layout(
        title={"text": f"{label}: latency by percentile (median over repetitions)"},
        xaxis={
            "title": {"text": "percentile"},
            "type": "log",
            "tickvals": [_x(p) for p in SPECTRUM_TICKS],
            "ticktext": [f"{p * 100:g}%" for p in SPECTRUM_TICKS],
        },
        yaxis={"title": {"text": "ms (log scale)"}, "type": "log"},
        margin={"l": 60, "r": 20, "t": 50, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22},
    )
    return figure


def latency_spectrum_charts(record: RunRecord, analysis: Analysis) -> list[dict[str, Any]]:
    """One HdrHistogram-style percentile chart per measured target."""
    found = []
    for target in analysis.targets:
        if not any(s.target == target for s in record.steps):
            continue
        chart_id = f"chart-latency-spectrum-{target}"
        figure = spectrum_figure(record, analysis, target)
        found.append({"id": chart_id, "id_json": script_json(chart_id)} | figure_json(figure))
    return found
