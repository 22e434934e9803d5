"""`python -m runner.report RUN_DIR`: re-render every report format from the stored results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner.errors import UserError
from runner.records.store import RUN_FILE, STEPS_FILE, load_run
from runner.report import write_reports
from runner.report.matrix import job_dirs, write_matrix_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.report", description=__doc__)
    parser.add_argument(
        "run_dir", type=Path, help="a run directory (holds run.json and results.jsonl)"
    )
    args = parser.parse_args(argv)
    try:
        written = rerender(args.run_dir)
    except UserError as error:  # not a run directory, or a schema this version cannot read
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def rerender(run_dir: Path) -> list[Path]:
    if run_dir.is_dir() and not (run_dir / RUN_FILE).is_file() and job_dirs(run_dir):
        for job in job_dirs(run_dir):  # a multirun's sweep directory: every job, then the matrix
            write_reports(job, load_run(job))
        return write_matrix_report(run_dir)
    missing = [name for name in (RUN_FILE, STEPS_FILE) if not (run_dir / name).is_file()]
    if missing:
        raise UserError(
            f"{run_dir} is not a sweepbench run directory (missing {', '.join(missing)})."
        )
    return write_reports(run_dir, load_run(run_dir))


if __name__ == "__main__":
    sys.exit(main())
