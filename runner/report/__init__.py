"""Report writers. Each reads a stored run (RunRecord) and its Analysis, nothing else."""

from __future__ import annotations

from pathlib import Path

from runner.analysis import analyze
from runner.report import csv_writer, markdown
from runner.store import RunRecord


def write_reports(run_dir: Path, record: RunRecord) -> list[Path]:
    """Write every report format into the run directory; returns the files written."""
    analysis = analyze(record)
    written = [
        markdown.write(run_dir / "report.md", record, analysis),
        csv_writer.write_steps(run_dir / "results.csv", record),
    ]
    return written
