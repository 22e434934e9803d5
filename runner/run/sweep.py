"""The sweep: every step in the plan's order (runner.run.plan), each target's server started
before its first step and stopped after its last (runner.run.sweep_servers); each step judged and
stored the moment it ends (the store opened by runner.run.sweep_store)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from runner.analysis.left_out import one_attempt_per_key
from runner.capacity.driver import SearchSetup, search_target
from runner.config.experiment import Experiment, k6_hosts
from runner.errors import TargetError
from runner.measure.ceiling import for_experiment as client_ceiling
from runner.measure.judging import Judging
from runner.measure.recent_steal import FLOOR_WORDS, recent_floor
from runner.measure.server import ServerHandle
from runner.measure.stalls import StallProbe
from runner.measure.step import run_step
from runner.records.results import Failure, RunRecord, StepResult
from runner.records.store import ResultStore
from runner.remote.hosts import RemoteHosts
from runner.run import database, interrupts, sweep_platform
from runner.run.machine_lock import exclusive_machine
from runner.run.plan import Plan, Step
from runner.run.preflight import AVAILABLE_CPUS, check_everything
from runner.run.progress import SweepProgress
from runner.run.rounds import Rounds
from runner.run.schedule import Queued, Schedule, disturbance_text
from runner.run.step_text import attempt_dir, one_line
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
    schedule = Schedule(plan, experiment.retry, kept)
    done = {s.key for s in kept}
    if wants_database and not postgresql:
        database_env = database.prepare(experiment.database, run_dir)
    script = checked.script
    todo = Plan(experiment, tuple(q.step for q in schedule.pending), plan.order)
    server_commands: dict[str, list[str]] = {}
    complete = False
    # Seconds to start (until the verified answer) and to stop each server (overhead, bench/).
    server_timings: dict[str, dict[str, list[float]]] = {"target_start_s": {}, "target_stop_s": {}}
    found: dict[str, object] = {"step_order": step_order(plan)}
    rounds: Rounds | None = None
    try:
        with (
            SweepProgress(todo, kept=kept) as progress,
            exclusive_machine(progress.log),
            RemoteHosts(
                experiment, run_dir / "logs", k6_path, script, plan.steps[0], progress.log
            ) as hosts,
        ):
            found["hosts"] = hosts.record().model_dump(mode="json")
            # The machine's own steal, before anything of ours runs (the steal rule's floor).
            floor = sweep_platform.steal_floor(experiment, run_dir, resumed=bool(done))
            found["steal_floor"] = floor.model_dump(mode="json") if floor else None
            # Imports every app once: CPU work, so only while this run holds the machine, and
            # before the runner confines itself (and so its children) to the client's cores.
            found["target_packages"] = hosts.target_packages()
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
            judging = Judging(
                experiment.validity, ceiling, steal_floor=floor.shares if floor else None
            )
            with sweep_platform.stall_probe(experiment) as stalls:
                shared = SweepSetup(script, database_env, server_commands, k6_path, run_dir,
                                    progress, store, hosts, stalls)  # fmt: skip
                rounds = _run_steps(schedule, shared, server_timings, list(kept), judging)
        complete = True
    finally:
        if rounds is not None:
            found["rounds"] = [r.model_dump(mode="json") for r in rounds.record(complete)]
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
    stalls: StallProbe | None = None  # the platform's stalls on the measured cores


def _run_steps(
    schedule: Schedule,
    shared: SweepSetup,
    server_timings: dict[str, dict[str, list[float]]],
    attempts: list[StepResult],
    judging: Judging,
) -> Rounds | None:
    """Every step in the schedule's order, one server loaded at a time; disturbed steps are
    measured again later (runner.run.schedule), and with `repetitions: auto` levels stop when
    settled (runner.run.rounds, returned so the run records how each stopped).

    Policy: a target whose server fails is not restarted; its remaining steps are skipped (a
    crash under load is a finding, and a restart would hide it), and the other targets go on.
    """
    experiment, progress = schedule.plan.experiment, shared.progress
    rounds = Rounds(schedule.plan, schedule) if experiment.auto_rounds else None

    def fail(target: str, error: TargetError, current: list[Step]) -> None:
        label = experiment.label(target)
        skipped = current + schedule.drop(lambda s: s.target == target)
        with interrupts.deferred():
            shared.store.append(target_failure(target, label, error, skipped, bool(current)))
        progress.log(f"FAILED {label}: {error.describe()}")
        progress.steps_skipped(skipped, f"{label} is not running")

    places = ServerPlaces(shared.run_dir, shared.hosts, shared.database_env)
    servers = server_pool(experiment, places, progress, shared.server_commands, server_timings)
    with servers as pool:
        if schedule.plan.interleaved:
            # Every target's server up and checked before the first step.
            for target in (t for t in experiment.targets if schedule.pending_for(t)):
                try:
                    pool.start(target, schedule.pending_for(target)[0].repetition)
                except TargetError as error:
                    fail(target, error, [])
        while (taken := schedule.take()) is not None:
            queued, wait_s = taken
            step = queued.step
            try:
                server = pool.server_for(step)
            except TargetError as error:
                fail(step.target, error, [])
                continue
            if wait_s > 0:
                progress.log(f"waiting {wait_s:.0f} s before the retry (retry.delay)")
                time.sleep(wait_s)
            began = time.monotonic()
            try:
                entry = _one_step(queued, server, shared, judging, attempts)
            except TargetError as error:
                pool.stop(step.target)
                fail(step.target, error, [step])
                continue
            if isinstance(entry, StepResult):
                attempts.append(entry)
                _after_attempt(queued, entry, schedule, time.monotonic() - began, progress)
            if rounds is not None:
                for line, dropped in rounds.after_step(step.repetition, attempts):
                    progress.steps_dropped(dropped, line)
            if not schedule.pending_for(step.target):
                pool.stop(step.target)
    return rounds


def _one_step(
    queued: Queued,
    server: ServerHandle,
    shared: SweepSetup,
    judging: Judging,
    attempts: list[StepResult],
) -> StepResult | Failure | None:
    """A step measured and stored, or (a capacity experiment) the target's whole search."""
    experiment = shared.progress.plan.experiment
    if experiment.load.kind.searched:
        setup = SearchSetup(
            queued.step,
            server,
            experiment,
            shared.k6_path,
            shared.run_dir,
            shared.script,
            shared.stalls,
            judging,
        )
        search_target(setup, shared.store, shared.progress)
        return None
    judging = _with_recent_steal(_with_previous(judging, queued.step, attempts), attempts)
    return _measure(queued, server, shared, judging)


def _after_attempt(
    queued: Queued,
    entry: StepResult,
    schedule: Schedule,
    seconds: float,
    progress: SweepProgress,
) -> None:
    """Queue a retry of a disturbed step, and say so (or why it stays invalid)."""
    retry, why_not = schedule.finished(queued, entry, seconds)
    where = f"{queued.step.level_text} {entry.label} rep {queued.step.repetition}"
    if retry is not None:
        of = schedule.retry.max_attempts
        progress.retry_queued(
            retry.step, f"retry {retry.attempt} of {of}: {where} ({disturbance_text(entry)})"
        )
    elif why_not:
        progress.log(f"{where} stays invalid ({disturbance_text(entry)}): not retried, {why_not}")


def _measure(
    queued: Queued, server: ServerHandle, shared: SweepSetup, judging: Judging
) -> StepResult | Failure:
    """One attempt of a step, stored the moment it ends."""
    step = queued.step
    experiment = shared.progress.plan.experiment
    label = experiment.label(step.target)
    shared.progress.step_starting(label, step)
    entry = run_step(
        step,
        server,
        experiment,
        shared.k6_path,
        attempt_dir(shared.run_dir, queued),
        on_live=shared.progress.live,
        script=shared.script,
        judging=judging,
        placement=shared.hosts.placement(step.target),
        stalls=shared.stalls,
    )
    if isinstance(entry, StepResult) and queued.attempt > 1:
        entry = entry.model_copy(update={"attempt": queued.attempt})
    with interrupts.deferred():
        shared.store.append(entry)
    shared.progress.step_finished(one_line(label, queued, entry), entry)
    return entry


def _with_previous(judging: Judging, step: Step, attempts: list[StepResult]) -> Judging:
    """The ceiling rule compares a step with the same target and repetition one level lower,
    as stored (measured earlier in this run, or kept from the interrupted one)."""
    measured = {s.key: s for s in one_attempt_per_key(attempts)}
    lower = [
        key
        for key in measured
        if key.target == step.target
        and key.repetition == step.repetition
        and key.level < step.level
    ]
    previous = measured[max(lower, key=lambda key: key.level)] if lower else None
    return replace(judging, previous=previous)


def _with_recent_steal(judging: Judging, attempts: list[StepResult]) -> Judging:
    """Steal judged above the idle floor or the last steps' steal, when higher
    (runner.measure.recent_steal); a run without an idle floor keeps the fixed limit."""
    if judging.steal_floor is None:
        return judging
    # The idle floor was read on the measured cores: they are the floor's keys.
    floor = recent_floor(judging.steal_floor, attempts, cores=())
    return replace(judging, steal_floor=floor, steal_floor_words=FLOOR_WORDS)
