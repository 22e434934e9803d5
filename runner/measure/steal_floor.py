"""This machine's steal floor: each core's steal with nothing of ours running, read at a run's
start (after the machine lock is held, before k6's ceiling and any server), and stored with it.

On a shared VM the hypervisor takes a few percent of every core whatever we do (3-7% on this
project's 2-vCPU machine); the steal rule (runner.measure.validity.rules) then asks whether a
step's steal rose above that floor, not whether it is above a fixed share.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, Field

from runner.measure.cpu_accounting import core_usage, read_cpu_snapshot

# Long enough for /proc/stat's 10 ms ticks to resolve 1% of a core (2 ticks in 200), short
# enough to cost little at every run's start.
FLOOR_SECONDS = 2.0
# A step's floor rises to the median steal of the last RECENT_STEPS steps, at most
# MOST_STEAL_FLOOR (runner.measure.recent_steal): beyond it the machine is too contended to
# measure and its steps stay invalid.
RECENT_STEPS = 3
MOST_STEAL_FLOOR = 0.10


class StealFloor(BaseModel):
    """Each core's steal over a quiet span at the run's start, as a share of the span."""

    model_config = ConfigDict(extra="forbid")

    shares: dict[int, float] = Field(description="Core -> steal / wall time, a fraction.")
    measured_at: float = Field(description="When the span began, Unix seconds.")
    seconds: float = Field(description="The span's length, seconds.")


def measure_steal_floor(cores: Collection[int], seconds: float = FLOOR_SECONDS) -> StealFloor:
    """Steal on `cores` over `seconds` of this process sleeping (call it with nothing running)."""
    began = time.time()
    before = read_cpu_snapshot()
    time.sleep(seconds)
    after = read_cpu_snapshot()
    present = [core for core in cores if core in before.cores and core in after.cores]
    usage = core_usage(before, after, present)
    window = usage.window_s or seconds
    shares = {core: round(steal / window, 5) for core, steal in usage.steal_s_by_core.items()}
    return StealFloor(shares=shares, measured_at=round(began, 3), seconds=round(window, 3))
