"""Report writers. Each reads a stored run (RunRecord) and its Analysis, nothing else."""

from __future__ import annotations

from pathlib import Path

from runner.analysis import analyze
from runner.report import csv_writer, markdown
from runner.store import RunRecord


def write_reports(run_dir: Path, record: RunRecord) -> list[Path]:
    """Write every report format into the run directory; returns the files written."""
    if record.experiment["load"].get("model", "closed") != "closed":
        return [_open_model_placeholder(run_dir / "report.md"), _csv(run_dir, record)]
    analysis = analyze(record)
    written = [
        markdown.write(run_dir / "report.md", record, analysis),
        _csv(run_dir, record),
    ]
    return written


def _csv(run_dir: Path, record: RunRecord) -> Path:
    return csv_writer.write_steps(run_dir / "results.csv", record)


def _open_model_placeholder(path: Path) -> Path:
    # TEMPORARY, until analysis.py and markdown.py read an open-model sweep: they take the
    # levels from `sweep.concurrency`, and an open-model experiment has `sweep.rate` instead
    # (runner.model.planned_levels reads either). Every measured figure is in results.json.
    path.write_text(
        "# Benchmark report\n\nThe Markdown report does not show open-model runs yet "
        "(load.model: open, levels in requests per second). Every step is in `results.json` "
        "and `results.csv` in this directory, with its target rate and dropped iterations.\n"
    )
    return path
