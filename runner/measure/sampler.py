"""psutil sampling of whole process trees (a server with its workers, and k6).

CPU is summed over every process of the tree and reported as "% of one core" (200% = two
cores fully busy). Linux counts CPU time in clock ticks of 10 ms, so the CPU of one 0.1 s
sample is only known to +-10% of one core: a server pinned to one core can show 109% in a
single sample. Each sample carries the tree's CPU time so far, so its summary over a step's window
(runner.measure.usage) is exact on average and resolves its peak to about 1%.

Memory moves slowly and costs more to read, so it is sampled less often than CPU (every
`memory_interval_s`): resident set size (RSS) summed over the tree, in MiB; forked workers share
pages, so the sum is an upper bound of what the tree holds. For the server trees also USS (pages
private to each process, a lower bound) and PSS (shared pages split between their users), from
/proc/PID/smaps_rollup, which costs about ten times an RSS read.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from runner.measure.cpu_accounting import CounterReading, read_counters
from runner.measure.usage import Sample

MIB = 1024 * 1024
# Re-reading the tree is done about once a second, which still catches workers that a master
# forks after start-up.
TREE_REFRESH_S = 1.0
# /proc/PID/task/TID/children (Linux >= 3.5) lists a thread's children: a few small reads per
# tree, where psutil's children() reads the stat file of every process on the machine.
_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


@dataclass(frozen=True)
class MemoryReading:
    rss: int  # bytes, summed over the tree
    uss: int | None = None
    pss: int | None = None


def _child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as stream:
                children += [int(child) for child in stream.read().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return children


def _tree_pids(root_pid: int) -> list[int]:
    """The root and all its descendants, or [] once the root is gone."""
    if not _CHILDREN_FILES:
        try:
            root = psutil.Process(root_pid)
            return [root_pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.Error:
            return []
    found, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        try:
            pending += _child_pids(pid)
        except OSError:  # the process ended meanwhile
            if pid == root_pid:
                return []
            continue
        found.append(pid)
    return found


class _Tree:
    """The processes below (and including) one root pid, with their CPU-time baselines."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.processes: dict[int, psutil.Process] = {}
        self.cpu_seen: dict[int, float] = {}
        self.refreshed_at = 0.0
        self.refresh(baseline=True)

    def refresh(self, baseline: bool = False) -> None:
        for pid in _tree_pids(self.root_pid):
            if pid in self.processes:
                continue
            try:
                proc = psutil.Process(pid)
                # Processes present at start count from now; later ones from their birth.
                self.cpu_seen[pid] = _cpu_seconds(proc) if baseline else 0.0
            except psutil.Error:
                continue
            self.processes[pid] = proc
        self.refreshed_at = time.monotonic()

    def read_cpu(self) -> float:
        """CPU seconds the tree used since the last read."""
        if time.monotonic() - self.refreshed_at >= TREE_REFRESH_S:
            self.refresh()
        used_since = 0.0
        for pid, proc in list(self.processes.items()):
            try:
                used = _cpu_seconds(proc)
            except psutil.Error:
                del self.processes[pid]
                continue
            used_since += max(0.0, used - self.cpu_seen[pid])
            self.cpu_seen[pid] = used
        return used_since

    def read_memory(self, detailed: bool) -> MemoryReading:
        """RSS summed over the tree; with `detailed`, USS and PSS too (smaps_rollup)."""
        rss = uss = pss = 0
        for proc in list(self.processes.values()):
            try:
                if detailed:
                    full = proc.memory_full_info()
                    rss, uss, pss = rss + full.rss, uss + full.uss, pss + full.pss
                else:
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return MemoryReading(rss, uss, pss) if detailed else MemoryReading(rss)


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


class TreeSampler:
    """Samples named process trees on a background thread: CPU every `interval_s`, memory every
    `memory_interval_s` (USS/PSS too for the trees given at construction, if `uss`), and the
    per-core counters with `cpu_counters`. `on_sample` sees each sample as it is taken (the
    remote agent streams them, runner.remote.agent)."""

    def __init__(
        self,
        roots: dict[str, int],
        interval_s: float,
        memory_interval_s: float = 1.0,
        uss: bool = True,
        cpu_counters: bool = False,
        on_sample: Callable[[str, Sample], None] | None = None,
    ) -> None:
        self.interval_s = interval_s
        self.on_sample = on_sample
        # With `cpu_counters`, every tick also reads /proc/stat's per-core counters and the
        # runner's CPU time, at the instant of the trees' readings (see runner.measure.judging).
        self.counters: list[CounterReading] | None = [] if cpu_counters else None
        self.memory_interval_s = memory_interval_s
        self.trees = {name: _Tree(pid) for name, pid in roots.items()}
        # USS/PSS are read for the trees given here (servers), not for those tracked later.
        self.detailed = set(roots) if uss else set()
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

    def latest(self, name: str) -> Sample | None:
        """The newest sample, carrying the newest memory reading (memory is read less often)."""
        with self._lock:
            series = list(self.samples.get(name) or [])
        if not series:
            return None
        newest = series[-1]
        if newest.rss_mib is None:
            with_memory = next((s for s in reversed(series) if s.rss_mib is not None), None)
            if with_memory is not None:
                newest = dataclasses.replace(newest, rss_mib=with_memory.rss_mib)
        return newest

    def _run(self) -> None:
        last = time.monotonic()
        memory_read_at: float | None = None
        while not self._stop.wait(self.interval_s):
            now = time.monotonic()
            elapsed = max(now - last, 1e-6)
            last = now
            # Half a CPU interval of slack keeps memory on whole ticks (10 x 0.1 s = 1 s).
            slack = self.interval_s / 2
            with_memory = memory_read_at is None or (
                now - memory_read_at >= self.memory_interval_s - slack
            )
            if with_memory:
                memory_read_at = now
            wall = time.time()
            with self._lock:
                if self.counters is not None:
                    self.counters.append(read_counters(wall))
                for name, tree in self.trees.items():
                    self._cpu_total[name] += (used := tree.read_cpu())
                    memory = tree.read_memory(name in self.detailed) if with_memory else None
                    sample = _sample(wall, elapsed, used, self._cpu_total[name], memory, tree)
                    self.samples[name].append(sample)
                    if self.on_sample is not None:
                        self.on_sample(name, sample)


def _sample(
    wall: float,
    elapsed: float,
    cpu_used: float,
    cpu_total: float,
    memory: MemoryReading | None,
    tree: _Tree,
) -> Sample:
    def mib(value: int | None) -> float | None:
        return None if value is None else value / MIB

    return Sample(
        at=wall,
        cpu_percent=100.0 * cpu_used / elapsed,
        rss_mib=mib(memory.rss) if memory else None,
        processes=len(tree.processes),
        cpu_seconds=cpu_total,
        uss_mib=mib(memory.uss) if memory else None,
        pss_mib=mib(memory.pss) if memory else None,
    )
