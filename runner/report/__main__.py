"""`python -m runner.report RUN_DIR`: re-render every report format from the stored results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner.matrix import job_dirs, write_matrix_report
from runner.report import write_reports
from runner.store import RUN_FILE, STEPS_FILE, load_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.report", description=__doc__)
    parser.add_argument(
        "run_dir", type=Path, help="a run directory (holds run.json and results.jsonl)"
    )
    args = parser.parse_args(argv)
    run_dir: Path = args.run_dir
    if run_dir.is_dir() and not (run_dir / RUN_FILE).is_file() and job_dirs(run_dir):
        for job in job_dirs(run_dir):  # a multirun's sweep directory: every job, then the matrix
            write_reports(job, load_run(job))
        for path in write_matrix_report(run_dir):
            print(path)
        return 0
    missing = [name for name in (RUN_FILE, STEPS_FILE) if not (run_dir / name).is_file()]
    if missing:
        print(
            f"error: {run_dir} is not a sweepbench run directory (missing {', '.join(missing)}).",
            file=sys.stderr,
        )
        return 2
    for path in write_reports(run_dir, load_run(run_dir)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
