"""The stall probe: its aggregation (ticks into a window's figures), and on real cores, that it
sees a stall injected at real-time priority and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from runner.measure.stall_probe import EXACT, bucket, bucket_bounds
from runner.measure.stalls import (
    StallProbe,
    Tick,
    core_figures,
    covering,
    parse_tick,
    percentile_us,
    window_figures,
)


def tick(begin: float, lateness_us: list[int], threshold_us: int = 1000) -> Tick:
    """A tick as the probe would report these wakes."""
    hist: dict[int, int] = {}
    for us in lateness_us:
        hist[bucket(us)] = hist.get(bucket(us), 0) + 1
    late = [us for us in lateness_us if us > threshold_us]
    return Tick(begin, begin + 0.5, len(lateness_us), len(late), sum(late),
                max(lateness_us, default=0), tuple(sorted(hist.items())))  # fmt: skip


def test_buckets_hold_their_values_and_are_at_most_a_quarter_wide() -> None:
    previous = -1
    for us in [*range(0, 5000), 61_234, 1_000_000, 123_456_789]:
        index = bucket(us)
        low, high = bucket_bounds(index)
        assert low <= us < high
        assert index >= previous
        previous = index
        if us >= EXACT:
            assert (high - low) / low <= 0.25
    assert [bucket_bounds(i)[1] for i in range(40)] == [bucket_bounds(i + 1)[0] for i in range(40)]


def test_percentile_is_its_buckets_upper_edge_capped_at_the_max() -> None:
    hist = {bucket(100): 98, bucket(5000): 1, bucket(61_000): 1}
    assert percentile_us(hist, 0.98, 61_000) == bucket_bounds(bucket(100))[1]
    assert percentile_us(hist, 0.99, 61_000) == bucket_bounds(bucket(5000))[1]
    assert bucket_bounds(bucket(5000))[1] <= 5000 * 1.25
    assert percentile_us(hist, 1.0, 61_000) == 61_000  # the max, not the bucket's edge
    assert percentile_us({}, 0.99, 0) == 0


def test_a_probe_line_becomes_a_tick_that_begins_where_the_last_ended() -> None:
    line = '{"wall":105.5,"wakes":3,"late_wakes":1,"late_us":4200,"max_us":4200,"hist":[[23,2],[44,1]]}'
    assert parse_tick(line, 105.0) == Tick(105.0, 105.5, 3, 1, 4200, 4200, ((23, 2), (44, 1)))


def test_window_figures_sum_the_ticks_that_overlap_it() -> None:
    core0 = [tick(100 + i / 2, [80] * 49 + ([47_000] if i == 3 else [90])) for i in range(8)]
    core1 = [tick(100 + i / 2, [80] * 48 + [2000, 3000]) for i in range(8)]
    figures = window_figures({0: core0, 1: core1}, 101.2, 102.1, 10.0, 1.0)
    assert figures is not None
    assert (figures.span_start, figures.span_end) == (101.0, 102.5)  # whole ticks 2..4
    first, second = figures.cores
    assert (first.core, first.wakes, first.late_wakes) == (0, 150, 1)
    assert first.max_ms == 47.0 and first.total_late_ms == 47.0
    assert first.p99_ms == bucket_bounds(bucket(90))[1] / 1000  # 1 wake in 150 is late
    assert (second.wakes, second.late_wakes, second.total_late_ms, second.max_ms) == (
        150,
        6,
        15.0,
        3.0,
    )
    assert second.p99_ms == 3.0  # 3 late in 150: the 99th percentile is the max's bucket, capped
    assert figures.interval_ms == 10.0 and figures.missing_cores == []
    assert figures == type(figures).model_validate_json(figures.model_dump_json())


def test_a_core_whose_probe_does_not_cover_the_window_is_missing() -> None:
    whole = [tick(100 + i / 2, [80] * 50) for i in range(8)]
    died = whole[:3]  # its last tick ended at 101.5
    late_start = whole[4:]  # began at 102.0
    assert covering(died, 101.2, 102.1) is None and covering(late_start, 101.2, 102.1) is None
    figures = window_figures({0: whole, 1: died, 2: late_start}, 101.2, 102.1, 10.0, 1.0)
    assert figures is not None
    assert [c.core for c in figures.cores] == [0] and figures.missing_cores == [1, 2]
    assert window_figures({1: died, 2: []}, 101.2, 102.1, 10.0, 1.0) is None


def test_a_window_with_no_wakes_has_zero_figures() -> None:
    figures = core_figures(3, [tick(100, [])])
    assert (figures.wakes, figures.p99_ms, figures.max_ms, figures.total_late_ms) == (
        3 - 3,
        0,
        0,
        0,
    )


def test_window_never_raises() -> None:
    probe = StallProbe([])
    assert probe.window(0.0, 1.0, wait_s=0) is None
    assert probe.window(float("nan"), 1.0, wait_s=0) is None


# Pinned to the core, at real-time priority, it spins for the given milliseconds: nothing of
# normal priority runs on that core meanwhile, the probe included.
REALTIME_SPIN = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
end = time.monotonic() + float(sys.argv[2]) / 1000
while time.monotonic() < end:
    pass
"""


def realtime_permitted() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        return False
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return True


# Starts processes on every core and spins one at real-time priority: load, so it waits its turn.
@pytest.mark.slow
def test_the_probe_sees_a_realtime_stall_and_leaves_nothing_behind() -> None:
    if not realtime_permitted():
        pytest.skip("SCHED_FIFO is not permitted here (not root?)")
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores")
    cores = cores[:2]
    # Every 10 ms: a 60 ms stall shows as a wake 50-60 ms late.
    with StallProbe(cores, interval_ms=10) as probe:
        assert probe.wait_started()
        pids = list(probe.pids.values())
        time.sleep(1.0)
        began = time.time()
        subprocess.run([sys.executable, "-c", REALTIME_SPIN, str(cores[0]), "60"], check=True)
        stalled = probe.window(began, time.time() + 0.1)
        # A probe that dies shows as a missing core from then on; window() does not raise.
        os.kill(probe.pids[cores[1]], signal.SIGKILL)
        time.sleep(0.1)
        after = time.time()
        time.sleep(0.6)
        later = probe.window(after, time.time())
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping
    assert stalled is not None, "no figures over the injected stall"
    by_core = {c.core: c for c in stalled.cores}
    assert by_core[cores[0]].max_ms >= 40, stalled  # 50 or more; a margin
    assert by_core[cores[0]].total_late_ms >= 40
    assert stalled.interval_ms == probe.interval_ms
    assert later is not None
    assert [c.core for c in later.cores] == [cores[0]] and later.missing_cores == [cores[1]]
    assert stopped_in < 1.0
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
