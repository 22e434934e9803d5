"""A target's server for one session of steps: started, checked, and stopped for good on exit.

A `url` target is a server that is already running: it is checked the same way before any
load, but never started or stopped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from runner.config.experiment import Request, Target
from runner.measure import launch
from runner.measure.ports import HOST, check_port_free, free_port
from runner.measure.server.command import server_command, server_env
from runner.measure.server.handles import ExternalServer, RunningServer, ServerHandle
from runner.measure.server.http_checks import verify_response, wait_until_answering
from runner.records.redact import redact_file


@contextmanager
def running_server(
    name: str,
    target: Target,
    log_dir: Path,
    cpus: list[int] | None,
    checks: Sequence[Request],
    startup_timeout_s: float,
    stop_grace_s: float,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """A started server that answered every check; stopped (with every process it forked) on exit.

    `env` adds to the server's environment (the database URL), without showing on its
    command line.
    """
    if target.port is not None:
        check_port_free(name, target.port)
    port = target.port or free_port()
    command = server_command(target, HOST, port)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = launch.spawn(
            command, cpus=cpus, env=server_env(target, env), stdout=log, stderr=subprocess.STDOUT
        )
    server = RunningServer(name, process, port, log_path, command)
    try:
        check_answers(server, checks, startup_timeout_s)
        yield server
    finally:
        launch.stop_group(process, stop_grace_s)
        redact_file(log_path)


@contextmanager
def external_server(
    name: str, url: str, checks: Sequence[Request], timeout_s: float
) -> Iterator[ExternalServer]:
    """A `url` target, checked like a started one before any load; left running on exit."""
    server = ExternalServer(name, url)
    check_answers(server, checks, timeout_s)
    yield server


def check_answers(server: ServerHandle, checks: Sequence[Request], timeout_s: float) -> None:
    """The server answers at all (within `timeout_s`), then answers every check as expected."""
    wait_until_answering(server, urlsplit(checks[0].target).path, timeout_s)
    for request in checks:
        verify_response(server, request)
