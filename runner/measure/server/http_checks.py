"""HTTP checks of a target before any load: it answers at all, then answers each request right."""

from __future__ import annotations

import base64
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from runner.config.experiment import Expect, Request
from runner.errors import TargetError
from runner.measure.ports import HOST
from runner.measure.server.handles import ServerHandle
from runner.records.redact import redact_text

VERIFY_TIMEOUT_S = 10
# A readiness poll waits this long for one answer; a server still starting refuses at once.
POLL_REQUEST_TIMEOUT_S = 2
POLL_INTERVAL_S = 0.05


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
            send(server.base_url, Request(path=path), timeout_s=POLL_REQUEST_TIMEOUT_S)
            return
        except OSError:
            time.sleep(POLL_INTERVAL_S)
    raise TargetError(
        f"Target '{server.name}' did not answer at {redact_text(server.base_url)} within "
        f"{timeout_s:g} s (runner.startup_timeout).",
        server.log_tail(),
    )


def verify_response(server: ServerHandle, request: Request) -> None:
    """The request must get the expected answer before any load is sent."""
    where = f"{request.method} {request.target}"
    try:
        answer = send(server.base_url, request, timeout_s=VERIFY_TIMEOUT_S)
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
        return _schema_problem(parsed, expect.json_schema)
    return None


def _schema_problem(parsed: Any, schema: dict[str, Any]) -> str | None:
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(parsed)
    )
    if error is None:
        return None
    location = "/".join(str(p) for p in error.absolute_path) or "the body"
    return f"JSON body does not fit the expected shape at {location}: {error.message}"
