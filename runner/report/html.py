"""report.html: the report's tables plus plotly charts, in one self-contained file.

The tables are the same Table objects the Markdown and CSV writers render (runner.report.tables);
plotly.js itself is inlined, so the page opens offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup
from plotly.offline import get_plotlyjs

from runner.analysis import Analysis
from runner.report.charts import charts, latency_spectrum_charts
from runner.report.configuration import configuration_facts, targets_table
from runner.report.tables import (
    aggregate_table,
    steps_of,
    steps_table,
    summary_note,
    summary_table,
    validity_note,
    validity_rules,
    validity_table,
)
from runner.report.templating import ENV
from runner.results import RunRecord


def _details(record: RunRecord, analysis: Analysis) -> list[dict[str, Any]]:
    sections = []
    for target in analysis.targets:
        steps = steps_of(record, target)
        sections.append(
            {
                "target": target,
                "label": analysis.labels[target],
                "aggregate": aggregate_table(analysis, target),
                "steps": steps_table(analysis, steps) if steps else None,
            }
        )
    return sections


def render(record: RunRecord, analysis: Analysis) -> str:
    experiment = record.experiment
    template = ENV.get_template("report.html.j2")
    return template.render(
        title=experiment.report.title or experiment.name,
        description=experiment.description,
        partial=not record.complete,
        facts=configuration_facts(record).rows,
        targets=targets_table(record),
        summary=summary_table(analysis),
        summary_note=summary_note(analysis),
        rules=analysis.rules,
        charts=charts(analysis),
        spectrum_charts=latency_spectrum_charts(record, analysis),
        validity=validity_table(record),
        validity_note=validity_note(record),
        validity_rules=validity_rules(record),
        details=_details(record, analysis),
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
