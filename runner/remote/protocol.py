"""The JSON lines the runner and a remote agent exchange over the agent's stdin and stdout.

The runner sends requests, one JSON object a line: `{"id": 7, "op": "start", ...}`. The agent
answers each with a reply carrying the same id, `{"id": 7, "ok": true, ...}` or
`{"id": 7, "ok": false, "error": "why"}`, and sends events of its own at any time, without an
id: `{"event": "sample", ...}` (a sample of a process tree, on the agent's clock) and
`{"event": "exited", "target": ..., "code": ...}` (a server ended by itself).

Requests (the agent's answer after the arrow):
  hello {heartbeat_s}            -> protocol, pid, python, cores, cpus, cpu_model; the agent exits
                                    when it hears nothing for heartbeat_s
  clock                          -> time: the agent's time.time(), answered at once
  ping                           (no answer: the heartbeat)
  start {target, spec, address, port, cpus, env}  -> pid, port, command, cores
  stop {target, grace_s}         -> code, log (the server's whole log)
  log_tail {target, lines}       -> text
  packages {targets}             -> packages: per target, the distributions it loads there
  sample_start {server, interval_s, memory_interval_s, uss}  -> (nothing more)
  sample_stop                    -> (nothing more; every sample was sent before this answer)
  script {data}                  -> path: a k6 archive (base64) kept for the session
  k6 {options, env, cpus, timeout_s, segment?}  -> the K6Run fields (agent's clock), cores;
                                    with segment [index, count] that share of the step, and
                                    raw: its raw samples (gzipped CSV, base64)
  stop_k6 {reason}               (no answer: the k6 run answers, stopped with this reason)
  bye                            -> stops every server and k6, then the agent exits
Closing the agent's stdin (the SSH session ended) does what `bye` does.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from runner.errors import SweepbenchError
from runner.measure.usage import Sample

PROTOCOL = 2
# Requests the agent's stdin reader answers or acts on itself, without waiting for the one
# in progress (a k6 run): the clock must answer fast, and stopping k6 must reach it.
IMMEDIATE_OPS = frozenset({"clock", "ping", "stop_k6"})


class ProtocolError(SweepbenchError):
    """A line that is not one of the protocol's messages."""


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def decode(line: bytes | str) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError:
        raise ProtocolError(f"not a JSON line: {_shown(line)}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {_shown(line)}")
    return message


def _shown(line: bytes | str) -> str:
    text = line.decode(errors="replace") if isinstance(line, bytes) else line
    return repr(text.strip()[:200])


def sample_message(tree: str, sample: Sample) -> dict[str, Any]:
    """A sample of the tree `tree` ("server" or "k6"), on the sender's clock."""
    return {"event": "sample", "tree": tree, **dataclasses.asdict(sample)}


_SAMPLE_FIELDS = {field.name for field in dataclasses.fields(Sample)}


def sample_from(message: dict[str, Any], offset_s: float) -> tuple[str, Sample]:
    """The tree and the sample, its time moved to this machine's clock (offset: remote - local)."""
    fields = {key: value for key, value in message.items() if key in _SAMPLE_FIELDS}
    try:
        sample = Sample(**fields)
    except TypeError as error:
        raise ProtocolError(f"a sample without its fields: {error}") from None
    return str(message["tree"]), dataclasses.replace(sample, at=sample.at - offset_s)
