"""Target lifecycle: start a real server on a free loopback port, check it, stop it for good."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from runner import launch
from runner.errors import TargetError
from runner.model import Expect, Request, Target

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
        if target.loop:
            command += ["--loop", target.loop]
        if target.http:
            command += ["--http", target.http]
        if target.keep_alive is not None:
            command += ["--timeout-keep-alive", str(target.keep_alive)]
    else:
        command = [sys.executable, "-m", "gunicorn", target.app, "--bind", f"{host}:{port}"]
        command += ["--workers", str(target.workers), "--log-level", "warning"]
        if target.worker_class:
            command += ["--worker-class", target.worker_class]
        if target.threads:
            command += ["--threads", str(target.threads)]
        if target.keep_alive is not None:
            command += ["--keep-alive", str(target.keep_alive)]
    return command + list(target.extra_args)


def server_env(target: Target, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runner's environment, the project on PYTHONPATH, `extra` (the database), the target's own."""
    python_path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(python_path),
        **(extra or {}),
        **target.env,
    }


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


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def send(port: int, request: Request, timeout_s: float) -> Answer:
    """One request as the scenario describes it (method, path and query, headers, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        body = request.body_text
        connection.request(
            request.method,
            request.target,
            body=body.encode() if body is not None else None,
            headers=request.all_headers,
        )
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


def _get(port: int, path: str, timeout_s: float) -> Answer:
    return send(port, Request(path=path), timeout_s)


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


def verify_response(server: RunningServer, request: Request) -> None:
    """The request must get the expected answer before any load is sent."""
    where = f"{request.method} {request.target}"
    try:
        answer = send(server.port, request, timeout_s=10)
    except OSError as error:
        raise TargetError(
            f"Target '{server.name}' failed on {where}: {error}", server.log_tail()
        ) from None
    problem = mismatch(answer, request.expect)
    if problem:
        raise TargetError(f"Target '{server.name}' answered {where} wrongly: {problem}.")


def mismatch(answer: Answer, expect: Expect) -> str | None:
    """What is wrong with `answer`, or None when every check of `expect` holds."""
    if answer.status != expect.status:
        return f"status {answer.status}, expected {expect.status}"
    if expect.content_type is not None and not answer.content_type.startswith(expect.content_type):
        return f"Content-Type {answer.content_type!r}, expected {expect.content_type!r}"
    text = answer.body.decode("utf-8", errors="replace")
    if expect.text is not None and text != expect.text:
        return f"body {text[:200]!r}, expected {expect.text!r}"
    if expect.json_body is None and expect.json_schema is None:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return f"body {text[:200]!r} is not JSON"
    if expect.json_body is not None and parsed != expect.json_body:
        return f"JSON body {parsed!r}, expected {expect.json_body!r}"
    if expect.json_schema is not None:
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(expect.json_schema).iter_errors(parsed)
        )
        if error is not None:
            location = "/".join(str(p) for p in error.absolute_path) or "the body"
            return f"JSON body does not fit the expected shape at {location}: {error.message}"
    return None


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
    port = free_port()
    command = server_command(target, HOST, port)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = launch.spawn(
            command, cpus=cpus, env=server_env(target, env), stdout=log, stderr=subprocess.STDOUT
        )
    server = RunningServer(name, process, port, log_path, command)
    try:
        wait_until_answering(server, urlsplit(checks[0].target).path, startup_timeout_s)
        for request in checks:
            verify_response(server, request)
        yield server
    finally:
        launch.stop_group(process, stop_grace_s)
