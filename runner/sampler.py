"""psutil sampling of whole process trees (a server with its workers, and k6).

CPU is summed over every process of the tree and reported as "% of one core" (200% = two
cores fully busy). Linux counts CPU time in clock ticks of 10 ms, so the CPU of one 0.1 s
sample is only known to +-10% of one core: a server pinned to one core can show 109% in a
single sample. Averages are exact over the window (total CPU time / wall time), and the
reported maximum is the busiest PEAK_WINDOW_S of the window, which the tick resolves to
about 1%.

Memory is resident set size (RSS) summed over the tree, in MiB; forked workers share pages, so
the sum is an upper bound of what the tree holds. USS (pages private to each process, a lower
bound) and PSS (shared pages split between their users) come from /proc/PID/smaps_rollup,
which costs about five times an RSS read, so they are sampled less often (`uss_interval_s`).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

import psutil

MIB = 1024 * 1024
# Re-reading the tree (a scan of /proc) is the costly part: do it about once a second,
# which still catches workers that a master forks after start-up.
TREE_REFRESH_S = 1.0
# The maximum CPU of a window is taken over spans at least this long (see the module doc).
PEAK_WINDOW_S = 1.0


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock seconds (time.time())
    cpu_percent: float  # % of one core over the interval ending at `at`
    rss_mib: float
    processes: int
    cpu_seconds: float = 0.0  # CPU time used by the tree since sampling began
    uss_mib: float | None = None  # only on the samples that read smaps_rollup
    pss_mib: float | None = None


@dataclass(frozen=True)
class TreeReading:
    cpu_seconds: float  # used since the previous reading
    rss: int
    processes: int
    uss: int | None = None
    pss: int | None = None


class _Tree:
    """The processes below (and including) one root pid, with their CPU-time baselines."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.processes: dict[int, psutil.Process] = {}
        self.cpu_seen: dict[int, float] = {}
        self.refreshed_at = 0.0
        self.refresh(baseline=True)

    def refresh(self, baseline: bool = False) -> None:
        try:
            root = psutil.Process(self.root_pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            members = []
        for proc in members:
            if proc.pid not in self.processes:
                self.processes[proc.pid] = proc
                # Processes present at start count from now; later ones from their birth.
                self.cpu_seen[proc.pid] = _cpu_seconds(proc) if baseline else 0.0
        self.refreshed_at = time.monotonic()

    def read(self, detailed: bool = False) -> TreeReading:
        """CPU seconds since the last read, RSS (and USS/PSS if `detailed`) in bytes, processes."""
        if time.monotonic() - self.refreshed_at >= TREE_REFRESH_S:
            self.refresh()
        cpu_delta = 0.0
        rss = uss = pss = 0
        for pid, proc in list(self.processes.items()):
            try:
                with proc.oneshot():
                    used = _cpu_seconds(proc)
                    if detailed:
                        full = proc.memory_full_info()
                        rss, uss, pss = rss + full.rss, uss + full.uss, pss + full.pss
                    else:
                        rss += proc.memory_info().rss
            except psutil.Error:
                del self.processes[pid]
                continue
            cpu_delta += max(0.0, used - self.cpu_seen[pid])
            self.cpu_seen[pid] = used
        if not detailed:
            return TreeReading(cpu_delta, rss, len(self.processes))
        return TreeReading(cpu_delta, rss, len(self.processes), uss, pss)


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


class TreeSampler:
    """Samples named process trees on a background thread at a fixed interval."""

    def __init__(self, roots: dict[str, int], interval_s: float, uss_interval_s: float = 0) -> None:
        self.interval_s = interval_s
        self.uss_interval_s = uss_interval_s
        self.trees = {name: _Tree(pid) for name, pid in roots.items()}
        # USS/PSS are read for the trees given here (servers), not for those tracked later.
        self.detailed = set(roots)
        self.samples: dict[str, list[Sample]] = {name: [] for name in roots}
        self._cpu_total: dict[str, float] = dict.fromkeys(roots, 0.0)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def native_thread_id(self) -> int | None:
        """The sampling thread's OS id, so its own CPU cost can be measured (bench/)."""
        return self._thread.native_id

    def track(self, name: str, root_pid: int) -> None:
        """Start sampling another tree (k6, once it is spawned); RSS only, no USS/PSS."""
        tree = _Tree(root_pid)
        with self._lock:
            self.trees[name] = tree
            self.samples[name] = []
            self._cpu_total[name] = 0.0

    def _detailed_due(self, now: float, last: float | None) -> bool:
        if self.uss_interval_s <= 0:
            return False
        # Half an interval of slack keeps the cadence at whole ticks (10 x 0.1 s = 1 s).
        return last is None or now - last >= self.uss_interval_s - self.interval_s / 2

    def _run(self) -> None:
        last = time.monotonic()
        last_detailed: float | None = None
        while not self._stop.wait(self.interval_s):
            now = time.monotonic()
            elapsed = max(now - last, 1e-6)
            last = now
            detailed = self._detailed_due(now, last_detailed)
            if detailed:
                last_detailed = now
            wall = time.time()
            with self._lock:
                for name, tree in self.trees.items():
                    reading = tree.read(detailed and name in self.detailed)
                    self._cpu_total[name] += reading.cpu_seconds
                    self.samples[name].append(
                        _sample(wall, elapsed, reading, self._cpu_total[name])
                    )


def _sample(wall: float, elapsed: float, reading: TreeReading, cpu_total: float) -> Sample:
    return Sample(
        at=wall,
        cpu_percent=100.0 * reading.cpu_seconds / elapsed,
        rss_mib=reading.rss / MIB,
        processes=reading.processes,
        cpu_seconds=cpu_total,
        uss_mib=None if reading.uss is None else reading.uss / MIB,
        pss_mib=None if reading.pss is None else reading.pss / MIB,
    )


@dataclass(frozen=True)
class Usage:
    """Average and maximum of one quantity over a window."""

    avg: float
    max: float


@dataclass(frozen=True)
class WindowSummary:
    cpu_percent: Usage
    memory_mib: Usage
    processes: int
    samples: int
    uss_mib: Usage | None = None
    pss_mib: Usage | None = None


def summarize(samples: list[Sample], start: float, end: float) -> WindowSummary | None:
    """CPU and memory over the samples taken inside [start, end]; None if there are none."""
    inside = [s for s in samples if start <= s.at <= end]
    if not inside:
        return None
    # CPU counts from the last sample before the window, so the whole window is covered.
    before = [s for s in samples if s.at < start]
    span = ([before[-1]] if before else []) + inside
    rss = [s.rss_mib for s in inside]
    return WindowSummary(
        cpu_percent=Usage(_cpu_average(span), _cpu_peak(span, PEAK_WINDOW_S)),
        memory_mib=Usage(statistics.fmean(rss), max(rss)),
        processes=max(s.processes for s in inside),
        samples=len(inside),
        uss_mib=_detail_usage(samples, start, end, "uss_mib"),
        pss_mib=_detail_usage(samples, start, end, "pss_mib"),
    )


def _cpu_average(span: list[Sample]) -> float:
    """% of one core over the span: CPU time used / wall time, exact up to two clock ticks."""
    if len(span) < 2:
        return span[0].cpu_percent
    first, last = span[0], span[-1]
    return 100.0 * (last.cpu_seconds - first.cpu_seconds) / max(last.at - first.at, 1e-6)


def _cpu_peak(span: list[Sample], window_s: float) -> float:
    """The highest % of one core over any stretch of at least `window_s` inside the span.

    Over 0.1 s one 10 ms clock tick is 10% of a core; over 1 s it is 1%, so this maximum is
    one a reader can compare with the number of cores. Spans shorter than `window_s` give
    their average.
    """
    peak: float | None = None
    end_index = 0
    for begin_index, begin in enumerate(span):
        end_index = max(end_index, begin_index + 1)
        while end_index < len(span) and span[end_index].at - begin.at < window_s:
            end_index += 1
        if end_index >= len(span):
            break
        end = span[end_index]
        rate = 100.0 * (end.cpu_seconds - begin.cpu_seconds) / (end.at - begin.at)
        peak = rate if peak is None else max(peak, rate)
    return _cpu_average(span) if peak is None else peak


def _detail_usage(samples: list[Sample], start: float, end: float, field: str) -> Usage | None:
    """USS/PSS over the window; a window shorter than the USS interval may hold none of
    these slower samples, and then the one nearest the window stands for it."""
    detailed = [s for s in samples if getattr(s, field) is not None]
    if not detailed:
        return None
    inside = [s for s in detailed if start <= s.at <= end]
    if not inside:
        middle = (start + end) / 2
        inside = [min(detailed, key=lambda s: abs(s.at - middle))]
    values = [getattr(s, field) for s in inside]
    return Usage(statistics.fmean(values), max(values))
