"""An A/B block judged by the step rules (runner.ab.judge), from counters built by hand: steal up
to the machine's idle floor is its state, steal above it invalidates the block."""

from __future__ import annotations

import dataclasses

from runner.ab.judge import BlockContext, CpuReading, judge_block
from runner.ab.load import BlockFigures
from runner.measure.cpu_accounting import CoreTimes, CpuSnapshot
from runner.measure.validity import ValiditySettings

WINDOW_S = 10.0
FIGURES = BlockFigures(window_s=WINDOW_S, requests=20_000, failed=0, avg_ms=0.5, percentiles={})
# The server on core 0, k6 on core 1; each core's idle floor 5%.
CONTEXT = BlockContext(model="closed", level=10, server_cpus=[0], client_cpus=[1],
                       steal_floor={0: 0.05, 1: 0.05}, settings=ValiditySettings())  # fmt: skip


def core(user_s: float, steal_s: float) -> CoreTimes:
    """A core's counters after the window, from zero at its start."""
    return CoreTimes(user=user_s, nice=0.0, system=0.0, idle=WINDOW_S - user_s - steal_s,
                     iowait=0.0, irq=0.0, softirq=0.0, steal=steal_s)  # fmt: skip


def block(steal: float) -> tuple[CpuReading, CpuReading]:
    """A block's two readings: the trees ran all the cores' busy time; `steal` of each stolen."""
    zero = CoreTimes(*[0.0] * 8)
    before = CpuReading(CpuSnapshot(0.0, {0: zero, 1: zero}), 0.0, 0.0, 0.0)
    cores = {0: core(5.0, steal * WINDOW_S), 1: core(3.0, steal * WINDOW_S)}
    return before, CpuReading(CpuSnapshot(WINDOW_S, cores), server_s=5.0, client_s=3.0, k6_s=2.5)


def test_steal_under_the_idle_floor_does_not_invalidate_a_block() -> None:
    assert judge_block(FIGURES, *block(0.06), CONTEXT).reasons == []  # 1% above the floor
    # Without the floor the same block's 6% steal is over the 2% limit on both cores.
    bare = dataclasses.replace(CONTEXT, steal_floor={0: 0.0, 1: 0.0})
    assert [r.code for r in judge_block(FIGURES, *block(0.06), bare).reasons] == ["steal"] * 2


def test_steal_above_the_idle_floor_invalidates_a_block() -> None:
    reasons = judge_block(FIGURES, *block(0.08), CONTEXT).reasons  # 3% above the floor
    assert [(r.code, r.figures["core"]) for r in reasons] == [("steal", 1.0), ("steal", 0.0)]
