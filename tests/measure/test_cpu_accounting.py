"""Per-core accounting from /proc/stat: parsing, arithmetic, and a real CPU hog on a real core."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil
import pytest

from runner.measure.cpu_accounting import (
    Interference,
    core_usage,
    interference,
    own_cpu_seconds,
    parse_proc_stat,
    read_cpu_snapshot,
)

STAT_BEFORE = """cpu  300 0 60 1000 0 0 0 0 0 0
cpu0 100 0 20 500 0 0 0 0 0 0
cpu1 200 0 40 500 0 0 0 0 0 0
intr 12345
"""
# One second later (100 ticks per core): core 0 busy 80 ticks (user 60, system 10, softirq 10)
# with 5 ticks stolen; core 1 busy 10 ticks.
STAT_AFTER = """cpu  370 0 70 1105 0 0 10 5 0 0
cpu0 160 0 30 505 0 0 10 5 0 0
cpu1 210 0 40 590 0 0 0 0 0 0
intr 12399
"""


def test_parse_skips_the_aggregate_line_and_converts_ticks_to_seconds() -> None:
    snapshot = parse_proc_stat(STAT_BEFORE, at=5.0, ticks_per_second=100)
    assert sorted(snapshot.cores) == [0, 1]
    assert snapshot.cores[1].user == pytest.approx(2.0)
    assert snapshot.cores[0].busy == pytest.approx(1.2)


def test_parse_accepts_short_lines_of_old_kernels() -> None:
    snapshot = parse_proc_stat("cpu0 10 0 5 100\n", at=0.0, ticks_per_second=100)
    assert snapshot.cores[0].steal == 0.0
    assert snapshot.cores[0].busy == pytest.approx(0.15)


def test_busy_and_steal_between_two_snapshots() -> None:
    before = parse_proc_stat(STAT_BEFORE, at=10.0, ticks_per_second=100)
    after = parse_proc_stat(STAT_AFTER, at=11.0, ticks_per_second=100)
    usage = core_usage(before, after, [0])
    assert usage.window_s == pytest.approx(1.0)
    assert usage.busy_s == pytest.approx(0.8)
    assert usage.steal_s == pytest.approx(0.05)
    assert usage.worst_core_steal_share == pytest.approx(0.05)
    both = core_usage(before, after, {0, 1})
    assert both.busy_s == pytest.approx(0.9)
    assert both.capacity_s == pytest.approx(2.0)


def test_interference_is_busy_time_the_trees_do_not_explain_plus_steal() -> None:
    before = parse_proc_stat(STAT_BEFORE, at=10.0, ticks_per_second=100)
    after = parse_proc_stat(STAT_AFTER, at=11.0, ticks_per_second=100)
    server = interference("server", before, after, [0], trees_cpu_s=0.5)
    assert server.other_s == pytest.approx(0.3)
    assert server.share == pytest.approx(0.35)  # (0.3 other + 0.05 steal) / 1 s x 1 core
    assert server.trees_share == pytest.approx(0.5)
    # Tree time read a tick later than the counters cannot make interference negative.
    assert interference("server", before, after, [0], trees_cpu_s=0.9).other_s == 0.0


def test_unknown_core_is_an_error_not_zero() -> None:
    before = parse_proc_stat(STAT_BEFORE, at=0.0, ticks_per_second=100)
    with pytest.raises(ValueError, match=r"core\(s\) \[7\]"):
        core_usage(before, before, [7])


def test_real_counters_cover_every_core_and_only_grow() -> None:
    first = read_cpu_snapshot()
    assert len(first.cores) == psutil.cpu_count(logical=True)
    time.sleep(0.05)
    second = read_cpu_snapshot()
    for core, times in second.cores.items():
        assert times.busy + times.idle >= first.cores[core].busy + first.cores[core].idle


def test_per_core_counters_agree_with_psutil() -> None:
    """psutil reads the same file with its own parser: the cores must line up one by one."""
    ours = read_cpu_snapshot()
    theirs = psutil.cpu_times(percpu=True)
    assert len(theirs) == len(ours.cores)
    for core, times in enumerate(theirs):
        # Read a moment apart: a few ticks of difference at most.
        assert ours.cores[core].user == pytest.approx(times.user, abs=0.1)
        assert ours.cores[core].idle == pytest.approx(times.idle, abs=0.1)
        assert ours.cores[core].steal == pytest.approx(times.steal, abs=0.1)


def test_own_cpu_seconds_grows_with_work() -> None:
    start = own_cpu_seconds()
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass
    assert own_cpu_seconds() - start >= 0.08


HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
# Other work on this shared machine (a neighbour's test run, say) can fill the other core for a
# while: the scheduler moves it off the hog's core. The hog's core stays apart only on a quiet
# machine, so the attempts wait for one.
ATTEMPTS = 10
PAUSE_S = 1.0


@dataclass(frozen=True)
class HogWindow:
    on_hog_core: Interference  # nothing counted as measured
    on_other_core: Interference
    hog_cpu_s: float
    psutil_busy_s: dict[int, float]  # psutil's own reading of the same counters, same window


def _psutil_busy() -> dict[int, float]:
    return {
        core: t.user + t.nice + t.system + t.irq + t.softirq
        for core, t in enumerate(psutil.cpu_times(percpu=True))
    }


def _measure_hog(hog_core: int, other_core: int) -> HogWindow:
    """Both cores over 1 s of a busy loop pinned to `hog_core`, and the loop's CPU seconds."""
    hog = subprocess.Popen(
        [sys.executable, "-c", HOG.format(seconds=3.0)],
        preexec_fn=lambda: os.sched_setaffinity(0, {hog_core}),
    )
    try:
        process = psutil.Process(hog.pid)
        time.sleep(0.3)  # past interpreter start-up
        hog_before, psutil_before = sum(process.cpu_times()[:2]), _psutil_busy()
        before = read_cpu_snapshot()
        time.sleep(1.0)
        after = read_cpu_snapshot()
        hog_after, psutil_after = sum(process.cpu_times()[:2]), _psutil_busy()
    finally:
        hog.kill()
        hog.wait()
    return HogWindow(
        on_hog_core=interference("server", before, after, [hog_core], trees_cpu_s=0.0),
        on_other_core=interference("client", before, after, [other_core], trees_cpu_s=0.0),
        hog_cpu_s=hog_after - hog_before,
        psutil_busy_s={core: psutil_after[core] - psutil_before[core] for core in psutil_after},
    )


# It keeps a core busy for up to ATTEMPTS seconds and needs the other core quiet: a slow test, run
# under the machine lock.
@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_cpu_hog_pinned_to_one_core_is_interference_there_only() -> None:
    """The real kernel: a busy loop on one core is a whole core of interference there while
    nothing is measured; counted as a measured tree, its time comes out exactly; each core's
    figure is the one psutil reads for that core; a quiet other core shows little."""
    hog_core, other_core = sorted(os.sched_getaffinity(0))[:2]
    other_core_shares = []
    for _ in range(ATTEMPTS):
        window = _measure_hog(hog_core, other_core)
        hog_share, other = window.on_hog_core, window.on_other_core
        # The hog may share its core with other work; the core is full all the same.
        assert window.hog_cpu_s >= 0.3
        assert hog_share.share >= 0.9
        hog_measured = Interference("server", hog_share.usage, window.hog_cpu_s)
        expected = hog_share.share - window.hog_cpu_s / hog_share.usage.window_s
        assert hog_measured.share == pytest.approx(expected, abs=0.04)
        # psutil's window is a moment wider (it is read first and last): a few ticks.
        for usage in (hog_share.usage, other.usage):
            [core] = usage.cores
            assert usage.busy_s == pytest.approx(window.psutil_busy_s[core], abs=0.05)
        other_core_shares.append(round(other.share, 2))
        if other.share <= 0.4:
            return
        time.sleep(PAUSE_S)
    pytest.skip(f"other work kept core {other_core} busy throughout: {other_core_shares}")
