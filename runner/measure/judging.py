"""Judge one measured step: its facts from k6 and the sampler, then the rules of runner.measure.validity.

Interference is read over the same span as the trees' CPU: the sampler reads /proc/stat's
per-core counters and the runner's own CPU time in the tick where it reads the trees, so the
window's first and last readings of both are taken at the same instants (to a few
microseconds), and the span is the one the CPU figures already use (the last tick before the
window's start to the last tick inside it). Counters taken around k6 from the main thread would
include k6's start and its warmup; these do not.

What counts as measured work on which cores (runner.measure.cpu_accounting explains the caveats):
- pinned, server and client cores apart: the server tree on the server cores; k6 and the
  runner on the client cores. A target's idle neighbours (other servers kept up by an
  interleaved order) are on the server cores too: what little they use counts as other work.
- pinning off, or the two sets sharing a core: every tree on every core, as one set ("all").
- a server the runner did not start (a `url` target) has no tree: its cores are not judged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from runner.config.experiment import Experiment
from runner.config.load_model import load_model
from runner.measure.cpu_accounting import CounterReading, Interference, interference
from runner.measure.k6 import K6Metrics
from runner.measure.stalls import StallFigures
from runner.measure.usage import Sample
from runner.measure.validity import StepFacts, StepStalls, Validity, ValiditySettings, judge_step
from runner.records.results import ClientCeiling, StepResult


@dataclass(frozen=True)
class Judging:
    """What judging a step needs besides its own window."""

    settings: ValiditySettings
    ceiling: ClientCeiling | None = (
        None  # k6 against the minimal responder (runner.measure.ceiling)
    )
    previous: StepResult | None = None  # same target and repetition, the next lower level
    # The target's requests served at once and what sets it (Target.concurrency_bound).
    concurrency: tuple[int, str] | None = None
    # Each core's steal floor: its steal with nothing running, measured at the run's start, or
    # the last steps' steal when higher (runner.measure.recent_steal); None: not measured.
    steal_floor: Mapping[int, float] | None = None
    steal_floor_words: str = "idle floor"  # how a steal reason names the floor

    def ceiling_rps(self, vus: int) -> float | None:
        """k6's ceiling with the step's virtual users (runner.measure.ceiling.levels)."""
        return self.ceiling.rps_at(vus) if self.ceiling is not None else None


@dataclass(frozen=True)
class CoreSet:
    role: str  # "server", "client" or "all"
    cores: frozenset[int]
    trees: tuple[str, ...]  # sampled trees whose CPU is measured work there
    with_runner: bool  # the runner's own CPU time is measured work there too


def core_sets(experiment: Experiment, server_sampled: bool) -> list[CoreSet]:
    pinning = experiment.pinning
    server, client = frozenset(pinning.server_cpus), frozenset(pinning.client_cpus)
    if not pinning.enabled or server & client:
        cores = server | client if pinning.enabled else frozenset(os.sched_getaffinity(0))
        trees = ("server", "k6") if server_sampled else ("k6",)
        # Without a server tree the server's work would read as interference: nothing to judge.
        return [CoreSet("all", cores, trees, True)] if server_sampled else []
    sets = [CoreSet("client", client, ("k6",), True)]
    return [CoreSet("server", server, ("server",), False), *sets] if server_sampled else sets


def remote_server_sets(experiment: Experiment) -> list[CoreSet]:
    """The server's cores on its own host, judged by that host's counters: the server tree and
    the host's agent (in the runner's place) are measured work there; nothing when pinning does
    not set the server's cores apart."""
    pinning = experiment.pinning
    server, client = frozenset(pinning.server_cpus), frozenset(pinning.client_cpus)
    if not pinning.enabled or server & client:
        return []
    return [CoreSet("server", server, ("server",), True)]


def _span(counters: Sequence[CounterReading], start: float, end: float) -> tuple[int, int] | None:
    """Indices of the last reading before `start` (or the first inside) and the last inside."""
    inside = [i for i, c in enumerate(counters) if start <= c.at <= end]
    if not inside:
        return None
    first = inside[0] - 1 if inside[0] > 0 else inside[0]
    return (first, inside[-1]) if inside[-1] > first else None


def _tree_cpu_at(samples: Sequence[Sample], at: float) -> float:
    """The tree's CPU seconds at the tick `at` (0 before its first sample: tracked later)."""
    value = 0.0
    for sample in samples:
        if sample.at > at:
            break
        value = sample.cpu_seconds
    return value


def window_interference(
    counters: Sequence[CounterReading],
    samples: dict[str, list[Sample]],
    start: float,
    end: float,
    sets: list[CoreSet],
) -> list[Interference]:
    """Interference on each core set over the window; [] when too few readings fell in it."""
    span = _span(counters, start, end)
    if span is None:
        return []
    before, after = counters[span[0]], counters[span[1]]
    first, last = before.snapshot(), after.snapshot()
    found = []
    for core_set in sets:
        trees_s = sum(
            _tree_cpu_at(samples.get(tree, []), after.at)
            - _tree_cpu_at(samples.get(tree, []), before.at)
            for tree in core_set.trees
        )
        if core_set.with_runner:
            trees_s += after.runner_cpu_s - before.runner_cpu_s
        present = [c for c in core_set.cores if c in first.cores and c in last.cores]
        if present:
            found.append(interference(core_set.role, first, last, present, trees_s))
    return found


def step_facts(
    result: StepResult,
    metrics: K6Metrics | None = None,
    found: Sequence[Interference] = (),
    ceiling_rps: float | None = None,
    concurrency: tuple[int, str] | None = None,
    steal_floor: Mapping[int, float] | None = None,
) -> StepFacts:
    """What the rules read of a step; without k6's metrics (a stored neighbour), its records."""
    share = result.cpu_share_percent
    workers, workers_words = concurrency or (None, "")
    client_cores = result.client_cores or 1
    duration = result.duration_s or 1.0
    return StepFacts(
        # A capacity trial is an open-model step at a fixed rate: judged as one.
        model="open" if load_model(result.model).fixed_rate else "closed",
        level=result.level,
        requests=result.requests,
        window_s=result.duration_s,
        rps=result.rps,
        error_rate=result.error_rate,
        http_req_duration_avg_ms=result.latency_ms.avg,
        iteration_duration_avg_ms=metrics.iteration_duration_avg_ms if metrics else None,
        iterations_per_s=metrics.iterations / duration if metrics else None,
        target_rps=result.target_rps,
        dropped_iterations=result.dropped_iterations,
        max_vus=result.max_vus,
        vus_preallocated=result.vus_preallocated,
        vus_initialised=result.vus_initialised,
        p99_ms=result.latency_ms.p99,
        concurrency=workers,
        concurrency_words=workers_words,
        server_cpu_share=share.avg / 100 if share is not None else None,
        server_core_busy_share=_server_cores_busy(found),
        client_cpu_share=result.client_cpu_percent.avg / 100 / client_cores,
        client_ceiling_rps=ceiling_rps,
        interference={i.role: i.share for i in found},
        steal={i.role: i.steal_share for i in found},
        steal_by_core={i.role: _steal_by_core(i) for i in found},
        steal_floor=steal_floor,
        stalls=stall_facts(result.stalls, _server_cores(found)),
    )


def _steal_by_core(found: Interference) -> dict[int, float]:
    window = found.usage.window_s
    steal = found.usage.steal_s_by_core
    return {core: s / window for core, s in steal.items()} if window > 0 else {}


def _server_cores(found: Sequence[Interference]) -> frozenset[int]:
    """The cores the server's tree was judged on ("server", or "all" when they are shared)."""
    return frozenset(c for i in found if i.role in ("server", "all") for c in i.usage.cores)


def stall_facts(figures: StallFigures | None, server_cores: frozenset[int]) -> StepStalls | None:
    """The stall probe's figures as the stall rules read them."""
    if figures is None:
        return None
    return StepStalls(
        interval_ms=figures.interval_ms,
        window_s=figures.span_end - figures.span_start,
        max_ms={c.core: c.max_ms for c in figures.cores},
        total_late_ms={c.core: c.total_late_ms for c in figures.cores},
        late_wakes={c.core: c.late_wakes for c in figures.cores},
        server_cores=server_cores,
    )


def _server_cores_busy(found: Sequence[Interference]) -> float | None:
    """Busy time of the server's cores (all cores when they are shared) / their capacity."""
    for item in found:
        if item.role in ("server", "all") and item.usage.capacity_s > 0:
            return item.usage.busy_s / item.usage.capacity_s
    return None


def judged(
    result: StepResult,
    metrics: K6Metrics,
    found: Sequence[Interference],
    judging: Judging,
    vus: int | None = None,
) -> StepResult:
    """The step with its verdict, against k6's ceiling at the `vus` it drove (default: its
    level); `client_bound` says what the client-bound rule said."""
    ceiling_rps = judging.ceiling_rps(vus or result.level)
    facts = step_facts(
        result, metrics, found, ceiling_rps, judging.concurrency, judging.steal_floor
    )
    facts = replace(facts, steal_floor_words=judging.steal_floor_words)
    lower = judging.previous
    previous = step_facts(lower, concurrency=judging.concurrency) if lower else None
    validity = judge_step(facts, judging.settings, previous)
    return result.model_copy(
        update={
            "validity": validity,
            "client_bound": is_client_bound(validity),
            "client_ceiling_share": round(result.rps / ceiling_rps, 4) if ceiling_rps else None,
        }
    )


def is_client_bound(validity: Validity) -> bool:
    return any(reason.code == "client_bound" for reason in validity.reasons)
