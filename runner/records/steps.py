"""The stored records of steps: one target at one level in one repetition (StepResult, keyed by
StepKey), or why it could not be measured (Failure); and Record, every stored type's base."""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from runner.config.load_model import LoadModelName
from runner.measure.stalls import StallFigures
from runner.measure.validity import Validity


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepKey(NamedTuple):
    """Which step: one target at one level in one repetition. A plain tuple compares equal."""

    target: str
    level: int
    repetition: int


class Stat(Record):
    avg: float
    max: float


class LatencyMs(Record):
    """k6 `http_req_duration` of the measured window, ms: the percentile spectrum."""

    avg: float
    min: float
    p50: float
    p75: float | None = Field(default=None, description="Absent in runs before schema 3.")
    p90: float
    p95: float
    p99: float
    p99_9: float
    p99_99: float | None = Field(default=None, description="Absent in runs before schema 3.")
    max: float


class K6Instance(Record):
    """One k6 process of a step whose load was split over several (load.k6_instances > 1)."""

    instance: int = Field(description="1-based.")
    segment: str = Field(description="Its k6 execution segment, e.g. '1/2:1'.")
    requests: int
    rps: float = Field(description="Its requests per second over the step's measured window.")
    failed_requests: int
    dropped_iterations: int | None = Field(default=None, description="Open model only.")
    load_start_offset_s: float = Field(
        description="When its load started, seconds after the first instance's."
    )
    client_cpu_percent: Stat | None = Field(
        default=None, description="Its CPU, % of one core (null: no samples in the window)."
    )


class StepResult(Record):
    """One target at one level in one repetition, measured window only."""

    kind: Literal["step"] = "step"
    target: str
    label: str
    model: LoadModelName = Field(
        default="closed",
        description="Load model: closed (constant virtual users) or open (constant arrival rate).",
    )
    level: int = Field(
        description="The step's level: virtual users (closed) or requests per second (open)."
    )
    repetition: int = Field(description="1-based repetition number.")
    attempt: int = Field(
        default=1,
        ge=1,
        description="1-based: a step judged invalid for a passing cause (interference, steal) "
        "is measured again (`retry:`); every attempt is stored.",
    )
    started_at: float = Field(description="Start of the measured window, Unix seconds.")
    duration_s: float = Field(description="Length of the measured window, seconds.")
    requests: int
    rps: float = Field(description="Requests per second in the measured window.")
    target_rps: float | None = Field(
        default=None, description="Open model: the arrival rate asked of k6, requests per second."
    )
    dropped_iterations: int | None = Field(
        default=None,
        description="Open model: requests k6 could not start on time because every allowed "
        "virtual user was still waiting for the server (k6 `dropped_iterations`).",
    )
    max_vus: int | None = Field(default=None, description="Open model: k6's virtual-user cap.")
    vus_preallocated: int | None = Field(
        default=None,
        description="Open model: virtual users k6 started before the load, over its scenarios "
        "(warmup and window).",
    )
    vus_initialised: int | None = Field(
        default=None,
        description="Open model: virtual users k6 had initialised at the most (k6 `vus_max`), "
        "preallocated ones included; above `vus_preallocated`, every one was busy at some "
        "point and k6 had to start more.",
    )
    failed_requests: int
    error_rate: float = Field(description="Failed / all requests, a fraction (0.01 = 1%).")
    errors: dict[str, int] = Field(description="Failed requests by cause.")
    latency_ms: LatencyMs
    cpu_percent: Stat | None = Field(
        description="Server process tree CPU, % of one core (200% = two cores busy); `max` is "
        "the busiest 1 s of the window (null: a `url` target, not sampled)."
    )
    cpu_share_percent: Stat | None = Field(
        default=None,
        description="Server process tree CPU, % of the cores the server may use (100% = all "
        "of them busy).",
    )
    server_cores: int | None = Field(default=None, description="CPU cores the server may use.")
    memory_mib: Stat | None = Field(
        description="Server process tree RSS, MiB (summed: an upper bound; null: a `url` target)."
    )
    memory_uss_mib: Stat | None = Field(
        default=None,
        description="Server process tree USS (memory private to each process), MiB (summed: a "
        "lower bound of what the tree holds).",
    )
    memory_pss_mib: Stat | None = Field(
        default=None,
        description="Server process tree PSS (shared pages split between their users), MiB.",
    )
    server_processes: int | None
    server_pid: int | None = Field(default=None, description="PID of the server's main process.")
    client_cpu_percent: Stat = Field(description="k6 CPU, % of one core.")
    client_cores: int | None = Field(default=None, description="CPU cores k6 may use.")
    client_bound: bool = Field(
        default=False,
        description="The step measured k6, not the server: k6 used >= 90% of its cores, or "
        "(schema 3) the validity's client-bound reason (validity.client_cpu_limit, "
        "validity.client_ceiling_share).",
    )
    client_ceiling_share: float | None = Field(
        default=None,
        description="Throughput as a share of k6's measured ceiling on this machine and pinning "
        "(runner.measure.ceiling); null: no ceiling measured.",
    )
    k6_exit_code: int
    k6_split: list[K6Instance] | None = Field(
        default=None,
        description="The step's load split over several k6 processes (load.k6_instances > 1): "
        "each one's segment and figures. The step's own figures merge them: counts and rates "
        "summed, latency percentiles computed from their pooled raw samples, k6 CPU their "
        "total. null: one k6 process.",
    )
    validity: Validity | None = Field(
        default=None,
        description="Whether the step's figures can be believed, with named reasons and their "
        "figures (runner.measure.validity); null: judged by no rule (runs before schema 3).",
    )
    stalls: StallFigures | None = Field(
        default=None,
        description="The platform's own stalls on the measured cores over the window, per "
        "core (runner.measure.stalls: a probe that sleeps `interval_ms` and records how late "
        "it wakes, in ms); null: no probe (sampler.stall_interval_ms null, or older runs).",
    )

    @property
    def key(self) -> StepKey:
        return StepKey(self.target, self.level, self.repetition)


class Failure(Record):
    """A target that could not start or a step that could not be measured."""

    kind: Literal["failure"] = "failure"
    target: str
    label: str
    stage: Literal["start", "step"]
    level: int | None = Field(default=None, description="The step's level (stage 'step').")
    repetition: int | None = None
    message: str
    log_tail: str = ""
