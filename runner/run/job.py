"""One Hydra job: validate the composed config, run the experiment (or its dry run), report.

Hydra calls `hydra_task` once per job: in the launching process for a single run and under the
basic launcher, in a process of its own under submitit (runner.run.multirun).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from runner.config import compose, tree
from runner.errors import (
    EXIT_RUN_FAILED,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    Interrupted,
    UserError,
)
from runner.records.redact import redact_run_files
from runner.records.run_files import RUN_FILE, STEPS_FILE
from runner.run import interrupts, multirun, usage
from runner.run.directories import discard_unstarted
from runner.run.machine_lock import exclusive_machine
from runner.run.terminal import console, make_console, report_error

if TYPE_CHECKING:
    from runner.records.results import RunRecord


def run_job(cfg: DictConfig) -> int:
    """One Hydra job: validate, run, report. Returns the exit status.

    The run's machinery (k6, numpy, the sweep, the store) is imported only once the config is
    valid: a command refused for bad input does not wait for it.
    """
    hydra_config = HydraConfig.get()
    output_dir = Path(hydra_config.runtime.output_dir)
    # Hydra has written its copies of the config and overrides: mask secrets there first.
    redact_run_files(output_dir)
    run_dir: Path | None = None
    overrides = list(hydra_config.overrides.task)
    try:
        source = compose.chosen_file(
            "experiment",
            hydra_config.runtime.choices.get("experiment"),
            list(hydra_config.runtime.config_sources),
        )
        experiment = compose.experiment_from_config(cfg, source, overrides)
        chosen = hydra_config.runtime.choices.get("experiment")
        source_dir = tree.experiment_source_dir(sys.argv[1:], chosen)
        # A resumed run continues in its own directory (Hydra's defaults to it too).
        target_dir = Path(experiment.runner.resume or output_dir)
        if experiment.runner.dry_run:
            # The run's own checks (those that start nothing); the plan goes to stdout.
            from runner.run.preflight import check_for_dry_run
            from runner.run.progress import print_plan

            plan = check_for_dry_run(experiment, source_dir, target_dir)
            print_plan(make_console(stderr=False), plan)
            return 0
        from runner.run.sweep import run_experiment

        run_dir = target_dir
        record = run_experiment(experiment, run_dir, source_dir, overrides)
    except UserError as error:
        report_error(str(error))
        return error.exit_code
    except Interrupted as stop:
        console.print(f"\n{stop} received: servers and k6 stopped; writing a partial report.")
        if run_dir is not None and (run_dir / RUN_FILE).is_file():
            from runner.records.store import load_run

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
    from runner.report import console_headline, write_reports

    written = write_reports(run_dir, record)
    # The answer right under the closing table, as every report opens with it.
    for line in console_headline(record):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
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


# The exit statuses of the jobs run in this process (every job, under the basic launcher).
job_statuses: list[int] = []


def hydra_task(cfg: DictConfig) -> None:
    """The task of every Hydra job, wherever a launcher runs it. It lives in this importable
    module, not in __main__, so launchers that pickle it (submitit) send a reference to it."""
    hydra_config = HydraConfig.get()
    if hydra_config.mode == RunMode.MULTIRUN and not multirun.in_launcher():
        _job_in_own_process(cfg)
        return
    status = run_job(cfg)
    job_statuses.append(status)
    # A signal ends the whole sweep; any other failure ends only its job of a multirun.
    ends_everything = status in (EXIT_SIGINT, EXIT_SIGTERM)
    if status and (ends_everything or hydra_config.mode != RunMode.MULTIRUN):
        sys.exit(status)


def _job_in_own_process(cfg: DictConfig) -> None:
    """A job a launcher (submitit) runs in a process of its own, where main() did not run."""
    # A signal (Ctrl-C, scancel, a time limit) still stops its sweep cleanly, with a report.
    interrupts.install()
    try:
        # Jobs started side by side (submitit_local) take turns for their whole run, report
        # included: one job writing its report would disturb the next one's steps.
        with exclusive_machine(lambda message: console.print(message, highlight=False)):
            status = run_job(cfg)
    except Interrupted as stop:  # while it waited for the machine
        status = stop.exit_code
    job_statuses.append(status)
    # The launching process reads it when the multirun ends; the other jobs go on.
    hydra_config = HydraConfig.get()
    multirun.store_status(Path(hydra_config.sweep.dir), hydra_config.job.num, status)
