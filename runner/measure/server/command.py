"""The command line and environment a target's server runs with: one argument builder per server.

Which servers exist and which target settings each takes is config data
(runner.config.experiment.servers); ARGUMENTS holds, for each of them, how its command line is
built. Every builder gives production settings: no access log, no debug, no auto-reload,
warnings only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import get_args

from runner.config.experiment.servers import SERVERS, ServerName
from runner.config.experiment.targets import Target

__all__ = ["ARGUMENTS", "PROJECT_ROOT", "SERVERS", "server_command", "server_env"]

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# A builder's arguments: the target, its app's import path, the address and the port.
Builder = Callable[[Target, str, str, int], list[str]]


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


ARGUMENTS: dict[ServerName, Builder] = {
    "uvicorn": _uvicorn_arguments,
    "gunicorn": _gunicorn_arguments,
    "granian": _granian_arguments,
    "hypercorn": _hypercorn_arguments,
    "daphne": _daphne_arguments,
}
if set(ARGUMENTS) != set(get_args(ServerName)):  # one builder for every server kind
    raise RuntimeError("runner.measure.server.command: a server kind has no argument builder")


def server_command(target: Target, host: str, port: int) -> list[str]:
    """The real server command line for a target (production flags: no reload, no access log)."""
    if target.server is None or target.app is None:
        raise ValueError("a `url` target has no server command: the runner does not start it")
    arguments = ARGUMENTS[target.server](target, target.app, host, port)
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
