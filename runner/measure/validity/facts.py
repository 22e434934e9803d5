"""What the validity rules read (`StepFacts`), their thresholds (`ValiditySettings`) and what
they give (`Validity`, a list of `Reason`s). Shares are fractions (0.5 = 50%)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.config.experiment.validity import ValiditySettings

__all__ = [
    "PASSING_CAUSES",
    "Reason",
    "ReasonCode",
    "StepFacts",
    "StepStalls",
    "Validity",
    "ValiditySettings",
]

ReasonCode = Literal[
    "interference", "steal", "client_bound", "inconsistent_load", "rate_not_held",
    "unexplained_ceiling", "explained_ceiling", "too_few_samples", "stalls",
]  # fmt: skip
# Causes that pass by themselves (the machine's other work, the hypervisor's steal, the platform's
# stalls): a step invalid for one of these is measured again later (runner.run.schedule, `retry:`).
PASSING_CAUSES: frozenset[ReasonCode] = frozenset({"interference", "steal", "stalls"})


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: ReasonCode
    text: str
    figures: dict[str, float]
    invalidates: bool = True


class Validity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid: bool
    reasons: list[Reason]
    # The window's other work and steal per role, whether or not a limit was crossed, so a run
    # can be judged again with other thresholds (and their spread on this machine is visible).
    measured: dict[str, float] = Field(default_factory=dict)


@dataclass(frozen=True)
class StepStalls:
    """The stall probe over a step's window (runner.measure.stalls), as the stall rules read it."""

    interval_ms: float  # the probe's resolution
    window_s: float
    max_ms: Mapping[int, float]  # core -> longest stall (its latest wake), ms
    total_late_ms: Mapping[int, float]  # core -> time late in all, ms
    late_wakes: Mapping[int, int]  # core -> wakes late by more than the probe's threshold
    server_cores: frozenset[int]  # the cores the server's tree ran on (empty: not sampled)


@dataclass(frozen=True)
class StepFacts:
    """What the rules need of one step's measured window (shares are fractions)."""

    model: Literal["closed", "open"]
    level: int  # virtual users (closed) or target requests per second (open)
    requests: int
    rps: float  # all requests per second
    error_rate: float
    http_req_duration_avg_ms: float
    window_s: float | None = None  # the measured window's length; None: not known
    iteration_duration_avg_ms: float | None = None  # k6 `iteration_duration` avg
    iterations_per_s: float | None = None  # k6 `iterations` rate
    target_rps: float | None = None  # open model; the level if None
    dropped_iterations: int | None = None
    max_vus: int | None = None  # open model: k6's virtual-user cap
    # Open model: k6's preallocated virtual users (all scenarios) and the most it initialised
    # (k6 `vus_max`); more than preallocated: all were busy at some point. None: not known.
    vus_preallocated: int | None = None
    vus_initialised: int | None = None
    p99_ms: float | None = None
    # Requests the server serves at once when each worker holds one until answered (gunicorn
    # sync: workers; gthread: workers x threads), and what sets it; None: no such bound.
    concurrency: int | None = None
    concurrency_words: str = ""  # "the one sync worker", "2 gthread workers x 4 threads"
    server_cpu_share: float | None = None  # server tree CPU / its cores; None: not sampled
    # Busy time of the server's cores (/proc/stat: the tree, the kernel's work for it, anything
    # else) / their capacity; None: not read (a stored neighbour, a `url` target).
    server_core_busy_share: float | None = None
    client_cpu_share: float | None = None  # k6 CPU / its cores
    client_ceiling_rps: float | None = None  # k6 against a minimal responder, same pinning
    interference: Mapping[str, float] = field(default_factory=dict)  # role -> share
    steal: Mapping[str, float] = field(default_factory=dict)  # role -> worst core's share
    # role -> core -> steal share; with each core's floor: this machine's idle steal
    # (runner.measure.steal_floor) or the last steps' steal when higher (.recent_steal)
    steal_by_core: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    steal_floor: Mapping[int, float] | None = None
    steal_floor_words: str = "idle floor"  # how a steal reason names the floor
    stalls: StepStalls | None = None  # the stall probe's figures; None: no probe

    @property
    def successful_rps(self) -> float:
        return self.rps * (1.0 - self.error_rate)

    @property
    def at_server(self) -> float:
        """Requests at the server on average, queued or in service (Little's law: all requests
        per second x their mean duration)."""
        return self.rps * self.http_req_duration_avg_ms / 1000.0

    @property
    def server_busy_share(self) -> float | None:
        """The busier reading of the server: its tree's CPU share or its cores' busy share."""
        shares = [s for s in (self.server_cpu_share, self.server_core_busy_share) if s is not None]
        return max(shares, default=None)
