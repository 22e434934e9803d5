"""`python -m runner +experiment=NAME [key=value ...]`: run an experiment and write its report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from rich.markup import escape

from runner import config, interrupts, launch, machine_lock, multirun, usage
from runner.errors import (
    EXIT_BAD_INPUT,
    EXIT_RUN_FAILED,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    Interrupted,
    UserError,
)
from runner.preflight import check_for_dry_run
from runner.progress import make_console, print_plan
from runner.redact import redact_run_files, redact_text
from runner.results import RunRecord
from runner.run_dirs import discard_unstarted
from runner.store import RUN_FILE, STEPS_FILE, load_run
from runner.sweep import run_experiment

console = make_console()


def report_error(message: str) -> None:
    console.print(
        f"[bold red]error:[/] {escape(redact_text(message))}", highlight=False, soft_wrap=True
    )


def run_job(cfg: DictConfig) -> int:
    """One Hydra job: validate, run, report. Returns the exit status."""
    hydra_config = HydraConfig.get()
    output_dir = Path(hydra_config.runtime.output_dir)
    # Hydra has written its copies of the config and overrides: mask secrets there first.
    redact_run_files(output_dir)
    run_dir: Path | None = None
    overrides = list(hydra_config.overrides.task)
    try:
        source = config.chosen_file(
            "experiment",
            hydra_config.runtime.choices.get("experiment"),
            list(hydra_config.runtime.config_sources),
        )
        experiment = config.experiment_from_config(cfg, source, overrides)
        chosen = hydra_config.runtime.choices.get("experiment")
        source_dir = config.experiment_source_dir(sys.argv[1:], chosen)
        # A resumed run continues in its own directory (Hydra's defaults to it too).
        target_dir = Path(experiment.runner.resume or output_dir)
        if experiment.runner.dry_run:
            # The run's own checks (those that start nothing); the plan goes to stdout.
            plan = check_for_dry_run(experiment, source_dir, target_dir)
            print_plan(make_console(stderr=False), plan)
            return 0
        run_dir = target_dir
        record = run_experiment(experiment, run_dir, source_dir, overrides)
    except UserError as error:
        report_error(str(error))
        return error.exit_code
    except Interrupted as stop:
        console.print(f"\n{stop} received: servers and k6 stopped; writing a partial report.")
        if run_dir is not None and (run_dir / RUN_FILE).is_file():
            _finish(run_dir, load_run(run_dir))
            command = usage.resume_command(overrides, run_dir, sys.argv[1:])
            console.print(
                f"To measure the remaining steps: {command}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        return stop.exit_code
    except OSError as error:
        # Disk full or the run directory gone mid-run: every step already appended is kept.
        report_error(
            f"Writing the run's files failed: {error}. Steps measured before this are in "
            f"{(run_dir or output_dir) / STEPS_FILE}."
        )
        return EXIT_RUN_FAILED
    finally:
        for directory in {output_dir, run_dir or output_dir}:
            redact_run_files(directory)
        # Bad input, a dry run, a stop before the first step: no run directory is left.
        discard_unstarted(output_dir, hydra_config.output_subdir, hydra_config.job.name)
    return _finish(run_dir, record)


def _finish(run_dir: Path, record: RunRecord) -> int:
    # Imported here: the report's scipy and plotly take a second to load, which every run
    # refused for bad input (and every test of one) would otherwise pay.
    from runner.report import write_reports

    written = write_reports(run_dir, record)
    state = "complete" if record.complete else "PARTIAL"
    console.print(
        f"Run {state}: {len(record.steps)} step(s) measured, {len(record.failures)} failure(s)."
    )
    for path in written:
        console.print(f"  {path}", highlight=False)
    # A capacity objective that no rate met is a finding, but not a success (README).
    unmet = record.capacity.unmet if record.capacity else []
    for target in unmet:
        console.print(f"{target.label}: capacity {target.headline}: {target.stop_text}.")
    return EXIT_RUN_FAILED if record.failures or unmet else 0


_job_statuses: list[int] = []


@hydra.main(version_base="1.3", config_path=str(config.EXPERIMENTS_DIR), config_name="config")
def hydra_entry(cfg: DictConfig) -> None:
    hydra_config = HydraConfig.get()
    elsewhere = hydra_config.mode == RunMode.MULTIRUN and not multirun.in_launcher()
    if elsewhere:
        # A job in a process of its own (submitit): main() did not run here. A signal (Ctrl-C,
        # scancel) still stops its sweep cleanly and leaves a partial report.
        interrupts.install()
    status = run_job(cfg)
    _job_statuses.append(status)
    if elsewhere:
        # The launching process reads this when the multirun ends; the other jobs go on.
        multirun.store_status(Path(hydra_config.sweep.dir), hydra_config.job.num, status)
        return
    # A signal ends the whole sweep; any other failure ends only its job of a multirun.
    ends_everything = status in (EXIT_SIGINT, EXIT_SIGTERM)
    if status and (ends_everything or hydra_config.mode != RunMode.MULTIRUN):
        sys.exit(status)


def _run_hydra() -> int:
    """Hydra's errors come back to us as exceptions, to be reported as one paragraph."""
    try:
        hydra_entry()
    except HydraException as error:  # a bad override, a missing config group option
        report_error(str(error).strip())
        return EXIT_BAD_INPUT
    except OSError as error:  # Hydra could not create the run directory or write into it
        report_error(
            f"Could not create or write the run directory: {error}. Choose a writable place "
            "with hydra.run.dir=DIR."
        )
        return EXIT_BAD_INPUT
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        # Hydra exits with 1 for errors it reports itself (argument parsing): bad input.
        return EXIT_BAD_INPUT if code == 1 and not _job_statuses else code
    return max([*_job_statuses, *multirun.collected_statuses()], default=0)


def main() -> None:
    if usage.HELP_ARGS[0] in sys.argv[1:] or usage.HELP_ARGS[1] in sys.argv[1:]:
        print(usage.usage_text(config.config_dirs(sys.argv[1:])), end="")
        sys.exit(0)
    interrupts.install()
    # Hydra then raises its errors instead of printing a traceback; _run_hydra reports them.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    status = EXIT_BAD_INPUT
    # Jobs that a launcher runs in other processes tell their statuses apart from ours by it.
    multirun.mark_launcher()
    try:
        config.preflight(sys.argv[1:])
        with machine_lock.passed_on_to_jobs():
            status = _run_hydra()
    except UserError as error:
        report_error(str(error))
        status = error.exit_code
    except Interrupted as stop:  # before the sweep started (while Hydra composed the config)
        status = stop.exit_code
    finally:
        # The last safety net: whatever ended the run, no server or k6 outlives it. (The
        # context managers that started them should have stopped them already.)
        leftovers = launch.stop_children()
        if leftovers:
            console.print(f"warning: stopped child process(es) left running: {leftovers}")
        local_jobs = multirun.stop_local_jobs()
        if local_jobs:
            console.print(f"Stopped the local job(s) still running: {local_jobs}")
    sys.exit(status)


if __name__ == "__main__":
    main()
