"""The sweep: for each target, start its server, run its steps, stop it; store as we go."""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from runner import database, interrupts, measure, provenance
from runner.capacity.driver import SearchSetup, search_target
from runner.errors import TargetError
from runner.machine_lock import exclusive_machine
from runner.model import Experiment
from runner.plan import Plan, Step
from runner.preflight import AVAILABLE_CPUS, Checked, check_everything
from runner.progress import SweepProgress
from runner.redact import redact_text
from runner.results import Failure, RunRecord, StepResult
from runner.server import RunningServer, ServerHandle, external_server, running_server
from runner.store import ResultStore, load_run


def run_experiment(
    experiment: Experiment,
    run_dir: Path,
    experiments_dir: Path,
    overrides: list[str],
) -> RunRecord:
    """Run every step of the plan; the record is complete only if the sweep got to its end."""
    # Everything a user can get wrong is checked before any server or k6 starts (a dry run
    # makes the same checks), and before the run directory holds anything of ours.
    checked = check_everything(experiment, experiments_dir, run_dir)
    plan, k6_path = checked.plan, checked.k6_path
    # Only a scenario that reads the database gets one. PostgreSQL before the run is recorded
    # (a DSN that does not connect is bad input); SQLite's file once the run directory is ours.
    wants_database = database.needed(experiment)
    postgresql = experiment.database.engine == "postgresql"
    database_env: dict[str, str] = {}
    if wants_database and postgresql:
        database_env = database.prepare(experiment.database, run_dir)
    store, kept = _open_store(experiment, run_dir, experiments_dir, overrides, checked)
    done = {(s.target, s.level, s.repetition) for s in kept}
    if wants_database and not postgresql:
        database_env = database.prepare(experiment.database, run_dir)
    script = checked.script
    todo = plan.without(done)
    server_commands: dict[str, list[str]] = {}
    shared = TargetSetup(script, database_env, server_commands)
    complete = False
    # Seconds to start (until the verified answer) and to stop each server (overhead, bench/).
    server_timings: dict[str, dict[str, list[float]]] = {"target_start_s": {}, "target_stop_s": {}}
    found: dict[str, object] = {}
    try:
        with SweepProgress(todo, kept=kept) as progress, exclusive_machine(progress.log):
            # Imports every app once: CPU work, so only while this run holds the machine, and
            # before the runner confines itself (and so its children) to the client's cores.
            found["target_packages"] = provenance.target_packages(experiment)
            if experiment.pinning.enabled:
                # The runner and its sampler stay off the server's cores.
                os.sched_setaffinity(0, set(experiment.pinning.client_cpus))
            if done:
                progress.log(
                    f"Resuming {run_dir}: {len(done)} step(s) kept, {len(todo.steps)} to run."
                )
            for target in experiment.targets:
                if todo.for_target(target):
                    _run_target(
                        todo, target, store, run_dir, k6_path, progress, shared, server_timings
                    )
        complete = True
    finally:
        ended = {
            "ended_at": time.time(),
            "server_commands": server_commands,
            **server_timings,
            **found,
        }
        with interrupts.deferred():
            record = store.finish(complete, ended)
        os.sched_setaffinity(0, AVAILABLE_CPUS)
    return record


def _open_store(
    experiment: Experiment,
    run_dir: Path,
    experiments_dir: Path,
    overrides: list[str],
    checked: Checked,
) -> tuple[ResultStore, list[StepResult]]:
    """The run recorded (or the interrupted one reopened), with the steps it already holds."""
    store = ResultStore(run_dir)
    composed = experiment.model_dump(mode="json", by_alias=True)
    if experiment.runner.resume:
        store.resume(composed)
        return store, load_run(run_dir).steps
    facts = provenance.collect(composed, experiments_dir, overrides, checked.k6_version)
    store.start(composed, {**facts, "load_destinations": checked.load_destinations})
    return store, []


@dataclass(frozen=True)
class TargetSetup:
    """What every target of a run shares: the k6 script, the database, the commands that ran."""

    script: Path
    database_env: dict[str, str]
    server_commands: dict[str, list[str]]


def _run_target(
    plan: Plan,
    target: str,
    store: ResultStore,
    run_dir: Path,
    k6_path: Path,
    progress: SweepProgress,
    shared: TargetSetup,
    server_timings: dict[str, dict[str, list[float]]],
) -> None:
    experiment = plan.experiment
    label = experiment.label(target)
    steps = plan.for_target(target)
    remaining = list(steps)
    started = False
    try:
        # One server for all the target's steps, or a fresh one per repetition.
        for session in plan.server_sessions(target):
            progress.target_starting(label)
            asked_at = time.monotonic()
            started = False
            with _server_for(target, experiment, run_dir, shared) as server:
                started = True
                _note(server_timings["target_start_s"], target, asked_at)
                progress.log(f"{label}: {_server_line(server)}")
                if isinstance(server, RunningServer):
                    shared.server_commands[target] = server.command
                for step in session:
                    if experiment.load.kind.searched:
                        # A capacity experiment: one search per target instead of its steps.
                        setup = SearchSetup(
                            step, server, experiment, k6_path, run_dir, shared.script
                        )
                        search_target(setup, store, progress)
                        remaining.remove(step)
                        continue
                    progress.step_starting(label, step)
                    entry = measure.run_step(
                        step,
                        server,
                        experiment,
                        k6_path,
                        _step_dir(run_dir, step),
                        on_live=progress.live,
                        script=shared.script,
                    )
                    with interrupts.deferred():
                        store.append(entry)
                    remaining.remove(step)
                    progress.step_finished(_one_line(label, step, entry), entry)
                stopping_at = time.monotonic()
            _note(server_timings["target_stop_s"], target, stopping_at)
    except TargetError as error:
        # Policy: a target whose server fails is not restarted; its remaining steps are
        # skipped (a crash under load is a finding, and a restart would hide it).
        with interrupts.deferred():
            store.append(_target_failure(target, label, error, remaining, started))
        progress.log(f"FAILED {label}: {error.describe()}")
        progress.steps_skipped(len(remaining), f"{label} is not running")


def _target_failure(
    target: str, label: str, error: TargetError, remaining: list[Step], started: bool
) -> Failure:
    """The failure of a target's server: at start, or during its first remaining step."""
    failed = remaining[0] if started and remaining else None
    later = len(remaining) - 1 if failed else len(remaining)
    skipped = f" Its {later} {'later ' if failed else ''}step(s) were skipped." if later else ""
    return Failure(
        target=target,
        label=label,
        stage="step" if started else "start",
        level=failed.level if failed else None,
        repetition=failed.repetition if failed else None,
        message=str(error) + skipped,
        log_tail=error.log_tail,
    )


def _server_for(
    name: str, experiment: Experiment, run_dir: Path, shared: TargetSetup
) -> AbstractContextManager[ServerHandle]:
    """The target's server: started and stopped by us, or (a `url` target) only checked."""
    target = experiment.targets[name]
    checks = experiment.scenario.requests
    if target.url is not None:
        return external_server(name, target.url, checks, experiment.runner.startup_timeout)
    return running_server(
        name,
        target,
        run_dir / "logs",
        measure.server_cpus(experiment),
        checks,
        experiment.runner.startup_timeout,
        experiment.runner.stop_grace,
        env=shared.database_env,
    )


def _server_line(server: ServerHandle) -> str:
    if server.pid is None:
        return f"already running at {redact_text(server.base_url)} (not started by sweepbench)"
    return f"started, pid {server.pid}, at {server.base_url}"


def _note(durations: dict[str, list[float]], target: str, since: float) -> None:
    durations.setdefault(target, []).append(round(time.monotonic() - since, 3))


def _step_dir(run_dir: Path, step: Step) -> Path:
    return run_dir / "steps" / step.target / step.model.step_dir_name(step.level, step.repetition)


def _one_line(label: str, step: Step, entry: StepResult | Failure) -> str:
    where = f"{label} {step.level_text} rep {step.repetition}"
    if isinstance(entry, Failure):
        return f"{where}: FAILED: {entry.message}"
    dropped = (
        f" ({entry.dropped_iterations:,} dropped)" if entry.dropped_iterations is not None else ""
    )
    cpu = (
        f"server CPU {entry.cpu_percent.avg:.0f}% of one core"
        if entry.cpu_percent
        else "server CPU not sampled"
    )
    return (
        f"{where}: {entry.rps:,.0f} RPS{dropped}, p99 {entry.latency_ms.p99:.1f} ms, "
        f"errors {entry.error_rate:.2%}, {cpu}"
    )
