"""What a sweep measures of the platform itself: this machine's steal floor at the run's start,
and the stall probe (runner.measure.stalls) on the measured cores around the steps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from runner.config.experiment import Experiment, k6_hosts, server_host
from runner.measure.stalls import StallProbe
from runner.measure.steal_floor import StealFloor, measure_steal_floor
from runner.records.store import load_run
from runner.run.preflight import AVAILABLE_CPUS


def measured_cores(experiment: Experiment) -> list[int]:
    """The server's and k6's pinned cores; every core the runner may use when pinning is off."""
    pinning = experiment.pinning
    if not pinning.enabled:
        return sorted(AVAILABLE_CPUS)
    return sorted(set(pinning.server_cpus) | set(pinning.client_cpus))


def all_here(experiment: Experiment) -> bool:
    """Every server and k6 on this machine: only then do its cores' figures describe the steps."""
    remote_server = any(server_host(experiment, t) for t in experiment.targets)
    return not remote_server and not k6_hosts(experiment)


def steal_floor(experiment: Experiment, run_dir: Path, resumed: bool) -> StealFloor | None:
    """This machine's steal with nothing of ours running (call it holding the machine lock,
    before anything starts); a resumed run keeps the floor its first steps were judged by;
    None when no rule would read it."""
    if resumed:
        return load_run(run_dir).provenance.steal_floor
    # No steal limit (max_steal 100%): no rule reads a floor, so the run does not wait for one.
    if experiment.validity.max_steal >= 1.0 or not all_here(experiment):
        return None
    return measure_steal_floor(measured_cores(experiment))


@contextlib.contextmanager
def stall_probe(experiment: Experiment) -> Iterator[StallProbe | None]:
    """The probe on the measured cores for the steps' duration (enter from the main thread);
    None when `sampler.stall_interval_ms` is null or something runs on another host."""
    interval = experiment.sampler.stall_interval_ms
    if interval is None or not all_here(experiment):
        yield None
        return
    with StallProbe(measured_cores(experiment), interval_ms=interval) as probe:
        probe.wait_started()
        yield probe
