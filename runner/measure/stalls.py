"""The platform's own stalls on the measured cores, over a whole sweep (issue #20, item 5).

One small probe process per core (runner/measure/stall_probe.py), pinned to it, sleeps a fixed
interval in a loop and records how late each wake is, as jHiccup does; it is a process, not a
thread of the runner, so the runner's GIL adds no lateness of its own. Started once per sweep
(Python's start costs ~20-40 ms of CPU), it reports aggregates every `tick_s` seconds stamped
with time.time(); a reader thread keeps them, and `window(start, end)` sums the ticks of any
wall-clock window, such as a step's measured one (`started_at`, `started_at + duration_s`):

    with StallProbe([0, 1]) as probe:
        ...                                        # the steps
        figures = probe.window(step.started_at, step.started_at + step.duration_s)

Resolution: a stall of S ms shows as one wake late by between S - interval and S ms, so stalls
shorter than the interval are missed in part or whole; the figures say the interval. Lateness
includes the kernel's usual wake-up delay (~0.1 ms here) and, on a busy core, the scheduler's
delay in giving the probe the core back (the probe runs at normal priority, as the server does).
Windows are aligned to ticks: every tick that overlaps the window counts (the figures say the
span they cover), so a window grows by up to one tick at each end.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict

from runner.measure import launch
from runner.measure.stall_probe import bucket_bounds

PROBE_SCRIPT = Path(__file__).with_name("stall_probe.py")
# The probe's resolution. bench/stall_probe.py on the 2-core VM, % of one core per probe, runs at
# load 2-4.5: 10 ms 0.31-0.57, 15 ms 0.25-0.72, 20 ms 0.21-0.45 over 20 s (four runs; one 10 s
# run 0.52-0.57), 25 ms 0.22-0.24, 30 ms 0.20. A wake costs 20-115 us of CPU with the VM's state,
# most of it in the kernel (a bare sleep loop costs about as much): 20 ms is the smallest
# interval that kept under the 0.5% budget in the 20 s runs; 25 ms if it must hold every time.
DEFAULT_INTERVAL_MS = 20.0
DEFAULT_TICK_S = 0.5
# A wake later than this counts towards the time late (below it: ordinary wake-up delay).
DEFAULT_LATE_THRESHOLD_MS = 1.0
STOP_GRACE_S = 0.5


class CoreStalls(BaseModel):
    """One core's stall figures over a window (times in milliseconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    core: int
    wakes: int
    # Upper edge of the histogram bucket holding the 99th percentile (buckets are 12.5-25 %
    # wide), never above the maximum.
    p99_ms: float
    max_ms: float
    # Wakes late by more than the threshold, and the sum of their lateness: roughly how long the
    # core was taken from a runnable process in stalls longer than the threshold.
    late_wakes: int
    total_late_ms: float


class StallFigures(BaseModel):
    """The stall probe's figures over one wall-clock window, per measured core."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The probe's resolution: stalls shorter than this can be missed in part or whole.
    interval_ms: float
    late_threshold_ms: float
    # The span (Unix times) of the ticks summed: the window, widened to whole ticks.
    span_start: float
    span_end: float
    cores: list[CoreStalls]
    # Cores whose probe did not cover the whole window (it died, or started after the window).
    missing_cores: list[int]


@dataclass(frozen=True, slots=True)
class Tick:
    """One probe line: aggregates of the wakes between `begin` and `end` (Unix times)."""

    begin: float
    end: float
    wakes: int
    late_wakes: int
    late_us: int
    max_us: int
    hist: tuple[tuple[int, int], ...]


def parse_tick(line: str, begin: float) -> Tick:
    data = json.loads(line)
    hist = tuple((int(b), int(c)) for b, c in data["hist"])
    return Tick(begin, float(data["wall"]), int(data["wakes"]), int(data["late_wakes"]),
                int(data["late_us"]), int(data["max_us"]), hist)  # fmt: skip


def percentile_us(hist: dict[int, int], fraction: float, max_us: int) -> int:
    """The upper edge of the bucket holding the `fraction` percentile, capped at `max_us`."""
    total = sum(hist.values())
    if not total:
        return 0
    rank, seen = math.ceil(fraction * total), 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= rank:
            return min(bucket_bounds(index)[1], max_us)
    return max_us


def core_figures(core: int, ticks: list[Tick]) -> CoreStalls:
    """One core's figures from the ticks of a window."""
    hist: dict[int, int] = {}
    for tick in ticks:
        for index, count in tick.hist:
            hist[index] = hist.get(index, 0) + count
    max_us = max((t.max_us for t in ticks), default=0)
    return CoreStalls(
        core=core,
        wakes=sum(t.wakes for t in ticks),
        p99_ms=percentile_us(hist, 0.99, max_us) / 1000,
        max_ms=max_us / 1000,
        late_wakes=sum(t.late_wakes for t in ticks),
        total_late_ms=sum(t.late_us for t in ticks) / 1000,
    )


def covering(ticks: list[Tick], start: float, end: float) -> list[Tick] | None:
    """The ticks overlapping [start, end], or None unless they cover it whole."""
    if not ticks or ticks[0].begin > start or ticks[-1].end < end:
        return None
    return [t for t in ticks if t.end > start and t.begin < end]


def window_figures(
    per_core: dict[int, list[Tick]],
    start: float,
    end: float,
    interval_ms: float,
    late_threshold_ms: float,
) -> StallFigures | None:
    """Figures over [start, end] from each core's ticks; None if no core covers it."""
    chosen = {core: covering(ticks, start, end) for core, ticks in per_core.items()}
    covered = {core: ticks for core, ticks in chosen.items() if ticks}
    if not covered:
        return None
    return StallFigures(
        interval_ms=interval_ms,
        late_threshold_ms=late_threshold_ms,
        span_start=min(ticks[0].begin for ticks in covered.values()),
        span_end=max(ticks[-1].end for ticks in covered.values()),
        cores=[core_figures(core, ticks) for core, ticks in sorted(covered.items())],
        missing_cores=sorted(core for core in chosen if core not in covered),
    )


class _Reader:
    """One probe process and the ticks a daemon thread reads from its stdout."""

    def __init__(self, process: subprocess.Popen[str], keep: int, changed: threading.Condition):
        self.process = process
        self.ticks: deque[Tick] = deque(maxlen=keep)
        self.started: float | None = None  # Unix time of the probe's first sleep
        self.ended = False  # its stdout closed: it has stopped or died
        self._changed = changed
        self.thread = threading.Thread(target=self._read, name="stall-probe", daemon=True)

    def _read(self) -> None:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        try:
            for line in stdout:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self._take(line)
        except (OSError, ValueError):
            pass
        finally:
            with self._changed:
                self.ended = True
                self._changed.notify_all()

    def _take(self, line: str) -> None:
        if self.started is None:
            self.started = float(json.loads(line)["wall"])
            return
        begin = self.ticks[-1].end if self.ticks else self.started
        tick = parse_tick(line, begin)
        with self._changed:
            self.ticks.append(tick)
            self._changed.notify_all()

    def latest(self) -> float:
        return self.ticks[-1].end if self.ticks else -math.inf


class StallProbe:
    """A stall probe on each of `cores` for as long as the context lasts (start it once per sweep).

    Enter it from the main thread (runner.measure.launch.spawn ties the probes to its life).
    Keeps the last `keep_s` seconds of ticks. Never raises from window(): a probe that died
    shows as a missing core.
    """

    def __init__(
        self,
        cores: list[int],
        interval_ms: float = DEFAULT_INTERVAL_MS,
        tick_s: float = DEFAULT_TICK_S,
        late_threshold_ms: float = DEFAULT_LATE_THRESHOLD_MS,
        keep_s: float = 6 * 3600,
    ) -> None:
        self.cores = list(cores)
        self.interval_ms = interval_ms
        self.tick_s = tick_s
        self.late_threshold_ms = late_threshold_ms
        self._keep = max(1, math.ceil(keep_s / tick_s))
        self._changed = threading.Condition()
        self._readers: dict[int, _Reader] = {}

    def command(self) -> list[str]:
        args = [str(self.interval_ms), str(self.tick_s), str(self.late_threshold_ms)]
        return [sys.executable, "-I", "-S", str(PROBE_SCRIPT), *args]

    def __enter__(self) -> StallProbe:
        try:
            for core in self.cores:
                process = launch.spawn(
                    self.command(), [core], stdout=subprocess.PIPE, text=True, bufsize=1
                )
                reader = _Reader(process, self._keep, self._changed)
                self._readers[core] = reader
                reader.thread.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pids(self) -> dict[int, int]:
        """The probe process of each core."""
        return {core: reader.process.pid for core, reader in self._readers.items()}

    def wait_started(self, timeout_s: float = 5.0) -> bool:
        """Wait until every probe is sleeping (its first line read); False if one is not by then."""
        with self._changed:
            self._changed.wait_for(
                lambda: all(r.started or r.ended for r in self._readers.values()), timeout_s
            )
            return all(r.started and not r.ended for r in self._readers.values())

    def window(self, start: float, end: float, wait_s: float | None = None) -> StallFigures | None:
        """Stall figures over [start, end] (Unix times), None if no probe covered it.

        Waits up to `wait_s` (default: two ticks) for the ticks that cover `end` to arrive.
        """
        try:
            wait = 2 * self.tick_s + 0.2 if wait_s is None else wait_s
            with self._changed:
                self._changed.wait_for(
                    lambda: all(r.ended or r.latest() >= end for r in self._readers.values()),
                    wait,
                )
                ticks = {core: list(r.ticks) for core, r in self._readers.items()}
            return window_figures(ticks, start, end, self.interval_ms, self.late_threshold_ms)
        except Exception:  # never into a step
            return None

    def stop(self) -> None:
        """Stop every probe (SIGTERM, SIGKILL after STOP_GRACE_S); prompt and idempotent."""
        for reader in self._readers.values():  # each ends within milliseconds of its SIGTERM
            launch.stop_group(reader.process, STOP_GRACE_S)
            reader.thread.join(timeout=STOP_GRACE_S)
            if reader.process.stdout is not None:
                reader.process.stdout.close()


def describe(figures: StallFigures | None) -> str:
    """One line per core, for logs and benches."""
    if figures is None:
        return "no stall figures (no probe covered the window)"
    lines = [
        f"core {c.core}: p99 {c.p99_ms:.2f} ms, max {c.max_ms:.1f} ms, "
        f"{c.total_late_ms:.1f} ms late in {c.late_wakes} wakes > {figures.late_threshold_ms:g} ms "
        f"({c.wakes} wakes every {figures.interval_ms:g} ms)"
        for c in figures.cores
    ]
    lines += [f"core {core}: probe missing" for core in figures.missing_cores]
    return "\n".join(lines)
