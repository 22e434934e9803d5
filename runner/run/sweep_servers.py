"""A sweep's servers: each target's started (here, on its host, or only checked for a `url`
target) and stopped by the pool (runner.run.server_pool), its timings and command noted; and the
failure recorded when a target's server does not start or dies."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from runner.config.experiment import Experiment
from runner.errors import TargetError
from runner.measure.server import RunningServer, ServerHandle, external_server, running_server
from runner.measure.step import server_cpus
from runner.records.redact import redact_text
from runner.records.results import Failure
from runner.remote.hosts import RemoteHosts
from runner.remote.server import RemoteServer
from runner.run.plan import Step
from runner.run.progress import SweepProgress
from runner.run.server_pool import ServerPool


@dataclass(frozen=True)
class ServerPlaces:
    """Where a run's servers start: its directory (logs), its hosts, the database's environment."""

    run_dir: Path
    hosts: RemoteHosts
    database_env: dict[str, str]


def server_pool(
    experiment: Experiment,
    where: ServerPlaces,
    progress: SweepProgress,
    server_commands: dict[str, list[str]],
    timings: dict[str, dict[str, list[float]]],
) -> ServerPool:
    """The run's servers, each started when its first step needs it; every start and stop
    timed (target_start_s, target_stop_s) and each command kept for the run's provenance."""

    def started(target: str, server: ServerHandle, asked_at: float) -> None:
        _note(timings["target_start_s"], target, asked_at)
        progress.log(f"{experiment.label(target)}: {_server_line(server)}")
        if isinstance(server, RunningServer | RemoteServer):
            server_commands[target] = server.command

    def factory(target: str) -> AbstractContextManager[ServerHandle]:
        progress.target_starting(experiment.label(target))
        return _server_for(target, experiment, where)

    def stopped(target: str, stopping_at: float) -> None:
        _note(timings["target_stop_s"], target, stopping_at)

    return ServerPool(factory, experiment.restart_between_repetitions, started, stopped)


def target_failure(
    target: str, label: str, error: TargetError, remaining: list[Step], started: bool
) -> Failure:
    """The failure of a target's server: at start, or during its first remaining step."""
    failed = remaining[0] if started and remaining else None
    later = len(remaining) - 1 if failed else len(remaining)
    skipped = f" Its {later} {'later ' if failed else ''}step(s) were skipped." if later else ""
    return Failure(
        target=target,
        label=label,
        stage="step" if started else "start",
        level=failed.level if failed else None,
        repetition=failed.repetition if failed else None,
        message=str(error) + skipped,
        log_tail=error.log_tail,
    )


def _server_for(
    name: str, experiment: Experiment, where: ServerPlaces
) -> AbstractContextManager[ServerHandle]:
    """The target's server: started and stopped by us (here or on its host), or (a `url`
    target) only checked."""
    target = experiment.targets[name]
    checks = experiment.scenario.requests
    logs, cpus = where.run_dir / "logs", server_cpus(experiment)
    if target.url is not None:
        return external_server(name, target.url, checks, experiment.runner.startup_timeout)
    if not where.hosts.runs_here(name):
        return where.hosts.server(name, logs, cpus, checks, where.database_env)
    return running_server(
        name,
        target,
        logs,
        cpus,
        checks,
        experiment.runner.startup_timeout,
        experiment.runner.stop_grace,
        env=where.database_env,
    )


def _server_line(server: ServerHandle) -> str:
    if isinstance(server, RemoteServer):
        return f"started on {server.host.name}, pid {server.remote_pid} there, at {server.base_url}"
    if server.pid is None:
        return f"already running at {redact_text(server.base_url)} (not started by sweepbench)"
    return f"started, pid {server.pid}, at {server.base_url}"


def _note(durations: dict[str, list[float]], target: str, since: float) -> None:
    durations.setdefault(target, []).append(round(time.monotonic() - since, 3))
