"""The sweep: every step in the plan's order (runner.run.plan), each target's server started
before its first step and stopped after its last (runner.run.sweep_servers); each step judged and
stored the moment it ends (the store opened by runner.run.sweep_store)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from runner.capacity.driver import SearchSetup, search_target
from runner.config.experiment import Experiment, k6_hosts
from runner.errors import TargetError
from runner.measure.ceiling import for_experiment as client_ceiling
from runner.measure.judging import Judging
from runner.measure.server import ServerHandle
from runner.measure.step import run_step
from runner.records import provenance
from runner.records.results import Failure, RunRecord, StepKey, StepResult
from runner.records.store import ResultStore
from runner.remote.hosts import RemoteHosts
from runner.run import database, interrupts
from runner.run.machine_lock import exclusive_machine
from runner.run.plan import Plan, Step
from runner.run.preflight import AVAILABLE_CPUS, check_everything
from runner.run.progress import SweepProgress
from runner.run.sweep_servers import ServerPlaces, server_pool, target_failure
from runner.run.sweep_store import open_store, step_order, stored_ceiling


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
    store, kept = open_store(experiment, run_dir, experiments_dir, overrides, checked)
    measured = {s.key: s for s in kept}
    done = set(measured)
    if wants_database and not postgresql:
        database_env = database.prepare(experiment.database, run_dir)
    script = checked.script
    todo = plan.without(done)
    server_commands: dict[str, list[str]] = {}
    complete = False
    # Seconds to start (until the verified answer) and to stop each server (overhead, bench/).
    server_timings: dict[str, dict[str, list[float]]] = {"target_start_s": {}, "target_stop_s": {}}
    found: dict[str, object] = {"step_order": step_order(plan)}
    try:
        with (
            SweepProgress(todo, kept=kept) as progress,
            exclusive_machine(progress.log),
            RemoteHosts(
                experiment, run_dir / "logs", k6_path, script, plan.steps[0], progress.log
            ) as hosts,
        ):
            found["hosts"] = hosts.record().model_dump(mode="json")
            # Imports every app once: CPU work, so only while this run holds the machine, and
            # before the runner confines itself (and so its children) to the client's cores.
            found["target_packages"] = provenance.target_packages(experiment)
            # A resumed run keeps the ceiling its first steps were judged against.
            ceiling = stored_ceiling(run_dir) if done else None
            # k6 on another host: this machine's ceiling would say nothing of it.
            if ceiling is None and not k6_hosts(experiment):
                ceiling = client_ceiling(
                    experiment, k6_path, run_dir / "steps" / "ceiling", progress.log
                )
            found["client_ceiling"] = ceiling.model_dump(mode="json") if ceiling else None
            if experiment.pinning.enabled:
                # The runner and its sampler stay off the server's cores.
                os.sched_setaffinity(0, set(experiment.pinning.client_cpus))
            if done:
                progress.log(
                    f"Resuming {run_dir}: {len(done)} step(s) kept, {len(todo.steps)} to run."
                )
            shared = SweepSetup(
                script, database_env, server_commands, k6_path, run_dir, progress, store, hosts
            )
            judging = Judging(experiment.validity, ceiling)
            _run_steps(todo, shared, server_timings, measured, judging)
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


@dataclass(frozen=True)
class SweepSetup:
    """What every step of a run shares: the k6 script and binary, the database, the run's
    directory, its progress display and store, and the commands that started the servers."""

    script: Path
    database_env: dict[str, str]
    server_commands: dict[str, list[str]]
    k6_path: Path
    run_dir: Path
    progress: SweepProgress
    store: ResultStore
    hosts: RemoteHosts


def _run_steps(
    plan: Plan,
    shared: SweepSetup,
    server_timings: dict[str, dict[str, list[float]]],
    measured: dict[StepKey, StepResult],
    judging: Judging,
) -> None:
    """Every step in the plan's order, one server loaded at a time.

    Policy: a target whose server fails is not restarted; its remaining steps are skipped (a
    crash under load is a finding, and a restart would hide it), and the other targets go on.
    """
    experiment, progress = plan.experiment, shared.progress
    remaining = {target: plan.for_target(target) for target in experiment.targets}
    failed: set[str] = set()

    def fail(target: str, error: TargetError, started: bool) -> None:
        label = experiment.label(target)
        with interrupts.deferred():
            shared.store.append(target_failure(target, label, error, remaining[target], started))
        progress.log(f"FAILED {label}: {error.describe()}")
        progress.steps_skipped(remaining[target], f"{label} is not running")
        failed.add(target)

    places = ServerPlaces(shared.run_dir, shared.hosts, shared.database_env)
    servers = server_pool(experiment, places, progress, shared.server_commands, server_timings)
    with servers as pool:
        if plan.interleaved:
            # Every target's server up and checked before the first step.
            for target in (t for t in experiment.targets if remaining[t]):
                try:
                    pool.start(target, remaining[target][0].repetition)
                except TargetError as error:
                    fail(target, error, started=False)
        for step in plan.steps:
            if step.target in failed:
                continue
            try:
                server = pool.server_for(step)
            except TargetError as error:
                fail(step.target, error, started=False)
                continue
            try:
                if experiment.load.kind.searched:
                    # A capacity experiment: one search per target instead of its steps.
                    setup = SearchSetup(
                        step, server, experiment, shared.k6_path, shared.run_dir, shared.script
                    )
                    search_target(setup, shared.store, progress)
                    entry: StepResult | Failure | None = None
                else:
                    entry = _measure(step, server, shared, _with_previous(judging, step, measured))
            except TargetError as error:
                pool.stop(step.target)
                fail(step.target, error, started=True)
                continue
            if isinstance(entry, StepResult):
                measured[step.key] = entry
            remaining[step.target].remove(step)
            if not remaining[step.target]:
                pool.stop(step.target)


def _measure(
    step: Step, server: ServerHandle, shared: SweepSetup, judging: Judging
) -> StepResult | Failure:
    """One step, stored the moment it ends."""
    experiment = shared.progress.plan.experiment
    label = experiment.label(step.target)
    shared.progress.step_starting(label, step)
    entry = run_step(
        step,
        server,
        experiment,
        shared.k6_path,
        _step_dir(shared.run_dir, step),
        on_live=shared.progress.live,
        script=shared.script,
        judging=judging,
        placement=shared.hosts.placement(step.target),
    )
    with interrupts.deferred():
        shared.store.append(entry)
    shared.progress.step_finished(_one_line(label, step, entry), entry)
    return entry


def _with_previous(judging: Judging, step: Step, measured: dict[StepKey, StepResult]) -> Judging:
    """The ceiling rule compares a step with the same target and repetition one level lower,
    as stored (measured earlier in this run, or kept from the interrupted one)."""
    lower = [
        key
        for key in measured
        if key.target == step.target
        and key.repetition == step.repetition
        and key.level < step.level
    ]
    previous = measured[max(lower, key=lambda key: key.level)] if lower else None
    return replace(judging, previous=previous)


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
