"""Each block judged by the step validity rules that apply to a block (runner.measure.validity):
interference on the servers' or k6's core (steal up to the idle floor not counted), steal above
this machine's idle floor, and k6 on its core as the limit (client-bound). The CPU figures come
from /proc/stat's per-core counters (runner.measure.cpu_accounting) and the process trees' CPU
times, read at the block's ends."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from runner.ab.load import BlockFigures
from runner.measure.cpu_accounting import (
    CpuSnapshot,
    interference,
    own_cpu_seconds,
    read_cpu_snapshot,
)
from runner.measure.validity import Reason, StepFacts, ValiditySettings
from runner.measure.validity.rules import (
    client_bound_reasons,
    interference_reasons,
    steal_reasons,
)


@dataclass(frozen=True)
class CpuReading:
    """The cores' counters and the measured trees' CPU seconds at one instant."""

    snapshot: CpuSnapshot
    server_s: float  # both servers' trees: they share the server cores
    client_s: float  # both k6 trees and this process: they share the client cores
    k6_s: float  # the k6 tree that loads this block (for client-bound)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (0 for one that is gone)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def read_cpu(server_pids: Sequence[int], k6_pids: Sequence[int], active_k6: int) -> CpuReading:
    k6_times = {pid: tree_cpu_seconds(pid) for pid in k6_pids}
    return CpuReading(
        snapshot=read_cpu_snapshot(),
        server_s=sum(tree_cpu_seconds(pid) for pid in server_pids),
        client_s=sum(k6_times.values()) + own_cpu_seconds(),
        k6_s=k6_times.get(active_k6, 0.0),
    )


@dataclass(frozen=True)
class BlockContext:
    """What judging a block needs beyond its figures."""

    model: str
    level: int
    server_cpus: list[int]
    client_cpus: list[int]
    steal_floor: dict[int, float]
    settings: ValiditySettings

    @property
    def limit(self) -> float:
        """How far apart a pair's halves' interference may be (the step rule's limit)."""
        return self.settings.max_interference


@dataclass(frozen=True)
class Judgement:
    """A block's invalidating reasons (none: valid) and its interference share per role."""

    reasons: list[Reason]
    interference: dict[str, float]


def uneven(first: dict[str, float], second: dict[str, float], limit: float) -> str | None:
    """Why a pair's halves were disturbed unequally (None: evenly). Pairing cancels what both
    halves share (the machine's other work, steal over both); it cannot cancel a disturbance
    that starts or ends inside the pair: interference shares more than `limit` apart."""
    for role in sorted(first):
        a, b = first[role], second.get(role, 0.0)
        if abs(a - b) > limit:
            return (
                f"other work took {a:.0%} and {b:.0%} of the {role} cores (limit {limit:.0%} apart)"
            )
    return None


def judge_block(
    figures: BlockFigures, before: CpuReading, after: CpuReading, context: BlockContext
) -> Judgement:
    """The step rules' reasons that invalidate the block, and its interference shares."""
    roles = {"server": context.server_cpus, "client": context.client_cpus}
    spent = {"server": after.server_s - before.server_s, "client": after.client_s - before.client_s}
    found = {
        role: interference(role, before.snapshot, after.snapshot, cores, spent[role])
        for role, cores in roles.items()
    }
    window = found["client"].usage.window_s
    facts = StepFacts(
        model="open" if context.model == "open" else "closed",
        level=context.level,
        requests=figures.requests,
        rps=figures.rps,
        error_rate=figures.error_rate,
        http_req_duration_avg_ms=figures.avg_ms,
        window_s=figures.window_s,
        client_cpu_share=(after.k6_s - before.k6_s) / (window * len(context.client_cpus))
        if window > 0
        else None,
        interference={role: item.share for role, item in found.items()},
        steal={role: item.steal_share for role, item in found.items()},
        steal_by_core={
            role: {core: steal / window for core, steal in item.usage.steal_s_by_core.items()}
            for role, item in found.items()
            if window > 0
        },
        steal_floor=context.steal_floor,
    )
    reasons = [
        *interference_reasons(facts, context.settings),
        *steal_reasons(facts, context.settings),
        *client_bound_reasons(facts, context.settings),
    ]
    return Judgement(
        [reason for reason in reasons if reason.invalidates],
        {role: item.share for role, item in found.items()},
    )
