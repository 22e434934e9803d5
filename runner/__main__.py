"""`python -m runner +experiment=NAME [key=value ...]`: run an experiment and write its report."""

from __future__ import annotations

import os
import sys

from runner.config import tree
from runner.errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, Interrupted, UserError
from runner.measure import launch
from runner.run import cluster_jobs, interrupts, machine_lock, multirun, usage
from runner.run.terminal import console, report_error


def _run_hydra(mode_set: bool) -> int:
    """Hydra's errors come back to us as exceptions, to be reported as one paragraph.

    Hydra, the models and the job are imported here, once the command line names a known
    experiment: `--help` and a refused command answer without them.
    """
    import hydra
    from hydra.errors import HydraException

    from runner.run.job import hydra_task, job_statuses

    if not mode_set:
        _mode_from_the_command_line()

    hydra_entry = hydra.main(
        version_base="1.3", config_path=str(tree.EXPERIMENTS_DIR), config_name="config"
    )(hydra_task)
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
    except Exception as error:
        if not cluster_jobs.lost_job(error):
            raise
        return _after_lost_job(error)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        # Hydra exits with 1 for errors it reports itself (argument parsing): bad input.
        return EXIT_BAD_INPUT if code == 1 and not job_statuses else code
    return max([*job_statuses, *multirun.collected_statuses()], default=0)


def _mode_from_the_command_line() -> None:
    """Hydra composes the whole config once only to read `hydra.mode`, then again for the run
    (about 0.2 s of every command here). When neither a config file nor the command line sets
    it (runner.config.tree.check_before_compose), Hydra takes the mode from `-m` either way:
    its `get_mode` answering None is what it does for a config without one."""
    from hydra._internal.hydra import Hydra

    Hydra.get_mode = lambda self, config_name, overrides: None  # type: ignore[method-assign]


def _after_lost_job(error: BaseException) -> int:
    """A job on a cluster ended without its result: said in one paragraph, counted as failed,
    and the matrix report written from what the jobs stored."""
    from runner.run.callbacks import end_of_multirun

    report_error(cluster_jobs.lost_job_text(error))
    sweep_dir = cluster_jobs.noted_sweep()
    if sweep_dir is not None:
        end_of_multirun(sweep_dir)
    return max([EXIT_RUN_FAILED, *multirun.collected_statuses()])


def main() -> None:
    if usage.HELP_ARGS[0] in sys.argv[1:] or usage.HELP_ARGS[1] in sys.argv[1:]:
        print(usage.usage_text(tree.config_dirs(sys.argv[1:])), end="")
        sys.exit(0)
    interrupts.install()
    # Hydra then raises its errors instead of printing a traceback; _run_hydra reports them.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    status = EXIT_BAD_INPUT
    # Jobs that a launcher runs in other processes tell their statuses apart from ours by it.
    multirun.mark_launcher()
    # submitit's warning at every failed sacct poll (accounting off), said once instead.
    cluster_jobs.quiet_sacct_polls(lambda line: console.print(line, highlight=False))
    try:
        mode_set = tree.check_before_compose(sys.argv[1:])
        with machine_lock.passed_on_to_jobs():
            status = _run_hydra(mode_set)
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
