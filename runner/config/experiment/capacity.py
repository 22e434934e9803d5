"""The capacity search as an experiment declares it: `load.capacity` (`CapacitySettings`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from runner.config.experiment.base import K6_MIN_SCENARIO_S, Strict, parse_duration
from runner.config.experiment.base import check_duration as _check_duration

__all__ = ["CapacitySettings", "Percentile"]

# The latency percentiles every step records (runner.records.store.LatencyMs).
Percentile = Literal["p50", "p90", "p95", "p99", "p99_9"]


class CapacitySettings(Strict):
    """The objective a rate must sustain, how precisely to find it, and what it may cost."""

    percentile: Percentile = Field(
        default="p99", description="Latency percentile of the objective (p50 ... p99_9)."
    )
    latency_ms: float = Field(
        gt=0, description="The objective: the percentile must stay at most this many ms."
    )
    max_error_rate: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Highest error rate (fraction) a passing trial may have.",
    )
    precision: float = Field(
        default=0.05,
        gt=0,
        le=0.5,
        description="Stop when the bracket (highest pass, lowest fail) is at most this share of "
        "the lowest failing rate wide.",
    )
    start_rate: int = Field(default=50, ge=1, description="Requests per second of the first trial.")
    min_rate: int = Field(default=1, ge=1, description="Lowest rate the search may try.")
    max_rate: int = Field(
        default=5000, ge=1, le=1_000_000, description="Highest rate the search may try."
    )
    budget: str = Field(
        default="5m",
        description="Most load time per target, k6 duration string, confirmations included; the "
        "search stops and says so when the next trial would not fit.",
    )
    short_trial: str = Field(
        default="10s", description="Trial length far from the objective (k6 duration string)."
    )
    long_trial: str = Field(
        default="20s", description="Trial length where a result is close to the objective."
    )
    confirmation: str = Field(
        default="60s", description="Length of the final trial at the capacity found."
    )
    noise: float = Field(
        default=0.25,
        gt=0,
        le=2,
        description="The spread of a trial's percentile assumed until repeated trials measure it "
        "(standard deviation of its log: 0.25 is about ±28%); results within the noise of the "
        "objective get more trials.",
    )
    early_stop: bool = Field(
        default=True,
        description="End a trial as soon as the live feed shows its objective clearly broken.",
    )

    @field_validator("budget", "short_trial", "long_trial", "confirmation", mode="before")
    @classmethod
    def _durations(cls, value: object) -> str:
        return _check_duration(value, allow_zero=False, minimum_s=K6_MIN_SCENARIO_S)

    @model_validator(mode="after")
    def _consistent(self) -> CapacitySettings:
        if not self.min_rate <= self.start_rate <= self.max_rate:
            raise ValueError(
                f"rates must satisfy min_rate ({self.min_rate}) <= start_rate "
                f"({self.start_rate}) <= max_rate ({self.max_rate})"
            )
        short, long = parse_duration(self.short_trial), parse_duration(self.long_trial)
        if short > long:
            raise ValueError(
                f"short_trial ({self.short_trial}) is longer than long_trial ({self.long_trial})"
            )
        least = short + parse_duration(self.confirmation)
        if parse_duration(self.budget) < least:
            raise ValueError(
                f"budget ({self.budget}) leaves no room for one short trial and the "
                f"confirmation ({least:g} s)"
            )
        return self
