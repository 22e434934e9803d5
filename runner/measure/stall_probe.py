"""The stall probe's own loop: sleep a fixed interval, record how late each wake is (as jHiccup does).

    python -I -S runner/measure/stall_probe.py INTERVAL_MS TICK_S LATE_THRESHOLD_MS
    python -m runner.measure.stall_probe INTERVAL_MS TICK_S LATE_THRESHOLD_MS    # the same

One process per measured core, pinned to it by its starter (runner.measure.stalls). It imports
nothing but the standard library core, so it runs under `-I -S`: a fast start and a small loop.

A wake's lateness is the time slept minus the interval asked for. A stall of S ms (the core not
running this process: steal, the hypervisor, an interrupt storm, a real-time task) shows as one
wake late by between S - INTERVAL and S ms, so stalls shorter than the interval can be missed in
part or whole: the interval is the probe's resolution.

Every TICK_S seconds it writes one JSON line to stdout with the tick's aggregates (the first
line is a header):
    {"interval_ns": ..., "wall": time.time(), "pid": ...}                        (header)
    {"wall": W, "wakes": N, "late_wakes": L, "late_us": T, "max_us": M, "hist": [[B, C], ...]}
`wall` is time.time() at the tick's end (the next tick begins there); `late_us` sums the
lateness of the wakes late by more than LATE_THRESHOLD_MS (`late_wakes` of them); `hist` counts
every wake's lateness in microseconds in log-scale buckets (bucket() below). On SIGTERM it
writes the tick in progress and exits 0; it exits when its stdout is closed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from typing import TextIO

# Buckets: 0..7 us exact, then 4 per octave (each 12.5-25 % wide).
EXACT = 8


def bucket(us: int) -> int:
    """The histogram bucket of a lateness of `us` microseconds."""
    if us < EXACT:
        return us
    bits = us.bit_length()
    return (bits - 2) * 4 + ((us >> (bits - 3)) & 3)


def bucket_bounds(index: int) -> tuple[int, int]:
    """[low, high) in microseconds of a bucket."""
    if index < EXACT:
        return index, index + 1
    bits, sub = index // 4 + 2, index % 4
    return (4 + sub) << (bits - 3), (5 + sub) << (bits - 3)


class _Stop(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends us at once
    raise _Stop


def run(interval_ms: float, tick_s: float, late_threshold_ms: float) -> None:
    interval_ns = round(interval_ms * 1e6)
    interval_s = interval_ns / 1e9
    threshold_us = late_threshold_ms * 1000
    out = sys.stdout
    monotonic_ns, sleep, wall = time.monotonic_ns, time.sleep, time.time
    tick_ns = round(tick_s * 1e9)
    wakes = late_wakes = late_us = max_us = 0
    hist: dict[int, int] = {}

    # The loop's state stays in fast locals (no closure over it): the loop is the probe's cost.
    try:
        write(out, {"interval_ns": interval_ns, "wall": wall(), "pid": os.getpid()})
        before = monotonic_ns()
        next_tick = before + tick_ns
        while True:
            sleep(interval_s)
            now = monotonic_ns()
            us = (now - before - interval_ns) // 1000
            before = now
            if us < 0:
                us = 0
            wakes += 1
            b = bucket(us)
            hist[b] = hist.get(b, 0) + 1
            if us > max_us:
                max_us = us
            if us > threshold_us:
                late_wakes += 1
                late_us += us
            if now >= next_tick:
                emit(out, wakes, late_wakes, late_us, max_us, hist)
                wakes = late_wakes = late_us = max_us = 0
                hist = {}
                next_tick += tick_ns
                if next_tick <= now:  # this process was stopped (SIGSTOP) for ticks on end
                    next_tick = now + tick_ns
                before = monotonic_ns()  # writing the line is not counted as lateness
    except _Stop:
        with contextlib.suppress(BrokenPipeError):
            emit(out, wakes, late_wakes, late_us, max_us, hist)
    except BrokenPipeError:  # the reader is gone
        pass


def emit(
    out: TextIO, wakes: int, late_wakes: int, late_us: int, max_us: int, hist: dict[int, int]
) -> None:
    line = {"wall": time.time(), "wakes": wakes, "late_wakes": late_wakes, "late_us": late_us}
    write(out, {**line, "max_us": max_us, "hist": sorted(hist.items())})


def write(out: TextIO, line: dict[str, object]) -> None:
    out.write(json.dumps(line, separators=(",", ":")) + "\n")
    out.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner's Ctrl-C stops us via SIGTERM
    run(float(argv[0]), float(argv[1]), float(argv[2]))
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
