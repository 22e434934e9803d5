"""Steps grouped into cells: one target at one level, summarised over its repetitions."""

from __future__ import annotations

from dataclasses import dataclass

from runner.analysis.statistics import Spread, median, spread
from runner.results import Stat, StepResult


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
    memory_max_mib: float | None
    client_bound: bool
    dropped_iterations: float | None = None  # open model: median of k6's dropped iterations
    fewest_requests: int | None = None  # of any repetition: which percentiles it supports

    @property
    def rps_per_core(self) -> float | None:
        """Throughput per core the server used; None when CPU was not measurable."""
        return self.rps.median / (self.cpu_percent / 100) if self.cpu_percent else None


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
    return Cell(
        target=first.target,
        label=first.label,
        level=first.level,
        runs=len(steps),
        rps=spread([s.rps for s in steps], confidence),
        ok_rps=spread([s.rps * (1 - s.error_rate) for s in steps], confidence),
        p95=spread([x.p95 for x in lat], confidence),
        p99=spread([x.p99 for x in lat], confidence),
        error_rate=median([s.error_rate for s in steps]),
        latency_avg_ms=median([x.avg for x in lat]),
        latency_p50_ms=median([x.p50 for x in lat]),
        latency_p90_ms=median([x.p90 for x in lat]),
        latency_p99_9_ms=median([x.p99_9 for x in lat]),
        latency_max_ms=max(x.max for x in lat),
        cpu_percent=_server_median([s.cpu_percent for s in steps]),
        memory_mib=_server_median([s.memory_mib for s in steps]),
        memory_max_mib=_server_max([s.memory_mib for s in steps]),
        client_bound=any(s.client_bound for s in steps),
        dropped_iterations=_dropped(steps),
        fewest_requests=min(s.requests for s in steps),
    )


def group_cells(steps: list[StepResult], confidence: float) -> dict[tuple[str, int], Cell]:
    """(target, level) -> the cell of that target's repetitions at that level."""
    grouped: dict[tuple[str, int], list[StepResult]] = {}
    for step in steps:
        grouped.setdefault((step.target, step.level), []).append(step)
    return {key: make_cell(repetitions, confidence) for key, repetitions in grouped.items()}
