"""k6 options for one step: a warmup scenario (not counted), then the measured one.

Every figure is read from `{scenario:measure}` sub-metrics, so warmup traffic is excluded by
construction; always-true thresholds make k6 report those sub-metrics.
"""

from __future__ import annotations

from typing import Any

from runner.config.experiment import Experiment
from runner.run.plan import Step

# The tag of the measured scenario's sub-metrics.
MEASURE = "{scenario:measure}"
# The latency spectrum a step stores (results.LatencyMs), as k6 names it.
TREND_STATS = [
    "avg", "min", "med", "max", "p(50)", "p(75)", "p(90)", "p(95)", "p(99)", "p(99.9)",
    "p(99.99)", "count",
]  # fmt: skip


def thresholds(extra_counts: list[str] | None = None) -> dict[str, list[str]]:
    """Always-true thresholds on the measure sub-metrics the results are read from."""
    wanted = {
        f"http_reqs{MEASURE}": ["count>=0"],
        f"http_req_duration{MEASURE}": ["max>=0"],
        f"http_req_failed{MEASURE}": ["rate>=0"],
        f"iterations{MEASURE}": ["count>=0"],
        # Mean iteration time, for Little's law (runner.measure.validity).
        f"iteration_duration{MEASURE}": ["max>=0"],
    }
    return wanted | {f"{name}{MEASURE}": ["count>=0"] for name in extra_counts or []}


def step_options(
    executor: dict[str, Any],
    duration: str,
    warmup_s: float,
    extra_counts: list[str] | None = None,
) -> dict[str, Any]:
    """k6 options for one step: the warmup scenario (same load, not counted), then the measured
    scenario, both with `executor` (see LoadModel.executor). `extra_counts` are further counters
    to report for the measured window only, such as `dropped_iterations` under a fixed rate:
    when every allowed VU is still waiting for the server, k6 cannot start the next request on
    time and counts it there; the runner reports that instead of hiding it."""
    scenarios: dict[str, Any] = {}
    if warmup_s > 0:
        # Warmup users finish the request they are in when the window opens (gracefulStop):
        # interrupting them could leave a connection open with no request on it, which blocks
        # a sync worker (gunicorn) for the whole measured window. Their requests stay tagged
        # `warmup` and are not counted.
        scenarios["warmup"] = {**executor, "duration": f"{warmup_s}s", "gracefulStop": "30s"}
    scenarios["measure"] = {
        **executor,
        "duration": duration,
        "startTime": f"{warmup_s}s",
        "gracefulStop": "10s",
    }
    return {
        "scenarios": scenarios,
        "thresholds": thresholds(extra_counts),
        "summaryTrendStats": TREND_STATS,
        "discardResponseBodies": True,
        "noUsageReport": True,
    }


def options_for_step(experiment: Experiment, step: Step) -> dict[str, Any]:
    """k6 options for the experiment's load model at the step's level."""
    load = experiment.load
    counts = ["dropped_iterations"] if load.kind.fixed_rate else []
    return step_options(load.k6_executor(step.level), load.duration, load.warmup_s, counts)
