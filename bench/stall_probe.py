"""Stall probe cost: CPU used by the probe processes themselves, in % of one core, per interval.

    python bench/stall_probe.py [--seconds 20] [--intervals 1,2,5,10,20] [--inject-ms 50]

For each interval, runs the stall probe (runner.measure.stalls) on every core for `--seconds`
and reads each probe process's own CPU time (its schedstat; psutil's ticks are too coarse) over
the wall time: the figure is per probe, i.e. per measured core (budget: < 0.5% of one core),
the reader threads in this process apart (two lines a second). Prints the stall
figures it saw meanwhile (the machine otherwise idle: p99, max and total time late per core).
Then, unless --inject-ms 0, injects a stall: a busy loop at real-time priority (SCHED_FIFO, as
root) pinned to core 0 for --inject-ms, and prints the probe's max lateness on each core over
the injection (expected on core 0: between the stall minus the interval and the stall; on
the others: their usual).
Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import psutil
from _shared import say

from runner.measure.stalls import DEFAULT_INTERVAL_MS, StallFigures, StallProbe, describe
from runner.run.machine_lock import exclusive_machine

BUDGET_PERCENT = 0.5


def probe_cpu_seconds(pid: int) -> float:
    """The probe's CPU time: from its schedstat (nanoseconds; the probe has one thread), as
    psutil's user + system time counts in 10 ms clock ticks, a tenth of the budget over 20 s."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system


def probe_cost(
    cores: list[int], interval_ms: float, seconds: float
) -> tuple[list[float], StallFigures | None]:
    """(% of one core used by each core's probe, the stall figures) over `seconds`."""
    with StallProbe(cores, interval_ms=interval_ms) as probe:
        if not probe.wait_started():
            raise SystemExit("a stall probe did not start")
        time.sleep(1)  # past the interpreter's start, which is not the loop's cost
        pids = list(probe.pids.values())
        began, cpu_before = time.monotonic(), [probe_cpu_seconds(pid) for pid in pids]
        wall_began = time.time()
        time.sleep(seconds)
        cpu_used = [probe_cpu_seconds(pid) - b for pid, b in zip(pids, cpu_before, strict=True)]
        wall = time.monotonic() - began
        figures = probe.window(wall_began, time.time())
    return [100 * used / wall for used in cpu_used], figures


def busy_at_realtime(core: int, seconds: float) -> None:
    """Spin on `core` at SCHED_FIFO priority for `seconds` in a child process, then end it."""
    pid = os.fork()
    if pid == 0:  # the child: pinned, real-time, spinning; nothing else
        try:
            os.sched_setaffinity(0, {core})
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def can_use_realtime() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except OSError:
        return False
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return True


def injected(cores: list[int], interval_ms: float, inject_ms: float) -> StallFigures | None:
    with StallProbe(cores, interval_ms=interval_ms) as probe:
        if not probe.wait_started():
            raise SystemExit("a stall probe did not start")
        time.sleep(1.5)
        began = time.time()
        busy_at_realtime(cores[0], inject_ms / 1000)
        ended = time.time()
        return probe.window(began, ended + 0.1)  # the late wake comes as the loop ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--intervals", default="1,2,5,10,20", help="milliseconds, comma-separated")
    parser.add_argument("--inject-ms", type=float, default=50.0)
    args = parser.parse_args()
    intervals = [float(i) for i in args.intervals.split(",")]
    cores = sorted(os.sched_getaffinity(0))
    results: dict[float, tuple[list[float], StallFigures | None]] = {}
    stall: StallFigures | None = None
    with exclusive_machine(say):
        load_before = os.getloadavg()
        for interval in intervals:
            say(f"probing every {interval:g} ms for {args.seconds:g} s ...")
            results[interval] = probe_cost(cores, interval, args.seconds)
        if args.inject_ms > 0 and can_use_realtime():
            stall = injected(cores, DEFAULT_INTERVAL_MS, args.inject_ms)
        elif args.inject_ms > 0:
            say("no stall injected: SCHED_FIFO is not permitted (run as root)")
        load_after = os.getloadavg()
    print(
        f"stall probe on cores {','.join(map(str, cores))}, {args.seconds:g} s per interval; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    for interval, (percents, figures) in results.items():
        costs = ", ".join(f"core {c}: {p:.3f}%" for c, p in zip(cores, percents, strict=True))
        verdict = "within" if max(percents) < BUDGET_PERCENT else "OVER"
        print(f"every {interval:g} ms: {costs} of one core  ({verdict} budget < {BUDGET_PERCENT}%)")
        print("  " + describe(figures).replace("\n", "\n  "))
    print(f"default interval: {DEFAULT_INTERVAL_MS:g} ms")
    if stall is not None:
        print(
            f"injected {args.inject_ms:g} ms SCHED_FIFO busy loop on core {cores[0]} (seen on it: "
            f"{args.inject_ms - DEFAULT_INTERVAL_MS:g}-{args.inject_ms:g} ms late):"
        )
        print("  " + describe(stall).replace("\n", "\n  "))


if __name__ == "__main__":
    main()
