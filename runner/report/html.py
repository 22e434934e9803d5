"""report.html: the report's tables plus its charts, in one self-contained file.

The tables are the same Table objects the Markdown and CSV writers render (runner.report.tables);
the charts are inline SVG drawn here (runner.report.svg), so the page needs no script and opens
offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.analysis import Analysis
from runner.records.results import RunRecord
from runner.report.capacity import capacity_section
from runner.report.charts import charts, latency_spectrum_charts
from runner.report.configuration import configuration_facts, targets_table
from runner.report.headline import headline
from runner.report.retries import retries_text, rounds_note, rounds_table
from runner.report.spectrum import SPECTRUM_NOTE
from runner.report.step_table import STEPS_NOTE, steps_table
from runner.report.tables import (
    aggregate_table,
    ceiling_note,
    failure_place,
    steps_of,
    summary_note,
    summary_table,
    validity_note,
    validity_rules,
    validity_table,
)
from runner.report.templating import ENV


def _details(record: RunRecord, analysis: Analysis) -> list[dict[str, Any]]:
    sections = []
    for target in analysis.targets:
        steps = steps_of(record, target)
        sections.append(
            {
                "target": target,
                "label": analysis.labels[target],
                "aggregate": aggregate_table(analysis, target),
                "steps": steps_table(analysis, steps, record.experiment) if steps else None,
            }
        )
    return sections


def _capacity(record: RunRecord) -> Any:
    """A capacity run's Capacity section (runner.report.capacity); None for a sweep."""
    if record.capacity is None:
        return None
    return capacity_section(record)


def _failures(record: RunRecord) -> list[dict[str, str]]:
    unit = record.experiment.load.kind.unit
    return [
        {
            "label": f.label,
            "place": failure_place(f, unit),
            "message": f.message,
            "log_tail": f.log_tail,
        }
        for f in record.failures
    ]


def render(record: RunRecord, analysis: Analysis) -> str:
    experiment = record.experiment
    template = ENV.get_template("report.html.j2")
    return template.render(
        title=experiment.report.title or experiment.name,
        description=experiment.description,
        headline=headline(analysis) if record.capacity is None else [],
        partial=not record.complete,
        attempts=len(record.provenance.resumed_at) + 1,
        facts=configuration_facts(record).rows,
        targets=targets_table(record),
        summary=summary_table(analysis),
        summary_note=summary_note(analysis),
        rules=analysis.rules,
        rounds=rounds_table(record, analysis.level_name),
        rounds_note=rounds_note(record) if record.provenance.rounds else "",
        retries=retries_text(record),
        charts=charts(analysis),
        spectrum_charts=latency_spectrum_charts(record, analysis),
        spectrum_note=SPECTRUM_NOTE,
        validity=validity_table(record),
        validity_note=validity_note(record),
        ceiling_note=ceiling_note(record),
        validity_rules=validity_rules(record),
        details=_details(record, analysis),
        steps_note=STEPS_NOTE,
        breaking=[(analysis.labels[t], analysis.breaking_points[t].text) for t in analysis.targets],
        saturation=[(analysis.labels[t], analysis.saturation[t].text) for t in analysis.targets],
        findings=analysis.findings,
        recommendations=analysis.recommendations,
        failures=_failures(record),
        capacity=_capacity(record),
    )


def write(path: Path, record: RunRecord, analysis: Analysis) -> Path:
    path.write_text(render(record, analysis))
    return path
