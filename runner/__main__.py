"""`python -m runner +experiment=NAME [key=value ...]`: run an experiment and write its report."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from rich.console import Console

from runner import config
from runner.errors import (
    EXIT_BAD_INPUT,
    EXIT_RUN_FAILED,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    Interrupted,
    UserError,
)
from runner.report import write_reports
from runner.store import RUN_FILE, RunRecord, load_run
from runner.sweep import run_experiment

console = Console(stderr=True)


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    if signum == signal.SIGTERM:
        raise Interrupted("SIGTERM", EXIT_SIGTERM)
    raise Interrupted("SIGINT", EXIT_SIGINT)


def report_error(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def run_job(cfg: DictConfig) -> int:
    """One Hydra job: validate, run, report. Returns the exit status."""
    run_dir: Path | None = None
    try:
        experiment = config.experiment_from_config(cfg)
        hydra_config = HydraConfig.get()
        run_dir = Path(hydra_config.runtime.output_dir)
        overrides = list(hydra_config.overrides.task)
        chosen = hydra_config.runtime.choices.get("experiment")
        source_dir = config.experiment_source_dir(sys.argv[1:], chosen)
        record = run_experiment(experiment, run_dir, source_dir, overrides)
    except UserError as error:
        report_error(str(error))
        return error.exit_code
    except Interrupted as stop:
        console.print(f"\n{stop} received: servers and k6 stopped; writing a partial report.")
        if run_dir is not None and (run_dir / RUN_FILE).is_file():
            _finish(run_dir, load_run(run_dir))
        return stop.exit_code
    return _finish(run_dir, record)


def _finish(run_dir: Path, record: RunRecord) -> int:
    written = write_reports(run_dir, record)
    state = "complete" if record.complete else "PARTIAL"
    console.print(
        f"Run {state}: {len(record.steps)} step(s) measured, {len(record.failures)} failure(s)."
    )
    for path in written:
        console.print(f"  {path}", highlight=False)
    return EXIT_RUN_FAILED if record.failures else 0


_jobs_started = 0


@hydra.main(version_base="1.3", config_path=str(config.EXPERIMENTS_DIR), config_name="config")
def hydra_entry(cfg: DictConfig) -> None:
    global _jobs_started
    _jobs_started += 1
    status = run_job(cfg)
    if status:
        sys.exit(status)


def main() -> None:
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        config.preflight(sys.argv[1:])
    except UserError as error:
        report_error(str(error))
        sys.exit(error.exit_code)
    try:
        hydra_entry()
    except SystemExit as stop:
        # Hydra reports a bad override or a composition error itself, then exits with 1;
        # that is bad input like any other, so it gets the bad-input status.
        if stop.code == 1 and _jobs_started == 0:
            sys.exit(EXIT_BAD_INPUT)
        raise


if __name__ == "__main__":
    main()
