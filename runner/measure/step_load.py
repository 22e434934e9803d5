"""A step's load: its k6 instance(s) run while the sampler watches the server's tree and theirs.

With `load.k6_instances` above 1 the instances run side by side on the client's cores, each
sampled as its own tree; the step's `k6` series is their total (runner.measure.k6.client_trees), so the
client-bound rule weighs all of them against the client cores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil

from runner.config.experiment import Experiment
from runner.measure import k6
from runner.measure.cpu_accounting import CounterReading
from runner.measure.k6.client_trees import with_client_total

# Imported with this module, not on first use (runner.measure.k6): never during a step's load.
from runner.measure.k6.live import live_feed
from runner.measure.sampler import TreeSampler
from runner.measure.server import ServerHandle
from runner.measure.usage import Sample, summarize
from runner.records.results import K6Instance, Stat
from runner.run.plan import Step

# k6 needs a moment to start and to finish in-flight requests after the window closes.
K6_EXTRA_TIME_S = 60.0


class StepWatch(Protocol):
    """Watches a running step through k6's REST API and may end it before its planned end (the
    capacity search's early stop, runner.capacity.watch). The step's window then closes when k6
    was stopped, and its figures cover the time actually run."""

    @property
    def env(self) -> dict[str, str]:
        """Extra environment for the k6 script."""
        ...

    def watching(self, api_ports: Sequence[int]) -> AbstractContextManager[None]:
        """Watch k6 (the REST API of each of its instances, on `api_ports`) while inside."""
        ...

    @property
    def stopped_at(self) -> float | None:
        """Wall-clock time at which the watch stopped k6; None if it let it run."""
        ...


@dataclass(frozen=True)
class StepLoad:
    run: k6.SplitRun
    samples: dict[str, list[Sample]]  # by tree; `k6` is every instance's together
    counters: list[CounterReading]  # the per-core counters of k6's machine
    # A server on another host: that host's counters (its agent's CPU in the runner's place).
    server_counters: list[CounterReading] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """Where a step's server and k6 ran, as its record states it."""

    server_pid: int | None  # on its own host
    server_cores: int | None  # the cores the server may use there; None: unknown
    client_cores: int | None = None  # k6's; None: this machine's client cores


def cores_of(pid: int) -> int | None:
    """How many CPU cores a process may run on (its affinity), None if it is gone."""
    try:
        return len(psutil.Process(pid).cpu_affinity() or [])
    except psutil.Error:
        return None


class Placement(Protocol):
    """How a step's load runs when its server or k6 is on another host (runner.remote.load
    implements it; runner.measure.step only calls it, so the import goes one way)."""

    def load_and_sample(
        self,
        step: Step,
        server: ServerHandle,
        experiment: Experiment,
        k6_path: Path,
        work_dir: Path,
        on_live: Callable[[k6.LiveView], None] | None,
        script: Path,
        watch: StepWatch | None,
    ) -> StepLoad:
        """The step's load and samples, from wherever they ran."""
        ...

    def where(self, server: ServerHandle) -> Where:
        """Where the step's server and k6 ran."""
        ...


def client_cpus(experiment: Experiment) -> list[int] | None:
    """k6's cores (every instance's), None unpinned."""
    return list(experiment.pinning.client_cpus) if experiment.pinning.enabled else None


def sampled_roots(server: ServerHandle) -> dict[str, int]:
    """A server not started by the runner (a `url` target) has no process tree to sample."""
    return {"server": server.pid} if server.pid is not None else {}


def load_and_sample(
    step: Step,
    server: ServerHandle,
    experiment: Experiment,
    k6_path: Path,
    work_dir: Path,
    on_live: Callable[[k6.LiveView], None] | None,
    script: Path,
    watch: StepWatch | None,
) -> StepLoad:
    """Run k6 for the step while the sampler watches the server's tree (if ours) and k6's."""
    load = experiment.load
    options = k6.options_for_step(experiment, step)
    timeout_s = load.warmup_s + load.duration_s + K6_EXTRA_TIME_S
    instances = k6.step_instances(k6_path, script, options, work_dir, load.k6_instances)
    ports = [instance.command.api_port for instance in instances]
    trees = [instance.segment.tree for instance in instances]
    sampling = experiment.sampler
    with (
        TreeSampler(
            sampled_roots(server),
            sampling.interval,
            sampling.memory_interval,
            sampling.uss,
            cpu_counters=True,
        ) as sampler,
        live_feed(ports, sampler, on_live, trees),
        watch.watching(ports) if watch is not None else nullcontext(),
    ):
        run = k6.run_instances(
            instances,
            k6.step_env(server.base_url, experiment, step) | (watch.env if watch else {}),
            client_cpus(experiment),
            timeout_s,
            on_spawn=sampler.track,
            stop_when=lambda: None if server.alive() else "the server exited",
        )
    samples = with_client_total(sampler.samples, trees)
    return StepLoad(run, samples, sampler.counters or [])


def instance_records(
    loaded: StepLoad, metrics: Sequence[k6.K6Metrics], window: tuple[float, float], open_model: bool
) -> list[K6Instance] | None:
    """Each instance's figures over the step's window; None for an unsplit step."""
    run = loaded.run
    if not run.split:
        return None
    start, end = window
    first = run.load_started_at
    records = []
    for instance, k6_run, figures in zip(run.instances, run.runs, metrics, strict=True):
        usage = summarize(loaded.samples.get(instance.segment.tree, []), start, end)
        records.append(
            K6Instance(
                instance=instance.segment.number,
                segment=instance.segment.segment,
                requests=figures.requests,
                rps=round(figures.requests / (end - start), 2),
                failed_requests=figures.failed_requests,
                dropped_iterations=figures.dropped_iterations if open_model else None,
                load_start_offset_s=round((k6_run.load_started_at or k6_run.started_at) - first, 3),
                client_cpu_percent=None
                if usage is None
                else Stat(avg=round(usage.cpu_percent.avg, 2), max=round(usage.cpu_percent.max, 2)),
            )
        )
    return records
