"""Report writers. Each reads a stored run (RunRecord) and its Analysis, nothing else.

Data flows one way: results -> analysis -> tables (runner.report.tables) -> Markdown, HTML, CSV.
The writers are imported when a report is written. The number style they share with the
analysis's sentences is runner.analysis.formatting, below both.
"""

from __future__ import annotations

from pathlib import Path

from runner.config.experiment import STORED
from runner.records.redact import redact_data
from runner.records.results import RunRecord

REPORT_FILES = ("report.md", "report.html", "results.csv", "results_aggregated.csv")


def console_headline(record: RunRecord) -> list[str]:
    """The reports' headline for the console at the end of a run (none for a capacity search,
    whose section has one per target), from the record masked as the reports see it."""
    from runner.analysis import analyze
    from runner.report.headline import headline

    if record.capacity is not None or not record.steps:
        return []
    return headline(analyze(_masked(record)))


def _masked(record: RunRecord) -> RunRecord:
    # The store masks secrets already; masking again here keeps every writer safe on its own.
    masked = redact_data(record.model_dump(mode="json", by_alias=True))
    return RunRecord.model_validate(masked, context={STORED: True})


def write_reports(run_dir: Path, record: RunRecord) -> list[Path]:
    """Write every report format into the run directory; returns the files written.

    results.json is written by the store; everything here is derived from it.
    """
    from runner.analysis import analyze
    from runner.report import csv_writer, html, markdown

    record = _masked(record)
    analysis = analyze(record)
    return [
        markdown.write(run_dir / "report.md", record, analysis),
        html.write(run_dir / "report.html", record, analysis),
        csv_writer.write_steps(run_dir / "results.csv", record),
        csv_writer.write_aggregate(run_dir / "results_aggregated.csv", analysis),
    ]
