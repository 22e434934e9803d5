"""Steps grouped into cells: one target at one level, summarised over its valid repetitions.

Each figure a verdict or a sentence uses is computed here once per cell, so it reads the same
wherever it appears (efficiency, memory)."""

from __future__ import annotations

from dataclasses import dataclass

from runner.analysis.left_out import valid_for_verdicts
from runner.analysis.statistics import Spread, median, spread
from runner.records.results import Stat, StepResult


@dataclass(frozen=True)
class Cell:
    """One target at one level, over its repetitions (medians unless named otherwise)."""

    target: str
    label: str
    level: int
    runs: int
    rps: Spread
    ok_rps: Spread  # successful requests per second: rps x (1 - error rate)
    p95: Spread
    p99: Spread
    error_rate: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_9_ms: float
    latency_max_ms: float
    cpu_percent: float | None  # None: a `url` target, whose server is not sampled
    memory_mib: float | None
    memory_max_mib: float | None  # RSS summed over the tree: an upper bound
    client_bound: bool
    dropped_iterations: float | None = None  # open model: median of k6's dropped iterations
    # PSS of the whole tree (shared pages split between their users), the memory verdicts'
    # figure; None when not sampled (sampler.uss off, a `url` target, older runs).
    memory_pss_max_mib: float | None = None
    # Efficiency, the one definition: successful RPS per core the server used, i.e. median
    # successful RPS / (median server CPU % of one core / 100); None when CPU was not measured.
    rps_per_core: float | None = None
    fewest_requests: int | None = None  # of any repetition: which percentiles it supports
    # Open model: a repetition could not hold the offered rate (the step rule rate_not_held).
    rate_not_held: bool = False
    # From client-bound steps only (runner.analysis.floors): the throughput is a floor for the
    # server's, and nothing else in the cell may be read as the server's.
    floor: bool = False
    floor_reason: str = ""


def efficiency(ok_rps: float, cpu_percent: float | None) -> float | None:
    """Successful RPS per core used; None when the server's CPU was not measured (or 0)."""
    return ok_rps / (cpu_percent / 100) if cpu_percent else None


def _server_median(samples: list[Stat | None]) -> float | None:
    """Median of the averages; None when the server was not sampled (a `url` target)."""
    averages = [stat.avg for stat in samples if stat is not None]
    return median(averages) if averages and len(averages) == len(samples) else None


def _server_max(samples: list[Stat | None]) -> float | None:
    maxima = [stat.max for stat in samples if stat is not None]
    return max(maxima) if maxima and len(maxima) == len(samples) else None


def _dropped(steps: list[StepResult]) -> float | None:
    dropped = [s.dropped_iterations for s in steps]
    counts = [float(d) for d in dropped if d is not None]
    return median(counts) if len(counts) == len(dropped) else None


def make_cell(steps: list[StepResult], confidence: float) -> Cell:
    first = steps[0]
    lat = [s.latency_ms for s in steps]
    ok_rps = spread([s.rps * (1 - s.error_rate) for s in steps], confidence)
    cpu_percent = _server_median([s.cpu_percent for s in steps])
    return Cell(
        target=first.target,
        label=first.label,
        level=first.level,
        runs=len(steps),
        rps=spread([s.rps for s in steps], confidence),
        ok_rps=ok_rps,
        p95=spread([x.p95 for x in lat], confidence),
        p99=spread([x.p99 for x in lat], confidence),
        error_rate=median([s.error_rate for s in steps]),
        latency_avg_ms=median([x.avg for x in lat]),
        latency_p50_ms=median([x.p50 for x in lat]),
        latency_p90_ms=median([x.p90 for x in lat]),
        latency_p99_9_ms=median([x.p99_9 for x in lat]),
        latency_max_ms=max(x.max for x in lat),
        cpu_percent=cpu_percent,
        memory_mib=_server_median([s.memory_mib for s in steps]),
        memory_max_mib=_server_max([s.memory_mib for s in steps]),
        client_bound=any(s.client_bound for s in steps),
        dropped_iterations=_dropped(steps),
        memory_pss_max_mib=_server_max([s.memory_pss_mib for s in steps]),
        rps_per_core=efficiency(ok_rps.median, cpu_percent),
        fewest_requests=min(s.requests for s in steps),
        rate_not_held=any(_named(s, "rate_not_held") for s in steps),
    )


def _named(step: StepResult, code: str) -> bool:
    """Whether one of the step's validity reasons has this code."""
    return step.validity is not None and any(r.code == code for r in step.validity.reasons)


def group_cells(steps: list[StepResult], confidence: float) -> dict[tuple[str, int], Cell]:
    """(target, level) -> the cell of that target's valid repetitions at that level; a level
    with no valid step has no cell."""
    grouped: dict[tuple[str, int], list[StepResult]] = {}
    for step in filter(valid_for_verdicts, steps):
        grouped.setdefault((step.target, step.level), []).append(step)
    return {key: make_cell(repetitions, confidence) for key, repetitions in grouped.items()}
