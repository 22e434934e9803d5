"""report.html: the Markdown report's tables plus plotly charts, in one self-contained file.

Jinja2 autoescapes every string (target names, messages, log lines). The chart data is JSON
inside a <script>, where HTML escaping does not apply, so `<`, `>` and `&` are written as JSON
unicode escapes instead; plotly.js itself is inlined, so the page opens offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs

from runner.analysis import Analysis, Cell
from runner.report import formatting as fmt
from runner.report import markdown
from runner.store import RunRecord

_ENV = Environment(
    loader=PackageLoader("runner.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True),
    trim_blocks=False,
)


def script_json(data: Any) -> Markup:
    """JSON that is safe inside a <script> element, whatever strings it holds."""
    text = json.dumps(data, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    axis: str
    value: Callable[[Cell], float]
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


def chart_figure(spec: ChartSpec, analysis: Analysis) -> go.Figure:
    figure = go.Figure()
    palette = qualitative.Plotly
    for index, target in enumerate(analysis.targets):
        series = analysis.series(target)
        if not series:
            continue
        color = palette[index % len(palette)]
        name = fmt.html_safe(analysis.labels[target])
        levels = [c.level for c in series]
        if spec.band is not None and any(c.runs > 1 for c in series):
            lows, highs = zip(*(spec.band(c) for c in series), strict=True)
            band_style = {
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            }
            figure.add_trace(go.Scatter(x=levels, y=list(highs), **band_style))
            figure.add_trace(
                go.Scatter(
                    x=levels,
                    y=list(lows),
                    fill="tonexty",
                    fillcolor=_rgba(color, 0.2),
                    **band_style,
                )
            )
        figure.add_trace(
            go.Scatter(
                x=levels,
                y=[spec.value(c) for c in series],
                mode="lines+markers",
                name=name,
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


def charts(analysis: Analysis) -> list[dict[str, Any]]:
    rendered = []
    for spec in CHARTS:
        # plotly's own encoder turns numpy values and the like into plain JSON.
        figure = json.loads(chart_figure(spec, analysis).to_json())
        rendered.append(
            {
                "id": spec.id,
                "id_json": script_json(spec.id),
                "data_json": script_json(figure["data"]),
                "layout_json": script_json(figure["layout"]),
            }
        )
    return rendered


def render(record: RunRecord, analysis: Analysis) -> str:
    experiment = record.experiment
    summary_header, summary_rows = markdown.summary_table(analysis)
    details = [
        {
            "target": target,
            "label": analysis.labels[target],
            "aggregate": markdown.aggregate_rows(analysis, target)
            if any(c.runs > 1 for c in analysis.series(target))
            else [],
            "steps": [markdown.step_row(s) for s in markdown.steps_of(record, target)],
        }
        for target in analysis.targets
    ]
    template = _ENV.get_template("report.html.j2")
    return template.render(
        title=(experiment.get("report") or {}).get("title") or experiment["name"],
        description=experiment.get("description"),
        partial=not record.complete,
        facts=markdown.configuration_facts(record),
        target_header=markdown.TARGET_HEADER,
        target_rows=markdown.target_rows(record),
        summary_header=summary_header,
        summary_rows=summary_rows,
        summary_note=markdown.summary_note(analysis),
        rules=analysis.rules,
        charts=charts(analysis),
        details=details,
        aggregate_header=markdown.aggregate_header(analysis),
        step_header=markdown.step_header(analysis),
        breaking=[(analysis.labels[t], analysis.breaking_points[t].text) for t in analysis.targets],
        saturation=[(analysis.labels[t], analysis.saturation[t].text) for t in analysis.targets],
        findings=analysis.findings,
        recommendations=analysis.recommendations,
        failures=record.failures,
        plotly_js=Markup(get_plotlyjs()),
    )


def write(path: Path, record: RunRecord, analysis: Analysis) -> Path:
    path.write_text(render(record, analysis))
    return path
