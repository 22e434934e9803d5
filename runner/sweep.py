"""The sweep: for each target, start its server, run its steps, stop it; store as we go."""

from __future__ import annotations

import os
import time
from pathlib import Path

from runner import k6, measure, provenance
from runner.errors import TargetError, UserError
from runner.lifecycle import running_server
from runner.machine_lock import exclusive_machine
from runner.model import Experiment
from runner.plan import Plan, Step, build_plan
from runner.progress import SweepProgress
from runner.store import Failure, ResultStore, RunRecord, StepResult

# The cores this process may use before a run pins it (a multirun runs several jobs in-process).
AVAILABLE_CPUS = frozenset(os.sched_getaffinity(0))


def check_pinning(experiment: Experiment) -> None:
    if not experiment.pinning.enabled:
        return
    available = AVAILABLE_CPUS
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
    done: set[tuple[str, int, int]] = set()
    if experiment.runner.resume:
        done = store.resume(composed)
    else:
        version = k6.k6_version(k6_path)
        store.start(composed, provenance.collect(composed, experiments_dir, overrides, version))
    todo = plan.without(done)
    if experiment.pinning.enabled:
        # The runner and its sampler stay off the server's cores.
        os.sched_setaffinity(0, set(experiment.pinning.client_cpus))
    complete = False
    try:
        with SweepProgress(todo) as progress, exclusive_machine(progress.log):
            if done:
                progress.log(
                    f"Resuming {run_dir}: {len(done)} step(s) kept, {len(todo.steps)} to run."
                )
            for target in experiment.targets:
                if todo.for_target(target):
                    _run_target(todo, target, store, run_dir, k6_path, progress)
        complete = True
    finally:
        record = store.finish(complete, {"ended_at": time.time()})
        os.sched_setaffinity(0, AVAILABLE_CPUS)
    return record


def _run_target(
    plan: Plan,
    target: str,
    store: ResultStore,
    run_dir: Path,
    k6_path: Path,
    progress: SweepProgress,
) -> None:
    experiment = plan.experiment
    label = experiment.label(target)
    steps = plan.for_target(target)
    progress.target_starting(label)
    remaining = list(steps)
    try:
        with running_server(
            target,
            experiment.targets[target],
            run_dir / "logs",
            measure.server_cpus(experiment),
            experiment.load.endpoint,
            experiment.load.expect,
            experiment.runner.startup_timeout,
            experiment.runner.stop_grace,
        ) as server:
            for step in steps:
                progress.step_starting(label, step)
                entry = measure.run_step(
                    step, server, experiment, k6_path, _step_dir(run_dir, step), progress.live
                )
                store.append(entry)
                remaining.remove(step)
                progress.step_finished(_one_line(label, step, entry), entry)
    except TargetError as error:
        stage = "start" if len(remaining) == len(steps) else "step"
        failed = remaining[0] if stage == "step" else None
        store.append(
            Failure(
                target=target,
                label=label,
                stage=stage,
                concurrency=failed.concurrency if failed else None,
                repetition=failed.repetition if failed else None,
                message=str(error),
                log_tail=error.log_tail,
            )
        )
        progress.log(f"FAILED {label}: {error.describe()}")
        progress.steps_skipped(len(remaining), f"{label} is not running")


def _step_dir(run_dir: Path, step: Step) -> Path:
    return run_dir / "steps" / step.target / f"c{step.concurrency}-r{step.repetition}"


def _one_line(label: str, step: Step, entry: StepResult | Failure) -> str:
    where = f"{label} c={step.concurrency} rep {step.repetition}"
    if isinstance(entry, Failure):
        return f"{where}: FAILED: {entry.message}"
    return (
        f"{where}: {entry.rps:,.0f} RPS, p99 {entry.latency_ms.p99:.1f} ms, "
        f"errors {entry.error_rate:.2%}, server CPU {entry.cpu_percent.avg:.0f}% of one core"
    )
