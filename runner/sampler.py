"""psutil sampling of whole process trees (a server with its workers, and k6).

CPU is summed over every process of the tree and reported as "% of one core" (200% = two
cores fully busy). Memory is resident set size (RSS) summed over the tree, in MiB; forked
workers share pages, so the sum is an upper bound of what the tree really holds.
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


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock seconds (time.time())
    cpu_percent: float  # % of one core over the interval ending at `at`
    rss_mib: float
    processes: int


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

    def read(self) -> tuple[float, float, int]:
        """CPU seconds used since the last read, total RSS in bytes, live process count."""
        if time.monotonic() - self.refreshed_at >= TREE_REFRESH_S:
            self.refresh()
        cpu_delta = 0.0
        rss = 0
        for pid, proc in list(self.processes.items()):
            try:
                with proc.oneshot():
                    used = _cpu_seconds(proc)
                    rss += proc.memory_info().rss
            except psutil.Error:
                del self.processes[pid]
                continue
            cpu_delta += max(0.0, used - self.cpu_seen[pid])
            self.cpu_seen[pid] = used
        return cpu_delta, rss, len(self.processes)


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


class TreeSampler:
    """Samples named process trees on a background thread at a fixed interval."""

    def __init__(self, roots: dict[str, int], interval_s: float) -> None:
        self.interval_s = interval_s
        self.trees = {name: _Tree(pid) for name, pid in roots.items()}
        self.samples: dict[str, list[Sample]] = {name: [] for name in roots}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def track(self, name: str, root_pid: int) -> None:
        """Start sampling another tree (k6, once it is spawned)."""
        tree = _Tree(root_pid)
        with self._lock:
            self.trees[name] = tree
            self.samples[name] = []

    def latest(self, name: str) -> Sample | None:
        with self._lock:
            series = self.samples.get(name)
            return series[-1] if series else None

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.interval_s):
            now = time.monotonic()
            elapsed = max(now - last, 1e-6)
            last = now
            wall = time.time()
            with self._lock:
                for name, tree in self.trees.items():
                    cpu_s, rss, count = tree.read()
                    sample = Sample(wall, 100.0 * cpu_s / elapsed, rss / MIB, count)
                    self.samples[name].append(sample)


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


def summarize(samples: list[Sample], start: float, end: float) -> WindowSummary | None:
    """CPU and memory over the samples taken inside [start, end]; None if there are none."""
    inside = [s for s in samples if start <= s.at <= end]
    if not inside:
        return None
    cpu = [s.cpu_percent for s in inside]
    rss = [s.rss_mib for s in inside]
    return WindowSummary(
        cpu_percent=Usage(statistics.fmean(cpu), max(cpu)),
        memory_mib=Usage(statistics.fmean(rss), max(rss)),
        processes=max(s.processes for s in inside),
        samples=len(inside),
    )
