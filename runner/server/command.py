"""The command line and environment a target's server runs with, one builder per server kind.

A server kind is the module `python -m` runs (also the package the import probe looks for and
the one a user installs). To support another server, write its builder and add it to
SERVER_ARGUMENTS (and to `Target.server` in runner/model.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from runner.model import Target

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


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


# Server kind -> its arguments after `python -m <kind>` (the target's extra_args come last).
SERVER_ARGUMENTS: dict[str, Callable[[Target, str, str, int], list[str]]] = {
    "uvicorn": _uvicorn_arguments,
    "gunicorn": _gunicorn_arguments,
}


def server_command(target: Target, host: str, port: int) -> list[str]:
    """The real server command line for a target (production flags: no reload, no access log)."""
    if target.server is None or target.app is None:
        raise ValueError("a `url` target has no server command: the runner does not start it")
    arguments = SERVER_ARGUMENTS[target.server](target, target.app, host, port)
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
