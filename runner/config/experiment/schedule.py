"""How the sweep spends its time on a noisy machine: disturbed steps measured again (`retry:`)
and rounds repeated until each level's verdict is settled (`repetitions: auto`,
`auto_repetitions:`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.config.experiment.base import Strict, check_duration, parse_duration

__all__ = ["AutoRepetitions", "Retry"]


class Retry(Strict):
    """A step judged invalid for a passing cause (interference, steal) is measured again, later
    in the order, while its attempts and the run's retry budget last."""

    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts per step, the first included (1: never measure a step again).",
    )
    budget: str = Field(
        default="2m",
        description="Most time the run's retries may take in all, k6 duration string ('0s': "
        "no retries).",
    )
    delay: str = Field(
        default="5s",
        description="Least time between a disturbed attempt and its retry; the retry also waits "
        "for the rest of its round.",
    )

    @field_validator("budget", "delay", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> str:
        return check_duration(value, allow_zero=True)

    @property
    def budget_s(self) -> float:
        return parse_duration(self.budget)

    @property
    def delay_s(self) -> float:
        return parse_duration(self.delay)


class AutoRepetitions(Strict):
    """`repetitions: auto`: rounds until each level's verdict is settled."""

    min: int = Field(
        default=3, ge=2, le=100, description="Rounds every level runs before it may stop."
    )
    max: int = Field(default=10, ge=2, le=100, description="Rounds after which a level stops.")
    budget: str = Field(
        default="10m",
        description="Most time the rounds may take, k6 duration string; no round starts that "
        "would not end within it.",
    )
    margin: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Equivalence margin: a level is settled as a tie when the confidence "
        "interval of the ratio between its best two targets lies within 1 +- margin.",
    )

    @field_validator("budget", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> str:
        return check_duration(value, allow_zero=False)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AutoRepetitions:
        if self.min > self.max:
            raise ValueError(
                f"'auto_repetitions.min' ({self.min}) is above 'auto_repetitions.max' "
                f"({self.max}): a level could never stop"
            )
        return self

    @property
    def budget_s(self) -> float:
        return parse_duration(self.budget)
