"""One step: k6 load on a running server while the sampler watches both process trees."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import psutil

from runner import k6
from runner.errors import TargetError
from runner.lifecycle import RunningServer
from runner.model import Experiment
from runner.plan import Step
from runner.sampler import Sample, TreeSampler, WindowSummary, summarize
from runner.store import Failure, LatencyMs, Stat, StepResult

# k6 needs a moment to start and to finish in-flight requests after the window closes.
K6_EXTRA_TIME_S = 60.0
# A k6 using this share of the cores it may use is the bottleneck, not the server.
CLIENT_BOUND_SHARE = 0.9
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


def step_env(server: RunningServer, experiment: Experiment, step: Step) -> dict[str, str]:
    """The documented contract between the runner and a k6 script."""
    load = experiment.load
    return {
        "SWEEPBENCH_BASE_URL": server.base_url,
        "SWEEPBENCH_PATH": load.endpoint,
        "SWEEPBENCH_TIMEOUT": load.timeout,
        "SWEEPBENCH_LEVEL": str(step.level),
        "SWEEPBENCH_MODEL": load.model,
    }


def client_cpus(experiment: Experiment) -> list[int] | None:
    return list(experiment.pinning.client_cpus) if experiment.pinning.enabled else None


def server_cpus(experiment: Experiment) -> list[int] | None:
    return list(experiment.pinning.server_cpus) if experiment.pinning.enabled else None


def step_k6_options(experiment: Experiment, step: Step) -> dict[str, Any]:
    """k6 options for the step's load model and level."""
    load = experiment.load
    if load.model == "open":
        preallocated, maximum = load.open_vus(step.level)
        return k6.open_step_options(step.level, load.duration, load.warmup_s, preallocated, maximum)
    return k6.step_options(step.level, load.duration, load.warmup_s)


def cores_of(pid: int) -> int | None:
    """How many CPU cores a process may run on (its affinity), None if it is gone."""
    try:
        return len(psutil.Process(pid).cpu_affinity() or [])
    except psutil.Error:
        return None


def run_step(
    step: Step,
    server: RunningServer,
    experiment: Experiment,
    k6_path: Path,
    work_dir: Path,
) -> StepResult | Failure:
    """Measure one step. Raises TargetError when the server dies, so its later steps are skipped."""
    load = experiment.load
    options = step_k6_options(experiment, step)
    timeout_s = load.warmup_s + load.duration_s + K6_EXTRA_TIME_S
    server_cores = cores_of(server.pid)
    sampling = experiment.sampler
    with TreeSampler(
        {"server": server.pid}, sampling.interval, sampling.memory_interval, sampling.uss
    ) as sampler:
        run = k6.run_k6(
            k6_path,
            k6.STANDARD_SCRIPT,
            options,
            step_env(server, experiment, step),
            work_dir,
            client_cpus(experiment),
            timeout_s,
            on_spawn=lambda pid: sampler.track("k6", pid),
        )
    write_samples(sampler.samples, work_dir / "samples.csv")
    label = experiment.label(step.target)
    if not server.alive():
        raise TargetError(
            f"Target '{step.target}' exited during the step at {step.level_text} "
            f"(exit code {server.process.returncode}).",
            server.log_tail(),
        )
    if run.exit_code != 0 or run.summary is None:
        return _step_failure(step, label, f"k6 exited with status {run.exit_code}", run.output_tail)
    window_start = (run.load_started_at or run.started_at) + load.warmup_s
    window_end = window_start + load.duration_s
    server_usage = summarize(sampler.samples["server"], window_start, window_end)
    client_usage = summarize(sampler.samples.get("k6", []), window_start, window_end)
    if server_usage is None or client_usage is None:
        return _step_failure(step, label, "no CPU/memory samples in the window", run.output_tail)
    result = _step_result(
        step, label, run, window_start, load.duration_s, server_usage, client_usage
    )
    k6_cores = len(client_cpus(experiment) or os.sched_getaffinity(0))
    bound = client_usage.cpu_percent.avg >= CLIENT_BOUND_SHARE * 100 * k6_cores
    update: dict[str, Any] = {
        "client_bound": bound,
        "client_cores": k6_cores,
        "server_pid": server.pid,
        "server_cores": server_cores,
        "cpu_share_percent": _share(result.cpu_percent, server_cores),
    }
    if step.model == "open":
        update["max_vus"] = load.open_vus(step.level)[1]
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
        concurrency=step.level,
        repetition=step.repetition,
        message=message,
        log_tail="\n".join(tail[-20:]),
    )


def _stat(usage: WindowSummary, field: str) -> Stat:
    value = getattr(usage, field)
    return Stat(avg=round(value.avg, 2), max=round(value.max, 2))


def _optional_stat(usage: WindowSummary, field: str) -> Stat | None:
    return _stat(usage, field) if getattr(usage, field) is not None else None


def _step_result(
    step: Step,
    label: str,
    run: k6.K6Run,
    window_start: float,
    duration_s: float,
    server_usage: WindowSummary,
    client_usage: WindowSummary,
) -> StepResult:
    assert run.summary is not None
    metrics = k6.parse_summary(run.summary)
    error_rate = metrics.failed_requests / metrics.requests if metrics.requests else 0.0
    is_open = step.model == "open"
    return StepResult(
        target=step.target,
        label=label,
        model="open" if is_open else "closed",
        level=step.level,
        concurrency=step.level,
        repetition=step.repetition,
        started_at=round(window_start, 3),
        duration_s=duration_s,
        requests=metrics.requests,
        rps=round(metrics.requests / duration_s, 2),
        target_rps=float(step.level) if is_open else None,
        dropped_iterations=metrics.dropped_iterations if is_open else None,
        failed_requests=metrics.failed_requests,
        error_rate=round(error_rate, 6),
        errors=metrics.errors,
        latency_ms=LatencyMs(**{k: round(v, 3) for k, v in metrics.latency_ms.items()}),
        cpu_percent=_stat(server_usage, "cpu_percent"),
        memory_mib=_stat(server_usage, "memory_mib"),
        memory_uss_mib=_optional_stat(server_usage, "uss_mib"),
        memory_pss_mib=_optional_stat(server_usage, "pss_mib"),
        server_processes=server_usage.processes,
        client_cpu_percent=_stat(client_usage, "cpu_percent"),
        k6_exit_code=run.exit_code,
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
