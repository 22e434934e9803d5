"""Target lifecycle: start a real server on a loopback port, check it, stop it for good.

A `url` target is a server that is already running: it is checked the same way before any
load, but never started or stopped.
"""

from __future__ import annotations

import base64
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
from typing import Any, Protocol
from urllib.parse import urlsplit

import jsonschema
import psutil

from runner import launch
from runner.errors import TargetError, UserError
from runner.model import Expect, Experiment, Request, Target
from runner.redact import redact_file, redact_text

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_TAIL_LINES = 20


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(name: str, port: int) -> None:
    """A fixed port must be free before the server starts: otherwise the readiness check
    could be answered by whatever already listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise TargetError(
                f"Target '{name}' cannot start: port {port} on {HOST} is already in use "
                f"({error.strerror}{_port_holder(port)}). Choose another 'targets.{name}.port' "
                "or stop what listens there."
            ) from None


def _port_holder(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            listening = conn.status == psutil.CONN_LISTEN and conn.laddr
            if listening and conn.laddr.port == port and conn.pid:
                return f"; held by pid {conn.pid} ({psutil.Process(conn.pid).name()})"
    except psutil.Error:
        pass
    return ""


# Run with the target's own interpreter and environment: is each module there at all?
_FIND_MODULES = """
import importlib.util, sys
for name in sys.argv[1:]:
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        found = False
    except Exception:
        found = True  # there, but its package fails on import: a start-up failure, with its log
    if not found:
        print(name)
"""


def check_importable(experiment: Experiment) -> None:
    """Every started target's server and app module must exist, before anything starts.

    Only existence is checked (no import, so no side effects): an attribute missing from the
    module or an app that fails on import is a start-up failure of that target, with its log.
    """
    for name, target in experiment.targets.items():
        if target.app is None or target.server is None:
            continue
        app_module = target.app.split(":", 1)[0]
        try:
            probe = subprocess.run(
                [sys.executable, "-c", _FIND_MODULES, target.server, app_module],
                env=server_env(target),
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise UserError(f"Could not check the modules of target '{name}': {error}") from None
        missing = probe.stdout.split()
        if target.server in missing:
            raise UserError(
                f"'targets.{name}.server' is {target.server}, which is not installed for "
                f"{sys.executable}. Install it with `pip install {target.server}`."
            )
        if app_module in missing:
            raise UserError(
                f"'targets.{name}.app' is {target.app!r}, but there is no module "
                f"'{app_module}' on the target's Python path ({PROJECT_ROOT}, then PYTHONPATH "
                "and the installed packages). Check the spelling of the module path."
            )


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


class ServerHandle(Protocol):
    """What a step needs of a target's server, whether the runner started it or not."""

    name: str

    @property
    def base_url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def alive(self) -> bool: ...

    def exit_description(self) -> str: ...

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str: ...


@dataclass
class ExternalServer:
    """A `url` target: already running, not ours to sample, start or stop."""

    name: str
    base_url: str
    pid: None = None

    def alive(self) -> bool:
        return True  # unknowable; a server that went away shows up as failed requests

    def exit_description(self) -> str:
        return "not started by sweepbench"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return ""


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

    def exit_description(self) -> str:
        return launch.describe_exit(self.process.poll())

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return redact_text("\n".join(text.splitlines()[-lines:]))


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def send(where: int | str, request: Request, timeout_s: float) -> Answer:
    """One request as the scenario describes it (method, path and query, headers, body).

    `where` is a port on 127.0.0.1, or the base URL of a `url` target.
    """
    url = urlsplit(where if isinstance(where, str) else f"http://{HOST}:{where}")
    connection_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(url.hostname or HOST, url.port, timeout=timeout_s)
    headers = dict(request.all_headers)
    if url.username is not None:  # credentials in a `url` target, sent as k6 sends them
        token = f"{url.username}:{url.password or ''}".encode()
        headers.setdefault("Authorization", "Basic " + base64.b64encode(token).decode())
    try:
        body = request.body_text
        connection.request(
            request.method,
            url.path.rstrip("/") + request.target,
            body=body.encode() if body is not None else None,
            headers=headers,
        )
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


def _get(where: int | str, path: str, timeout_s: float) -> Answer:
    return send(where, Request(path=path), timeout_s)


def wait_until_answering(server: ServerHandle, path: str, timeout_s: float) -> None:
    """Poll until the server answers HTTP at all (any status), bounded by `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise TargetError(
                f"Target '{server.name}' exited during start-up ({server.exit_description()}).",
                server.log_tail(),
            )
        try:
            _get(server.base_url, path, timeout_s=2)
            return
        except OSError:
            time.sleep(0.05)
    raise TargetError(
        f"Target '{server.name}' did not answer at {redact_text(server.base_url)} within "
        f"{timeout_s:g} s (runner.startup_timeout).",
        server.log_tail(),
    )


def verify_response(server: ServerHandle, request: Request) -> None:
    """The request must get the expected answer before any load is sent."""
    where = f"{request.method} {request.target}"
    try:
        answer = send(server.base_url, request, timeout_s=10)
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
        wait_until_answering(server, urlsplit(checks[0].target).path, startup_timeout_s)
        for request in checks:
            verify_response(server, request)
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
    wait_until_answering(server, urlsplit(checks[0].target).path, timeout_s)
    for request in checks:
        verify_response(server, request)
    yield server
