"""The steal a capacity trial is judged against: the run's idle floor, or the steal the last
trials met when that is higher (at most MOST_STEAL_FLOOR).

On this project's VM the hypervisor takes 2-7% of a busy core for minutes at a time while an
idle core shows under 1%, so against the idle floor alone every trial of such a spell is
invalid and the search spends its budget on repeats (FastAPI: 6 of 13 trials at 1,600 RPS). Steal
the last trials all met is the machine's state, whose effect on the percentile the measured
noise carries (runner.capacity.noise); steal that rises above it is a disturbance, repeated.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence

from runner.records.results import StepResult

__all__ = ["FLOOR_WORDS", "MOST_STEAL_FLOOR", "STEAL_TRIALS", "steal_of", "trial_steal_floor"]

STEAL_TRIALS = 3  # the trials whose median steal is the recent level
MOST_STEAL_FLOOR = 0.10  # above this the machine is too contended to measure: trials stay invalid


def steal_of(step: StepResult) -> float | None:
    """The worst core's steal over a trial's window (a fraction); None: not measured."""
    measured = step.validity.measured if step.validity else {}
    values = [share for name, share in measured.items() if name.endswith("_steal")]
    return max(values, default=None)


def recent_steal(steps: Sequence[StepResult]) -> float:
    """The median of the last STEAL_TRIALS trials' steal, at most MOST_STEAL_FLOOR (0: none)."""
    recent = [s for s in map(steal_of, steps[-STEAL_TRIALS:]) if s is not None]
    return min(statistics.median(recent), MOST_STEAL_FLOOR) if recent else 0.0


def trial_steal_floor(
    idle: Mapping[int, float] | None, steps: Sequence[StepResult], cores: Iterable[int]
) -> dict[int, float]:
    """Each measured core's floor for the next trial: its idle floor or the recent steal."""
    recent = recent_steal(steps)
    idle = idle or {}
    return {core: max(idle.get(core, 0.0), recent) for core in {*cores, *idle}}


# How a trial's steal reason names its floor.
FLOOR_WORDS = f"floor (idle, or the last {STEAL_TRIALS} trials' median steal)"
