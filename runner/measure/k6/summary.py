"""Measured-window figures from k6's `--summary-export` file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.measure.k6.options import MEASURE

# The causes runner/scripts/sweepbench.js counts failed requests by (`sweepbench_errors_<cause>`).
ERROR_CAUSES = (
    "status_4xx",
    "status_5xx",
    "timeout",
    "connection_refused",
    "connection_reset",
    "other",
)


@dataclass(frozen=True)
class K6Metrics:
    requests: int
    failed_requests: int
    iterations: int
    latency_ms: dict[str, float | None]  # p75, p99_99: None from summaries without them
    errors: dict[str, int]
    dropped_iterations: int = 0  # open model: requests k6 could not start on time
    iteration_duration_avg_ms: float | None = None  # None: k6 reported no iteration time
    # k6's `vus_max` at its highest (warmup and window): the virtual users initialised,
    # preallocated ones included; more than preallocated means every one was busy at some point.
    vus_initialised: int | None = None


def _metric(summary: dict[str, Any], name: str) -> dict[str, Any]:
    found = summary.get("metrics", {}).get(name, {})
    return found if isinstance(found, dict) else {}


def parse_summary(summary: dict[str, Any]) -> K6Metrics:
    """Measured-window figures from a `--summary-export` file.

    `http_req_failed` is a Rate: its `passes` counts requests for which "failed" was true,
    i.e. the failed requests, and `fails` counts the successful ones.
    """
    requests = int(_metric(summary, f"http_reqs{MEASURE}").get("count", 0))
    failed = int(_metric(summary, f"http_req_failed{MEASURE}").get("passes", 0))
    duration = _metric(summary, f"http_req_duration{MEASURE}")
    latency = {
        "avg": duration.get("avg", 0.0),
        "min": duration.get("min", 0.0),
        "p50": duration.get("p(50)", duration.get("med", 0.0)),
        "p75": duration.get("p(75)"),
        "p90": duration.get("p(90)", 0.0),
        "p95": duration.get("p(95)", 0.0),
        "p99": duration.get("p(99)", 0.0),
        "p99_9": duration.get("p(99.9)", 0.0),
        "p99_99": duration.get("p(99.99)"),
        "max": duration.get("max", 0.0),
    }
    errors = {
        cause: int(_metric(summary, f"sweepbench_errors_{cause}").get("count", 0))
        for cause in ERROR_CAUSES
    }
    iterations = int(_metric(summary, f"iterations{MEASURE}").get("count", 0))
    dropped = int(_metric(summary, f"dropped_iterations{MEASURE}").get("count", 0))
    iteration_ms = _metric(summary, f"iteration_duration{MEASURE}").get("avg")
    vus_max = _metric(summary, "vus_max").get("max")
    initialised = int(vus_max) if vus_max is not None else None
    return K6Metrics(
        requests, failed, iterations, latency, errors, dropped, iteration_ms, initialised
    )
