"""The levels of a sweep (`sweep:`): virtual users or requests per second, listed or ranged."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from runner.config.experiment.base import Strict

__all__ = ["LevelRange", "Sweep"]


class LevelRange(Strict):
    """Sweep levels: either `levels: [..]` or `start`, `stop` (inclusive) and `step`."""

    levels: list[Annotated[int, Field(ge=1)]] | None = None
    start: int | None = Field(default=None, ge=1)
    stop: int | None = Field(default=None, ge=1)
    step: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_form(self) -> LevelRange:
        ranged = (self.start, self.stop, self.step)
        if self.levels is not None:
            if any(v is not None for v in ranged):
                raise ValueError(
                    "give either 'levels' or 'start'/'stop'/'step', not both (to replace a range "
                    "on the command line: sweep.KEY.levels=[..] ~sweep.KEY.start ~sweep.KEY.stop "
                    "~sweep.KEY.step, with KEY concurrency or rate)"
                )
            if not self.levels:
                raise ValueError("'levels' must list at least one level")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("'levels' must not repeat a level")
            return self
        if any(v is None for v in ranged):
            raise ValueError("give 'levels', or all three of 'start', 'stop' and 'step'")
        assert self.start is not None and self.stop is not None
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop}) must not be below start ({self.start})")
        return self

    def values(self) -> list[int]:
        if self.levels is not None:
            return list(self.levels)
        assert self.start is not None and self.stop is not None and self.step is not None
        return list(range(self.start, self.stop + 1, self.step))


class Sweep(Strict):
    """The levels of the sweep: virtual users (closed model) or requests per second (open model)."""

    concurrency: LevelRange | None = Field(
        default=None, description="Virtual users per step (closed load model)."
    )
    rate: LevelRange | None = Field(
        default=None, description="Requests per second per step (open load model)."
    )
