"""Target lifecycle: start a real server on a free loopback port, check it, stop it for good."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import launch
from runner.errors import TargetError
from runner.model import Expect, Target

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_TAIL_LINES = 20


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_command(target: Target, host: str, port: int) -> list[str]:
    """The real server command line for a target (production flags: no reload, no access log)."""
    if target.server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", target.app, "--host", host, "--port", str(port)]
        command += ["--workers", str(target.workers), "--no-access-log", "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "gunicorn", target.app, "--bind", f"{host}:{port}"]
        command += ["--workers", str(target.workers), "--log-level", "warning"]
        if target.worker_class:
            command += ["--worker-class", target.worker_class]
        if target.threads:
            command += ["--threads", str(target.threads)]
    return command + list(target.extra_args)


def server_env(target: Target) -> dict[str, str]:
    python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(python_path), **target.env}


@dataclass
class RunningServer:
    name: str
    process: subprocess.Popen[Any]
    port: int
    log_path: Path
    command: list[str]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _get(port: int, path: str, timeout_s: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_answering(server: RunningServer, path: str, timeout_s: float) -> None:
    """Poll until the server answers HTTP at all (any status), bounded by `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise TargetError(
                f"Target '{server.name}' exited during start-up "
                f"(exit code {server.process.returncode}).",
                server.log_tail(),
            )
        try:
            _get(server.port, path, timeout_s=2)
            return
        except OSError:
            time.sleep(0.05)
    raise TargetError(
        f"Target '{server.name}' did not answer on port {server.port} within {timeout_s:g} s.",
        server.log_tail(),
    )


def verify_response(server: RunningServer, path: str, expect: Expect) -> None:
    """The endpoint must answer the expected status and body before any load is sent."""
    try:
        status, body = _get(server.port, path, timeout_s=10)
    except OSError as error:
        raise TargetError(
            f"Target '{server.name}' failed on {path}: {error}", server.log_tail()
        ) from None
    problem = _mismatch(status, body, expect)
    if problem:
        raise TargetError(f"Target '{server.name}' answered {path} wrongly: {problem}.")


def _mismatch(status: int, body: bytes, expect: Expect) -> str | None:
    if status != expect.status:
        return f"status {status}, expected {expect.status}"
    text = body.decode("utf-8", errors="replace")
    if expect.text is not None and text != expect.text:
        return f"body {text[:200]!r}, expected {expect.text!r}"
    if expect.json_body is not None:
        try:
            parsed = json.loads(text)
        except ValueError:
            return f"body {text[:200]!r} is not JSON"
        if parsed != expect.json_body:
            return f"JSON body {parsed!r}, expected {expect.json_body!r}"
    return None


@contextmanager
def running_server(
    name: str,
    target: Target,
    log_dir: Path,
    cpus: list[int] | None,
    endpoint: str,
    expect: Expect,
    startup_timeout_s: float,
    stop_grace_s: float,
) -> Iterator[RunningServer]:
    """A started, verified server; stopped (with every process it forked) on exit."""
    port = free_port()
    command = server_command(target, HOST, port)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = launch.spawn(
            command, cpus=cpus, env=server_env(target), stdout=log, stderr=subprocess.STDOUT
        )
    server = RunningServer(name, process, port, log_path, command)
    try:
        wait_until_answering(server, endpoint, startup_timeout_s)
        verify_response(server, endpoint, expect)
        yield server
    finally:
        launch.stop_group(process, stop_grace_s)
