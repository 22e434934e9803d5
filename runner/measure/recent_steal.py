"""The steal a step is judged against: the run's idle floor, or the steal the last steps met
when that is higher (at most MOST_STEAL_FLOOR). Sweep steps and capacity trials both use it.

On this project's VM the hypervisor takes 2-7% of a busy core for minutes at a time while an
idle core shows under 1%, so against the idle floor alone every step of such a spell is invalid:
a capacity search spent its budget on repeats (FastAPI: 6 of 13 trials at 1,600 RPS) and the
quickstart left 5 of its 9 steps invalid. Steal the last steps all met is the machine's state;
steal that rises above it is a disturbance, measured again. The report names the steps that
met more steal than the idle floor allows (runner.analysis.steal_spell): a target measured in a
spell had less CPU than one measured outside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Mapping, Sequence

from runner.measure.steal_floor import MOST_STEAL_FLOOR, RECENT_STEPS
from runner.records.results import StepResult

# Steal older than this says nothing of the machine now (a resumed run's kept steps).
RECENT_WITHIN_S = 600.0

__all__ = [
    "FLOOR_WORDS",
    "MOST_STEAL_FLOOR",
    "RECENT_STEPS",
    "RECENT_WITHIN_S",
    "recent_floor",
    "recent_steal",
    "steal_of",
]


def steal_of(step: StepResult) -> float | None:
    """The worst core's steal over a step's window (a fraction); None: not measured."""
    measured = step.validity.measured if step.validity else {}
    values = [share for name, share in measured.items() if name.endswith("_steal")]
    return max(values, default=None)


def recent_steal(steps: Sequence[StepResult], now: float | None = None) -> float:
    """The median steal of the last RECENT_STEPS steps, at most MOST_STEAL_FLOOR; 0 (the idle
    floor holds) until that many steps that started in the last RECENT_WITHIN_S measured it:
    one disturbed step does not raise the floor, nor do a resumed run's steps of hours ago."""
    now = time.time() if now is None else now
    last = [step for step in steps[-RECENT_STEPS:] if now - step.started_at <= RECENT_WITHIN_S]
    recent = [s for s in map(steal_of, last) if s is not None]
    if len(recent) < RECENT_STEPS:
        return 0.0
    return min(statistics.median(recent), MOST_STEAL_FLOOR)


def recent_floor(
    idle: Mapping[int, float] | None,
    steps: Sequence[StepResult],
    cores: Iterable[int],
    now: float | None = None,
) -> dict[int, float]:
    """Each measured core's floor for the next step: its idle floor or the recent steal."""
    recent = recent_steal(steps, now)
    idle = idle or {}
    return {core: max(idle.get(core, 0.0), recent) for core in {*cores, *idle}}


# How a step's steal reason names its floor.
FLOOR_WORDS = f"floor (idle, or the last {RECENT_STEPS} steps' median steal)"
