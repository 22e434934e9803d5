"""The sweep: for each target, start its server, run its steps, stop it; store as we go."""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from pathlib import Path

from runner import k6, measure, provenance
from runner.errors import TargetError, UserError
from runner.lifecycle import RunningServer, running_server
from runner.machine_lock import exclusive_machine
from runner.model import Experiment
from runner.plan import Plan, Step, build_plan
from runner.progress import SweepProgress
from runner.store import Failure, ResultStore, RunRecord, StepResult


def check_pinning(experiment: Experiment) -> None:
    if not experiment.pinning.enabled:
        return
    available = os.sched_getaffinity(0)
    for key in ("server_cpus", "client_cpus"):
        missing = sorted(set(getattr(experiment.pinning, key)) - available)
        if missing:
            raise UserError(
                f"'pinning.{key}' names CPU core(s) {missing} that this machine does not offer "
                f"(available: {sorted(available)}). Change the cores or set pinning.enabled=false."
            )


def run_experiment(
    experiment: Experiment,
    run_dir: Path,
    experiments_dir: Path,
    overrides: list[str],
) -> RunRecord:
    """Run every step of the plan; the record is complete only if the sweep got to its end."""
    k6_path = k6.find_k6()
    check_pinning(experiment)
    plan = build_plan(experiment)
    store = ResultStore(run_dir)
    composed = experiment.model_dump(mode="json", by_alias=True)
    store.start(
        composed, provenance.collect(composed, experiments_dir, overrides, k6.k6_version(k6_path))
    )
    complete = False
    # Seconds to start (until the verified answer) and to stop each server (overhead, bench/).
    lifecycle: dict[str, dict[str, list[float]]] = {"target_start_s": {}, "target_stop_s": {}}
    found: dict[str, object] = {}
    try:
        with SweepProgress(len(plan.steps)) as progress, exclusive_machine(progress.log):
            # Imports every app once: CPU work, so only while this run holds the machine, and
            # before the runner confines itself (and so its children) to the client's cores.
            found["target_packages"] = provenance.target_packages(experiment)
            if experiment.pinning.enabled:
                # The runner and its sampler stay off the server's cores.
                os.sched_setaffinity(0, set(experiment.pinning.client_cpus))
            for target in experiment.targets:
                _run_target(plan, target, store, run_dir, k6_path, progress, lifecycle)
        complete = True
    finally:
        ended = {"ended_at": time.time(), **lifecycle, **found}
        record = store.finish(complete, ended)
    return record


def _run_target(
    plan: Plan,
    target: str,
    store: ResultStore,
    run_dir: Path,
    k6_path: Path,
    progress: SweepProgress,
    lifecycle: dict[str, dict[str, list[float]]],
) -> None:
    experiment = plan.experiment
    label = experiment.label(target)
    steps = plan.for_target(target)
    remaining = list(steps)
    in_step = False
    try:
        # One server for all the target's steps, or a fresh one per repetition.
        for session in plan.server_sessions(target):
            progress.target_starting(label)
            asked_at = time.monotonic()
            with _server(experiment, target, run_dir) as server:
                _note(lifecycle["target_start_s"], target, asked_at)
                for step in session:
                    progress.step_starting(label, step)
                    in_step = True
                    entry = measure.run_step(
                        step, server, experiment, k6_path, _step_dir(run_dir, step)
                    )
                    in_step = False
                    store.append(entry)
                    remaining.remove(step)
                    progress.step_finished(_one_line(label, step, entry))
                stopping_at = time.monotonic()
            _note(lifecycle["target_stop_s"], target, stopping_at)
    except TargetError as error:
        failed = remaining[0] if in_step else None
        store.append(
            Failure(
                target=target,
                label=label,
                stage="step" if in_step else "start",
                concurrency=failed.level if failed else None,
                repetition=failed.repetition if failed else None,
                message=str(error),
                log_tail=error.log_tail,
            )
        )
        progress.log(f"FAILED {label}: {error.describe()}")
        progress.steps_skipped(len(remaining), f"{label} is not running")


def _note(durations: dict[str, list[float]], target: str, since: float) -> None:
    durations.setdefault(target, []).append(round(time.monotonic() - since, 3))


def _server(
    experiment: Experiment, target: str, run_dir: Path
) -> AbstractContextManager[RunningServer]:
    return running_server(
        target,
        experiment.targets[target],
        run_dir / "logs",
        measure.server_cpus(experiment),
        experiment.load.endpoint,
        experiment.load.expect,
        experiment.runner.startup_timeout,
        experiment.runner.stop_grace,
    )


def _step_dir(run_dir: Path, step: Step) -> Path:
    level = f"rps{step.level}" if step.model == "open" else f"c{step.level}"
    return run_dir / "steps" / step.target / f"{level}-r{step.repetition}"


def _one_line(label: str, step: Step, entry: StepResult | Failure) -> str:
    where = f"{label} {step.level_text} rep {step.repetition}"
    if isinstance(entry, Failure):
        return f"{where}: FAILED: {entry.message}"
    dropped = (
        f" ({entry.dropped_iterations:,} dropped)" if entry.dropped_iterations is not None else ""
    )
    return (
        f"{where}: {entry.rps:,.0f} RPS{dropped}, p99 {entry.latency_ms.p99:.1f} ms, "
        f"errors {entry.error_rate:.2%}, server CPU {entry.cpu_percent.avg:.0f}% of one core"
    )
