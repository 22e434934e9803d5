"""One step's figures from its k6 instances: counts summed, latencies from the pooled samples.

Exact by construction: a count, a failure, a dropped iteration or an error of the step is one
of exactly one instance, so the step's are the sums; the mean iteration time is the instances'
means weighted by their iterations. A percentile cannot be combined from percentiles (an
average of p99s is no p99 of anything), so the latency spectrum is computed afresh from every
instance's measured-window samples pooled, the way k6 computes its own (numpy's default
linear interpolation is k6's: value at rank q x (n - 1)). One instance's samples give back its
own summary's spectrum, to the CSV's microsecond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from runner.measure.k6.summary import ERROR_CAUSES, K6Metrics

__all__ = ["PERCENTILES", "latency_spectrum", "merge_metrics"]

# The percentiles a step stores (runner.records.results.LatencyMs), by field.
PERCENTILES = {
    "p50": 50.0,
    "p75": 75.0,
    "p90": 90.0,
    "p95": 95.0,
    "p99": 99.0,
    "p99_9": 99.9,
    "p99_99": 99.99,
}


def latency_spectrum(durations_ms: npt.NDArray[np.float64]) -> dict[str, float | None]:
    """avg, min, the percentiles and max of request durations, as k6 computes them (all 0 for
    no requests, as k6 reports an empty window)."""
    if durations_ms.size == 0:
        return {"avg": 0.0, "min": 0.0, **dict.fromkeys(PERCENTILES, 0.0), "max": 0.0}
    values = np.percentile(durations_ms, list(PERCENTILES.values()))
    return {
        "avg": float(np.mean(durations_ms)),
        "min": float(np.min(durations_ms)),
        **{name: float(value) for name, value in zip(PERCENTILES, values, strict=True)},
        "max": float(np.max(durations_ms)),
    }


def _mean_iteration_ms(instances: Sequence[K6Metrics]) -> float | None:
    """The instances' mean iteration times weighted by their iterations (sum / count)."""
    timed = [m for m in instances if m.iteration_duration_avg_ms is not None and m.iterations]
    iterations = sum(m.iterations for m in timed)
    if not iterations:
        given = (m.iteration_duration_avg_ms for m in instances)
        return next((value for value in given if value is not None), None)
    total_ms = sum((m.iteration_duration_avg_ms or 0.0) * m.iterations for m in timed)
    return total_ms / iterations


def merge_metrics(
    instances: Sequence[K6Metrics], durations_ms: npt.NDArray[np.float64]
) -> K6Metrics:
    """The step's figures from its instances' summaries and their pooled measured-window request
    durations (runner.measure.k6.raw)."""
    return K6Metrics(
        requests=sum(m.requests for m in instances),
        failed_requests=sum(m.failed_requests for m in instances),
        iterations=sum(m.iterations for m in instances),
        latency_ms=latency_spectrum(durations_ms),
        errors={cause: sum(m.errors.get(cause, 0) for m in instances) for cause in ERROR_CAUSES},
        dropped_iterations=sum(m.dropped_iterations for m in instances),
        iteration_duration_avg_ms=_mean_iteration_ms(instances),
        vus_initialised=_sum_known([m.vus_initialised for m in instances]),
    )


def _sum_known(values: Sequence[int | None]) -> int | None:
    """The sum, or None when any instance did not report it."""
    known = [v for v in values if v is not None]
    return sum(known) if len(known) == len(values) else None
