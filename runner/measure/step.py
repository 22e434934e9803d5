"""One step: k6 load on a running server while the sampler watches both process trees."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.config.experiment import Experiment
from runner.errors import TargetError
from runner.measure import k6
from runner.measure.ceiling.levels import step_vus
from runner.measure.judging import (
    Judging,
    core_sets,
    judged,
    remote_server_sets,
    window_interference,
)
from runner.measure.server import ServerHandle
from runner.measure.stalls import StallProbe
from runner.measure.step_load import (
    Placement,
    StepLoad,
    StepWatch,
    Where,
    client_cpus,
    cores_of,
    instance_records,
    load_and_sample,
    sampled_roots,
)
from runner.measure.usage import Sample, WindowSummary, summarize
from runner.records.results import Failure, LatencyMs, Stat, StepResult
from runner.run.plan import Step

__all__ = ["StepWatch", "Where", "client_cpus", "run_step", "server_cpus", "write_samples"]
# Shortest window a step stopped early is counted over (guards a division by zero).
MIN_WINDOW_S = 0.1
# samples.csv: one row per sample and tree. Memory columns are blank on CPU-only samples.
SAMPLE_COLUMNS = [
    "tree",
    "unix_time",
    "cpu_percent_of_one_core",
    "cpu_seconds_total",
    "rss_mib",
    "uss_mib",
    "pss_mib",
    "processes",
]


def server_cpus(experiment: Experiment) -> list[int] | None:
    return list(experiment.pinning.server_cpus) if experiment.pinning.enabled else None


def run_step(
    step: Step,
    server: ServerHandle,
    experiment: Experiment,
    k6_path: Path,
    work_dir: Path,
    on_live: Callable[[k6.LiveView], None] | None = None,
    script: Path = k6.STANDARD_SCRIPT,
    watch: StepWatch | None = None,
    judging: Judging | None = None,
    placement: Placement | None = None,
    stalls: StallProbe | None = None,
) -> StepResult | Failure:
    """Measure one step and judge it (runner.measure.judging). Raises TargetError when the server
    dies, so its later steps are skipped.

    A server that dies during the step stops k6 at once; a k6 that fails or crashes makes the
    step a Failure (with k6's output tail) and the sweep goes on. A `watch` may stop k6 early:
    the step then covers the time until it did. A `placement` runs the load when the server or
    k6 is on another host. A `stalls` probe (running on the measured cores) gives the
    window's stall figures.
    """
    load = experiment.load
    roots = sampled_roots(server)
    server_cores = cores_of(server.pid) if server.pid is not None else None
    load_with = load_and_sample if placement is None else placement.load_and_sample
    loaded = load_with(step, server, experiment, k6_path, work_dir, on_live, script, watch)
    run, samples = loaded.run, loaded.samples
    where = placement.where(server) if placement else Where(server.pid, server_cores)
    write_samples(samples, work_dir / "samples.csv")
    label = experiment.label(step.target)
    if not server.alive():
        raise TargetError(
            f"Target '{step.target}' exited during the step at {step.level_words} "
            f"({server.exit_description()}).",
            server.log_tail(),
        )
    if run.stopped_because is not None:
        return _step_failure(step, label, run.stopped_because, run.output_tail)
    stopped_at = watch.stopped_at if watch is not None else None
    # k6 stopped through its REST API exits non-zero, but writes its summary.
    problem = run.problem(stopped_by_watch=stopped_at is not None)
    if problem is not None:
        return _step_failure(step, label, problem, run.output_tail)
    window_start = run.load_started_at + load.warmup_s
    window_end = window_start + load.duration_s
    if stopped_at is not None:
        window_end = max(min(window_end, stopped_at), window_start + MIN_WINDOW_S)
    sampled = "server" in samples  # a `url` target's server has no tree to sample
    server_usage = summarize(samples["server"], window_start, window_end) if sampled else None
    client_usage = summarize(samples.get("k6", []), window_start, window_end)
    if (sampled and server_usage is None) or client_usage is None:
        return _step_failure(step, label, "no CPU/memory samples in the window", run.output_tail)
    try:
        metrics = run.metrics()
    except k6.K6Failed as failed:
        return _step_failure(step, label, str(failed), run.output_tail)
    result = _step_result(
        step,
        label,
        metrics,
        run.exit_code,
        window_start,
        window_end - window_start,
        server_usage,
        client_usage,
    )
    result = _with_context(result, experiment, step, where)
    result = _with_split(result, loaded, (window_start, window_end), step.model.fixed_rate)
    if stalls is not None:
        result = result.model_copy(update={"stalls": stalls.window(window_start, window_end)})
    # This machine's cores: the server's tree is judged there only when it runs here.
    sets = core_sets(experiment, server_sampled=bool(roots))
    found = window_interference(loaded.counters, samples, window_start, window_end, sets)
    if loaded.server_counters:  # the server on another host: judged there
        there = remote_server_sets(experiment)
        found += window_interference(
            loaded.server_counters, samples, window_start, window_end, there
        )
    bound = experiment.targets[step.target].concurrency_bound
    judging = replace(judging or Judging(experiment.validity), concurrency=bound)
    return judged(result, metrics, found, judging, step_vus(load, step.level))


def _with_split(
    result: StepResult, loaded: StepLoad, window: tuple[float, float], fixed_rate: bool
) -> StepResult:
    """A split step's record of each instance (unchanged for one k6)."""
    if not loaded.run.split:
        return result
    each = loaded.run.instance_metrics()
    records = instance_records(loaded, each, window, fixed_rate)
    return result.model_copy(update={"k6_split": records})


def _with_context(
    result: StepResult, experiment: Experiment, step: Step, where: Where
) -> StepResult:
    """What the figures need to be read right: on how many cores (whether k6 was the
    bottleneck is the validity's client-bound rule, runner.measure.judging)."""
    k6_cores = where.client_cores or len(client_cpus(experiment) or os.sched_getaffinity(0))
    update: dict[str, Any] = {
        "client_cores": k6_cores,
        "server_pid": where.server_pid,
        "server_cores": where.server_cores,
        "cpu_share_percent": _share(result.cpu_percent, where.server_cores)
        if result.cpu_percent
        else None,
    }
    if experiment.load.kind.fixed_rate:
        preallocated, update["max_vus"] = experiment.load.open_vus(step.level)
        scenarios = 2 if experiment.load.warmup_s > 0 else 1  # warmup and window, each its own
        update["vus_preallocated"] = preallocated * scenarios
    return result.model_copy(update=update)


def _share(cpu: Stat, cores: int | None) -> Stat | None:
    """% of one core -> % of the cores the server may use."""
    if not cores:
        return None
    return Stat(avg=round(cpu.avg / cores, 2), max=round(cpu.max / cores, 2))


def _step_failure(step: Step, label: str, message: str, tail: list[str]) -> Failure:
    return Failure(
        target=step.target,
        label=label,
        stage="step",
        level=step.level,
        repetition=step.repetition,
        message=message,
        log_tail="\n".join(tail[-20:]),
    )


def _stat(usage: WindowSummary, field: str) -> Stat:
    value = getattr(usage, field)
    return Stat(avg=round(value.avg, 2), max=round(value.max, 2))


def _server_stat(usage: WindowSummary | None, field: str) -> Stat | None:
    """None for a server the runner did not start (nothing to sample), or a figure not taken."""
    if usage is None or getattr(usage, field) is None:
        return None
    return _stat(usage, field)


def _step_result(
    step: Step,
    label: str,
    metrics: k6.K6Metrics,
    k6_exit_code: int,
    window_start: float,
    duration_s: float,
    server_usage: WindowSummary | None,
    client_usage: WindowSummary,
) -> StepResult:
    error_rate = metrics.failed_requests / metrics.requests if metrics.requests else 0.0
    fixed_rate = step.model.fixed_rate
    return StepResult(
        target=step.target,
        label=label,
        model=step.model.name,
        level=step.level,
        repetition=step.repetition,
        started_at=round(window_start, 3),
        duration_s=duration_s,
        requests=metrics.requests,
        rps=round(metrics.requests / duration_s, 2),
        target_rps=float(step.level) if fixed_rate else None,
        dropped_iterations=metrics.dropped_iterations if fixed_rate else None,
        vus_initialised=metrics.vus_initialised if fixed_rate else None,
        failed_requests=metrics.failed_requests,
        error_rate=round(error_rate, 6),
        errors=metrics.errors,
        latency_ms=LatencyMs.model_validate(
            {k: None if v is None else round(v, 3) for k, v in metrics.latency_ms.items()}
        ),
        cpu_percent=_server_stat(server_usage, "cpu_percent"),
        memory_mib=_server_stat(server_usage, "memory_mib"),
        memory_uss_mib=_server_stat(server_usage, "uss_mib"),
        memory_pss_mib=_server_stat(server_usage, "pss_mib"),
        server_processes=server_usage.processes if server_usage else None,
        client_cpu_percent=_stat(client_usage, "cpu_percent"),
        k6_exit_code=k6_exit_code,
    )


def write_samples(samples: dict[str, list[Sample]], path: Path) -> None:
    """Keep the raw time series beside the step's k6 files, for anyone who wants to look."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(SAMPLE_COLUMNS)
        for name, series in samples.items():
            for s in series:
                writer.writerow(
                    [
                        name,
                        f"{s.at:.3f}",
                        f"{s.cpu_percent:.1f}",
                        f"{s.cpu_seconds:.2f}",
                        _blank_or(s.rss_mib),
                        _blank_or(s.uss_mib),
                        _blank_or(s.pss_mib),
                        s.processes,
                    ]
                )


def _blank_or(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
