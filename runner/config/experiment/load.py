"""How k6 loads the targets (`load:`): the load model, step durations, virtual users, hosts."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.config.experiment.base import K6_MIN_SCENARIO_S, Strict, parse_duration
from runner.config.experiment.base import check_duration as _check_duration
from runner.config.experiment.capacity import CapacitySettings
from runner.config.experiment.hosts import HostRefs
from runner.config.load_model import LoadModel, LoadModelName, load_model

__all__ = [
    "CAPACITY_PREALLOCATED_OBJECTIVES",
    "OPEN_MAX_VUS_DEFAULT",
    "OPEN_MIN_VUS",
    "OPEN_PREALLOCATED_FOR_MS",
    "Load",
]

# Open-model virtual-user defaults (see Load.open_vus).
OPEN_MIN_VUS = 10
OPEN_MAX_VUS_DEFAULT = 1000
OPEN_PREALLOCATED_FOR_MS = 100.0
# Capacity trials: VUs for responses this many times the objective's latency (see open_vus).
CAPACITY_PREALLOCATED_OBJECTIVES = 3.0


class Load(Strict):
    model: LoadModelName = Field(
        default="closed",
        description="closed: constant virtual users (sweep.concurrency); open: constant arrival "
        "rate in requests per second (sweep.rate), with k6's dropped iterations reported.",
    )
    duration: str = Field(description="Measured time per step, k6 duration string (e.g. '30s').")
    warmup: str = Field(default="0s", description="Unmeasured load before each step.")
    timeout: str = Field(default="10s", description="k6 request timeout.")
    script: str | None = Field(
        default=None,
        description="A custom k6 script, relative to experiments/scripts/; the standard "
        "script (runner/scripts/http.js) when unset.",
    )
    max_vus: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Open model: most virtual users k6 may use at once (default: the rate, "
        f"between {OPEN_MIN_VUS} and {OPEN_MAX_VUS_DEFAULT}).",
    )
    preallocated_vus: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Open model: virtual users k6 starts before the load; k6 drops an "
        "iteration whenever none is free (default: enough for "
        f"{OPEN_PREALLOCATED_FOR_MS:g} ms responses, in a capacity trial for "
        f"{CAPACITY_PREALLOCATED_OBJECTIVES:g} times the objective's latency, at least "
        f"{OPEN_MIN_VUS}).",
    )
    k6_instances: int = Field(
        default=1,
        ge=1,
        le=64,
        description="k6 processes each step's load is split over (k6 execution segments: each "
        "runs 1/N of the virtual users, or of the arrival rate), side by side on the client's "
        "cores. Above 1 each instance also writes its raw samples, and the step's latency "
        "percentiles are computed from them pooled; see docs/running.md for what that costs.",
    )
    k6_host: HostRefs | None = Field(
        default=None,
        description="The host k6 runs on, reached over SSH: a name of `hosts`, or a host "
        "described in place (docs/remote.md); this machine when unset. A list of hosts splits "
        "each step's load over them, one k6 execution segment each, the step's figures merged "
        "from their raw samples as for `k6_instances`.",
    )
    capacity: CapacitySettings | None = Field(
        default=None,
        description="Capacity load model only (and required there): the latency objective, "
        "precision, rates and time budget of the capacity search (runner.capacity).",
    )

    @model_validator(mode="after")
    def _vus_only_for_open_model(self) -> Load:
        given = [k for k in ("max_vus", "preallocated_vus") if getattr(self, k) is not None]
        if given and not self.kind.fixed_rate:
            raise ValueError(
                f"'load.{given[0]}' applies to the open load model only (load.model is "
                f"'{self.model}', whose virtual users are the sweep levels)"
            )
        if (self.capacity is None) == self.kind.searched:
            raise ValueError(
                "'load.capacity' is required by the capacity load model and applies to it only "
                f"(load.model is '{self.model}')"
            )
        maximum, preallocated = self.max_vus, self.preallocated_vus
        if maximum is not None and preallocated is not None and preallocated > maximum:
            raise ValueError(
                f"'load.preallocated_vus' ({self.preallocated_vus}) must not exceed "
                f"'load.max_vus' ({self.max_vus})"
            )
        return self

    def open_vus(self, rate: int) -> tuple[int, int]:
        """(preallocated, maximum) virtual users for an open-model step at `rate` requests/s.

        By Little's law k6 needs rate x response time VUs in flight. When an iteration is due
        and no VU is free, k6 drops it and only then starts initialising one more VU, in the
        background, up to the maximum: so iterations are dropped as soon as responses outlast
        the preallocated VUs, however high the maximum. Preallocation is therefore what decides
        when a drop means a slow server: responses of OPEN_PREALLOCATED_FOR_MS, and in a
        capacity trial CAPACITY_PREALLOCATED_OBJECTIVES times the objective's latency, by when
        the trial has failed on latency anyway. The maximum, one VU per request per second,
        bounds what a server that stops answering can cost k6.
        """
        maximum = self.max_vus or max(OPEN_MIN_VUS, min(rate, OPEN_MAX_VUS_DEFAULT))
        covered_ms = OPEN_PREALLOCATED_FOR_MS
        if self.capacity is not None:
            covered_ms = max(
                covered_ms, CAPACITY_PREALLOCATED_OBJECTIVES * self.capacity.latency_ms
            )
        preallocated = self.preallocated_vus or max(
            OPEN_MIN_VUS, math.ceil(rate * covered_ms / 1000)
        )
        return min(preallocated, maximum), maximum

    @field_validator("duration", mode="before")
    @classmethod
    def _positive_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=False, minimum_s=K6_MIN_SCENARIO_S)

    @field_validator("warmup", mode="before")
    @classmethod
    def _warmup_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=True, minimum_s=K6_MIN_SCENARIO_S)

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=False)

    @field_validator("script")
    @classmethod
    def _script_is_js(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith((".js", ".mjs")):
            raise ValueError(f"{value!r} is not a k6 script (a .js file)")
        return value

    @property
    def kind(self) -> LoadModel:
        """The load model itself: what a level means and how k6 drives it."""
        return load_model(self.model)

    def k6_executor(self, level: int) -> dict[str, Any]:
        """k6's executor settings for one step at `level`."""
        vus = self.open_vus(level) if self.kind.fixed_rate else None
        return self.kind.executor(level, vus)

    @property
    def duration_s(self) -> float:
        return parse_duration(self.duration)

    @property
    def warmup_s(self) -> float:
        return parse_duration(self.warmup)
