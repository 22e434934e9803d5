"""Load models: what a sweep level means and everything that differs between the models.

Everything that depends on the model (the level's unit and names, k6's executor, which figure
decides a level, the extra columns, whether levels come from the sweep or from a search) lives
here, so no other module compares a model's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CAPACITY",
    "CLOSED",
    "LOAD_MODELS",
    "OPEN",
    "LoadModel",
    "LoadModelName",
    "load_model",
]

LoadModelName = Literal["closed", "open", "capacity"]


@dataclass(frozen=True)
class LoadModel:
    """One load model: how its levels are named, driven in k6 and judged."""

    name: LoadModelName
    sweep_key: str | None  # the `sweep.<key>` that holds the levels; None: a search picks them
    unit: str  # a level's unit in a sentence
    level_kind: str  # "Concurrency" or "Rate": table headers and the configuration facts
    level_header: str  # the first column of every per-level table
    csv_column: str  # the CSV column that holds the level, named for its unit
    description: str  # one line for the report's configuration facts
    fixed_rate: bool  # k6 offers a fixed arrival rate: dropped iterations count, latency decides
    k6_executor: str

    @property
    def searched(self) -> bool:
        """Levels are chosen by an adaptive search (runner.capacity), not listed in the sweep."""
        return self.sweep_key is None

    @property
    def higher_is_better(self) -> bool:
        """Which way the figure that decides a level points (see `deciding_figure`)."""
        return not self.fixed_rate

    @property
    def deciding_figure(self) -> str:
        """What decides a level: under a fixed offered rate every target gets the same load, so
        latency decides; under a fixed number of users, successful throughput does."""
        return "p95" if self.fixed_rate else "ok_rps"

    def level_text(self, level: int) -> str:
        """A level in a progress line or message: 'c=20' or '500 RPS'."""
        return f"{level} RPS" if self.fixed_rate else f"c={level}"

    def level_words(self, level: int) -> str:
        """A level in a sentence: 'concurrency 20' or 'rate 500 RPS'."""
        return f"rate {level} RPS" if self.fixed_rate else f"concurrency {level}"

    def step_dir_name(self, level: int, repetition: int) -> str:
        prefix = "rps" if self.fixed_rate else "c"
        return f"{prefix}{level}-r{repetition}"

    def executor(self, level: int, vus: tuple[int, int] | None = None) -> dict[str, Any]:
        """k6's executor settings for one step; `vus` (preallocated, maximum) for a fixed rate."""
        if not self.fixed_rate:
            return {"executor": self.k6_executor, "vus": level}
        if vus is None:
            raise ValueError(f"the {self.name} load model needs (preallocated, maximum) VUs")
        preallocated, maximum = vus
        return {
            "executor": self.k6_executor,
            "rate": level,
            "timeUnit": "1s",
            "preAllocatedVUs": preallocated,
            "maxVUs": maximum,
        }


CLOSED = LoadModel(
    name="closed",
    sweep_key="concurrency",
    unit="virtual users",
    level_kind="Concurrency",
    level_header="Concurrency",
    csv_column="concurrency_vus",
    description="closed, constant virtual users (k6 constant-vus)",
    fixed_rate=False,
    k6_executor="constant-vus",
)
OPEN = LoadModel(
    name="open",
    sweep_key="rate",
    unit="requests per second",
    level_kind="Rate",
    level_header="Rate (RPS)",
    csv_column="rate_rps",
    description="open, constant arrival rate (k6 constant-arrival-rate); requests k6 could not "
    "start on time are counted as dropped iterations",
    fixed_rate=True,
    k6_executor="constant-arrival-rate",
)
# Trials of the capacity search (runner.capacity) are open-model steps at fixed rates that the
# search picks; an experiment gives `load.capacity` instead of sweep levels.
CAPACITY = LoadModel(
    name="capacity",
    sweep_key=None,
    unit="requests per second",
    level_kind="Rate",
    level_header="Rate (RPS)",
    csv_column="rate_rps",
    description="capacity search: open-model trials (k6 constant-arrival-rate) at rates chosen "
    "adaptively to find the highest rate that meets the latency objective",
    fixed_rate=True,
    k6_executor="constant-arrival-rate",
)
LOAD_MODELS: dict[str, LoadModel] = {model.name: model for model in (CLOSED, OPEN, CAPACITY)}


def load_model(name: str) -> LoadModel:
    """The load model of that name (names are validated with the experiment)."""
    return LOAD_MODELS[name]
