"""The command line and environment a target's server runs with: the table of server kinds.

A server kind is the module `python -m` runs (also the package the import probe looks for and
the one a user installs). SERVERS is the one source: `Target.server` in runner/config/experiment/ is
`ServerName`, and the model checks a target's settings against the kind's `settings`. To support
another server, add its name to ServerName and its ServerKind (a builder) to SERVERS.

Every builder gives production settings: no access log, no debug, no auto-reload, warnings only.
This module imports the model for its types only, so the model can import the table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from runner.config.experiment import Target

PROJECT_ROOT = Path(__file__).resolve().parents[3]

ServerName = Literal["uvicorn", "gunicorn", "granian", "hypercorn", "daphne"]
# Target keys that become server flags; each kind lists the ones it accepts.
SERVER_SETTINGS = ("threads", "worker_class", "loop", "http", "keep_alive", "interface")


@dataclass(frozen=True)
class ServerKind:
    """How to start one server, and which target settings reach its command line."""

    arguments: Callable[[Target, str, str, int], list[str]]
    settings: frozenset[str]
    multiple_workers: bool = True
    # Appended to the error naming a setting this server does not take.
    hint: str = ""
    # Target keys this server cannot run without.
    required: tuple[str, ...] = ()


def _uvicorn_arguments(target: Target, app: str, host: str, port: int) -> list[str]:
    arguments = [app, "--host", host, "--port", str(port), "--workers", str(target.workers)]
    arguments += ["--no-access-log", "--log-level", "warning"]
    if target.loop:
        arguments += ["--loop", target.loop]
    if target.http:
        arguments += ["--http", target.http]
    if target.keep_alive is not None:
        arguments += ["--timeout-keep-alive", str(target.keep_alive)]
    return arguments


def _gunicorn_arguments(target: Target, app: str, host: str, port: int) -> list[str]:
    arguments = [app, "--bind", f"{host}:{port}", "--workers", str(target.workers)]
    arguments += ["--log-level", "warning"]  # gunicorn writes no access log unless asked
    if target.worker_class:
        arguments += ["--worker-class", target.worker_class]
    if target.threads:
        arguments += ["--threads", str(target.threads)]
    if target.keep_alive is not None:
        arguments += ["--keep-alive", str(target.keep_alive)]
    return arguments


def _granian_arguments(target: Target, app: str, host: str, port: int) -> list[str]:
    assert target.interface is not None  # required by the model
    arguments = [app, "--interface", target.interface, "--host", host, "--port", str(port)]
    arguments += ["--workers", str(target.workers), "--log-level", "warning"]
    arguments += ["--no-access-log", "--no-reload"]
    if target.loop:
        arguments += ["--loop", target.loop]
    return arguments


def _hypercorn_arguments(target: Target, app: str, host: str, port: int) -> list[str]:
    arguments = [app, "--bind", f"{host}:{port}", "--workers", str(target.workers)]
    arguments += ["--log-level", "warning"]  # hypercorn writes no access log unless asked
    if target.keep_alive is not None:
        arguments += ["--keep-alive", str(target.keep_alive)]
    return arguments


def _daphne_arguments(target: Target, app: str, host: str, port: int) -> list[str]:
    # Verbosity 0: warnings only and no access log (daphne logs every request at 1, its default).
    return ["--bind", host, "--port", str(port), "--verbosity", "0", app]


SERVERS: dict[ServerName, ServerKind] = {
    "uvicorn": ServerKind(_uvicorn_arguments, frozenset({"loop", "http", "keep_alive"})),
    "gunicorn": ServerKind(
        _gunicorn_arguments,
        frozenset({"threads", "worker_class", "keep_alive"}),
        hint="under gunicorn the worker class decides (uvicorn_worker.UvicornWorker: auto loop "
        "and http, uvicorn_worker.UvicornH11Worker: asyncio and h11)",
    ),
    "granian": ServerKind(
        _granian_arguments, frozenset({"interface", "loop"}), required=("interface",)
    ),
    "hypercorn": ServerKind(_hypercorn_arguments, frozenset({"keep_alive"})),
    "daphne": ServerKind(_daphne_arguments, frozenset(), multiple_workers=False),
}
if set(SERVERS) != set(get_args(ServerName)):  # the Literal is the table's keys, spelled out
    raise RuntimeError(
        "runner.measure.server.command: ServerName and SERVERS name different servers"
    )


def servers_taking(setting: str) -> list[str]:
    """The server kinds whose command line a target setting reaches."""
    return [name for name, kind in SERVERS.items() if setting in kind.settings]


def server_command(target: Target, host: str, port: int) -> list[str]:
    """The real server command line for a target (production flags: no reload, no access log)."""
    if target.server is None or target.app is None:
        raise ValueError("a `url` target has no server command: the runner does not start it")
    arguments = SERVERS[target.server].arguments(target, target.app, host, port)
    return [sys.executable, "-m", target.server, *arguments, *target.extra_args]


def server_env(target: Target, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runner's environment, the project on PYTHONPATH, `extra` (the database), the target's own."""
    python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(python_path),
        **(extra or {}),
        **target.env,
    }
