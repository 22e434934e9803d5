"""The experiment's settings beside what it measures: CPU pinning, the sampler, the report's
thresholds and the runner's own (`pinning:`, `sampler:`, `report:`, `runner:`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from runner.config.experiment.base import Strict

__all__ = ["INVOCATION_KEYS", "Pinning", "ReportSettings", "RunnerSettings", "Sampler"]


class Pinning(Strict):
    """CPU cores for the server and for k6, so they do not compete for the same core."""

    enabled: bool = True
    server_cpus: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [0])
    client_cpus: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [1])


class Sampler(Strict):
    interval: float = Field(
        default=0.1, gt=0.005, le=10, description="Seconds between CPU samples."
    )
    memory_interval: float = Field(
        default=1.0,
        gt=0.005,
        le=60,
        description="Seconds between memory samples (RSS; USS and PSS of the server too).",
    )
    uss: bool = Field(
        default=True,
        description="Read the server's USS and PSS (/proc/PID/smaps_rollup, about ten times "
        "the cost of RSS) on each memory sample.",
    )
    # 25 ms: bench/stall_probe.py measured 0.22-0.24% of a core per probe at 25 ms, while 20 ms
    # went over the 0.5% budget in one run of five (0.52-0.57%); a stall of S ms shows as S - 25.
    stall_interval_ms: float | None = Field(
        default=25.0,
        ge=1,
        le=1000,
        description="The stall probe's sleep, ms: one probe process per measured core wakes "
        "this often and records how late it wakes (its resolution: shorter stalls can be "
        "missed); null turns the probe off.",
    )


class ReportSettings(Strict):
    """Thresholds of the report's verdicts; each is printed with the rule it feeds."""

    title: str | None = None
    error_threshold: float = Field(
        default=0.01, ge=0, le=1, description="Error rate (fraction) that marks a breaking point."
    )
    latency_slo_ms: float | None = Field(
        default=None, gt=0, description="p95 latency objective in ms; a level above it breaks."
    )
    throughput_drop: float = Field(
        default=0.10, gt=0, lt=1, description="Drop below the best earlier level that breaks."
    )
    min_effect: float = Field(
        default=0.05, ge=0, lt=1, description="Smallest lead (fraction) that can name a winner."
    )
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Confidence level of intervals and tests."
    )
    knee_throughput_gain: float = Field(
        default=0.05, ge=0, description="Throughput gain below which the sweep has saturated."
    )
    knee_latency_rise: float = Field(
        default=0.10, ge=0, description="p95 rise above which the sweep has saturated."
    )
    compare_across_hosts: bool = Field(
        default=False,
        description="Matrix report: rank jobs that ran on different kinds of host (CPU model, "
        "cores, memory) together and name a highest job across them.",
    )


class RunnerSettings(Strict):
    startup_timeout: float = Field(default=30, gt=0, description="Seconds a server may take.")
    stop_grace: float = Field(default=5, ge=0, description="Seconds between SIGTERM and SIGKILL.")
    resume: str | None = Field(
        default=None, description="Run directory of an interrupted run to continue."
    )
    dry_run: bool = Field(default=False, description="Validate and print the plan; start nothing.")
    min_free_mib: int = Field(
        default=100,
        ge=0,
        description="Free disk space (MiB) the run directory must have before the first step.",
    )


# Keys that say how to invoke a run, not what it measures: they may differ when resuming.
INVOCATION_KEYS = ("runner.resume", "runner.dry_run", "runner.min_free_mib")
