"""Per-core CPU accounting from /proc/stat, and the interference it reveals.

A snapshot holds the kernel's cumulative per-core counters (user, nice, system, idle, iowait,
irq, softirq, steal, guest, guest_nice), converted from clock ticks to seconds. Two snapshots
give, on any set of cores, the busy time and the steal time of the window between them.

Interference on a set of cores is the CPU time spent there by anything other than the process
trees we measure (the server tree on the server cores; k6 and the runner on the client cores):

    interference = (busy on those cores - the trees' CPU time) + steal on those cores
    share        = interference / (window x number of cores)

Caveats, which decide how to read the figure:
- Process CPU time is not split by core, so a tree's whole CPU time is counted against the cores
  it is given for. That is exact when the tree is pinned to those cores; when it is not, part of
  its time ran elsewhere and the figure on these cores is too low (the other cores' too high).
  With pinning off, use all cores and all trees together.
- The runner runs on the client cores when pinning is on: its own CPU time (sampling, k6 output
  parsing) must be passed with k6's, or it shows up as interference.
- Counters move in clock ticks (usually 10 ms) and are read at slightly different instants from
  the trees' CPU times, so a share is known to about 2 ticks per core over the window (0.2% of
  a 10 s window); the "other" time is clamped at zero.
- Guest time is already included in user time by the kernel, so it is not added again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, fields
from pathlib import Path

PROC_STAT = Path("/proc/stat")
# Kernel clock ticks per second (USER_HZ), the unit of every /proc/stat counter.
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CoreTimes:
    """Cumulative CPU seconds of one core since boot, by kind (the columns of /proc/stat)."""

    user: float
    nice: float
    system: float
    idle: float
    iowait: float
    irq: float
    softirq: float
    steal: float
    guest: float = 0.0  # included in `user` by the kernel
    guest_nice: float = 0.0  # included in `nice`

    @property
    def busy(self) -> float:
        """Seconds the core ran something (guest time is inside user/nice already)."""
        return self.user + self.nice + self.system + self.irq + self.softirq

    def minus(self, earlier: CoreTimes) -> CoreTimes:
        """The seconds of each kind spent between `earlier` and this reading."""
        return CoreTimes(
            **{f.name: getattr(self, f.name) - getattr(earlier, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class CpuSnapshot:
    """Every core's counters at one instant (`at`: time.monotonic() seconds)."""

    at: float
    cores: dict[int, CoreTimes]


def parse_proc_stat(text: str, at: float, ticks_per_second: int = TICKS_PER_SECOND) -> CpuSnapshot:
    """The per-core lines (`cpuN ...`) of a /proc/stat text; the aggregate `cpu` line is skipped."""
    cores: dict[int, CoreTimes] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        # Older kernels have fewer columns; missing ones are zero.
        ticks = [int(value) for value in rest.split()][:10]
        ticks += [0] * (10 - len(ticks))
        cores[int(name[3:])] = CoreTimes(*(tick / ticks_per_second for tick in ticks))
    return CpuSnapshot(at=at, cores=cores)


def read_cpu_snapshot(path: Path = PROC_STAT) -> CpuSnapshot:
    """The machine's per-core counters now."""
    at = time.monotonic()
    return parse_proc_stat(path.read_text(), at)


@dataclass(frozen=True)
class CoreUsage:
    """Busy and steal seconds on a set of cores over the window between two snapshots."""

    cores: tuple[int, ...]
    window_s: float
    busy_s: float
    steal_s: float
    steal_s_by_core: dict[int, float]

    @property
    def capacity_s(self) -> float:
        """CPU seconds the cores could give in the window."""
        return self.window_s * len(self.cores)

    @property
    def worst_core_steal_share(self) -> float:
        """The highest steal of any one of the cores, as a share of the window."""
        if self.window_s <= 0 or not self.steal_s_by_core:
            return 0.0
        return max(self.steal_s_by_core.values()) / self.window_s


def core_usage(before: CpuSnapshot, after: CpuSnapshot, cores: Collection[int]) -> CoreUsage:
    """Busy and steal time of `cores` between two snapshots (cores must be in both)."""
    missing = sorted(c for c in cores if c not in before.cores or c not in after.cores)
    if missing:
        raise ValueError(f"no counters for core(s) {missing} in /proc/stat")
    spent = {core: after.cores[core].minus(before.cores[core]) for core in sorted(cores)}
    return CoreUsage(
        cores=tuple(spent),
        window_s=max(after.at - before.at, 0.0),
        busy_s=sum(times.busy for times in spent.values()),
        steal_s=sum(times.steal for times in spent.values()),
        steal_s_by_core={core: times.steal for core, times in spent.items()},
    )


@dataclass(frozen=True)
class Interference:
    """CPU time on a set of cores spent by anything but the given process trees, plus steal."""

    role: str  # what the cores are for: "server" or "client"
    usage: CoreUsage
    trees_cpu_s: float  # CPU time of the trees given for these cores, over the same window

    @property
    def other_s(self) -> float:
        """Busy time not explained by the trees (clamped: ticks make it dip below zero)."""
        return max(self.usage.busy_s - self.trees_cpu_s, 0.0)

    @property
    def share(self) -> float:
        """(Other work + steal) as a share of the cores' capacity over the window."""
        capacity = self.usage.capacity_s
        return (self.other_s + self.usage.steal_s) / capacity if capacity > 0 else 0.0

    @property
    def steal_share(self) -> float:
        """Steal on the worst of the cores, as a share of the window."""
        return self.usage.worst_core_steal_share

    @property
    def trees_share(self) -> float:
        """The trees' own CPU time as a share of the cores' capacity."""
        capacity = self.usage.capacity_s
        return self.trees_cpu_s / capacity if capacity > 0 else 0.0


def interference(
    role: str,
    before: CpuSnapshot,
    after: CpuSnapshot,
    cores: Collection[int],
    trees_cpu_s: float,
) -> Interference:
    """Interference on `cores` between two snapshots, given the CPU seconds the measured trees
    (pinned to those cores) used in the same window. See the module doc for the caveats."""
    return Interference(role, core_usage(before, after, cores), max(trees_cpu_s, 0.0))


@dataclass(frozen=True)
class CounterReading:
    """The per-core counters and the runner's own CPU time, read in one sampler tick (`at`:
    the tick's wall-clock time, shared with the trees' samples of that tick). The text is
    parsed only for the two readings that bound a window."""

    at: float
    proc_stat: str  # the per-core lines of /proc/stat
    runner_cpu_s: float

    def snapshot(self) -> CpuSnapshot:
        return parse_proc_stat(self.proc_stat, self.at)


def read_counters(at: float, path: Path = PROC_STAT) -> CounterReading:
    """One tick's reading. The `intr` line and those after it (often longer than all the cpu
    lines together) are dropped at once: only the cpu lines are kept."""
    text = path.read_text()
    end = text.find("\nintr")
    return CounterReading(at, text if end < 0 else text[:end], own_cpu_seconds())


def own_cpu_seconds() -> float:
    """CPU seconds used so far by this process (the runner), user + system, all threads."""
    times = os.times()
    return times.user + times.system
