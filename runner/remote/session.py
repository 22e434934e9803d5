"""One remote agent, reached with the user's own ssh: requests, answers, streamed samples.

ssh is started through runner.measure.launch like any child: if the runner dies, even by SIGKILL, ssh
gets SIGTERM, the SSH session ends, the agent's stdin closes and it stops everything it started
(runner.remote.agent). A heartbeat every HEARTBEAT_INTERVAL_S also ends the agent if this
machine goes away without closing the connection.
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from runner.config.experiment import Host, Sampler
from runner.errors import SweepbenchError
from runner.measure import launch
from runner.measure.cpu_accounting import CounterReading
from runner.measure.usage import Sample
from runner.remote.clock import ClockOffset, measure_offset
from runner.remote.protocol import PROTOCOL, ProtocolError, decode, encode, sample_from

HEARTBEAT_INTERVAL_S = 5.0
HEARTBEAT_TIMEOUT_S = 30.0  # the agent ends after this long without a word
CALL_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 30.0
# A host's clock offset is measured again, between steps, once it is this old.
CLOCK_MAX_AGE_S = 600.0
LOG_TAIL_LINES = 10
# Always given: never ask for a password. The user's options come next (ssh keeps the first
# value it gets for an option), then these defaults, which notice a dead network.
SSH_FIRST = ["-T", "-o", "BatchMode=yes"]
SSH_DEFAULTS = [
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=3",
]


class RemoteError(SweepbenchError):
    """A request the agent refused or could not answer (its session may have ended)."""


def agent_command(host: Host) -> list[str]:
    """`ssh ... DESTINATION 'cd WORKDIR && exec PYTHON -m runner.remote.agent'`."""
    remote = f"exec {shlex.quote(host.python)} -m runner.remote.agent"
    if host.workdir:
        remote = f"cd {shlex.quote(host.workdir)} && {remote}"
    return ["ssh", *SSH_FIRST, *host.ssh_options, *SSH_DEFAULTS, "--", host.ssh, remote]


class AgentSession:
    """Requests to one agent and their answers; its samples, moved to this machine's clock."""

    def __init__(self, name: str, command: list[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.offset = ClockOffset(0.0, 0.0, 0)
        self._clock_at = time.monotonic()
        self.facts: dict[str, Any] = {}
        self.exited: dict[str, int] = {}  # servers that ended by themselves: exit codes
        self._ids = itertools.count(1)
        self._replies: dict[int, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._write_lock = threading.Lock()
        self._collecting: dict[str, list[Sample]] | None = None
        self._closed = False
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:  # ssh's and the agent's stderr
            self._process = launch.spawn(
                command, cpus=None, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        self._reader = threading.Thread(target=self._read, name=f"agent-{name}", daemon=True)
        self._reader.start()
        threading.Thread(target=self._beat, name=f"heartbeat-{name}", daemon=True).start()

    def greet(self) -> None:
        """Say hello (the agent's facts) and measure the clock offset."""
        self.facts = self.call("hello", heartbeat_s=HEARTBEAT_TIMEOUT_S)
        if self.facts.get("protocol") != PROTOCOL:
            raise RemoteError(
                f"the sweepbench on {self.name} speaks protocol {self.facts.get('protocol')}, "
                f"this one {PROTOCOL}: install the same version there"
            )
        self.measure_clock()

    def measure_clock(self) -> None:
        """The clock offset, NTP-style (runner.remote.clock)."""
        self.offset = measure_offset(lambda: float(self.call("clock")["time"]))
        self._clock_at = time.monotonic()

    def refresh_clock(self, max_age_s: float = CLOCK_MAX_AGE_S) -> None:
        """Measure the offset again once it is older than `max_age_s` (between steps: a
        host's clock may drift over a long run, NTP keeps it to milliseconds an hour)."""
        if time.monotonic() - self._clock_at >= max_age_s:
            self.measure_clock()

    @property
    def open(self) -> bool:
        return not self._closed

    def call(self, op: str, wait_s: float = CALL_TIMEOUT_S, **fields: Any) -> dict[str, Any]:
        """Send a request and wait for its answer; RemoteError if refused or the session ends."""
        request_id = next(self._ids)
        self.send({"id": request_id, "op": op, **fields})
        with self._changed:
            answered = self._changed.wait_for(
                lambda: request_id in self._replies or self._closed, timeout=wait_s
            )
            reply = self._replies.pop(request_id, None)
        if reply is None:
            why = "ended" if answered else f"did not answer within {wait_s:g} s"
            raise RemoteError(f"the session with {self.name} {why}{self._log_tail()}")
        if not reply.get("ok"):
            raise RemoteError(f"{self.name} refused '{op}': {reply.get('error')}")
        return reply

    def send(self, message: dict[str, Any]) -> None:
        """One line to the agent, unanswered (a closed session takes nothing)."""
        stdin = self._process.stdin
        assert stdin is not None
        with self._write_lock:
            try:
                stdin.write(encode(message))
                stdin.flush()
            except (OSError, ValueError):
                self._mark_closed()

    @contextmanager
    def sampling(
        self, server: str | None, settings: Sampler, counters: list[CounterReading] | None = None
    ) -> Iterator[dict[str, list[Sample]]]:
        """The agent samples the server's tree (and k6's, once it runs there) while inside;
        the samples, on this machine's clock, by tree. Given a `counters` list, the host's
        per-core readings of every tick are added to it on the way out (this machine's clock)."""
        collected: dict[str, list[Sample]] = {}
        self._collecting = collected
        try:
            self.call(
                "sample_start",
                server=server,
                interval_s=settings.interval,
                memory_interval_s=settings.memory_interval,
                uss=settings.uss,
                counters=counters is not None,
            )
            yield collected
        finally:
            if self.open:
                stopped = self.call("sample_stop")
                if counters is not None:
                    counters += self._counters(stopped.get("counters") or [])
            self._collecting = None

    def _counters(self, readings: list[list[Any]]) -> list[CounterReading]:
        offset = self.offset.offset_s
        return [
            CounterReading(float(at) - offset, str(text), float(cpu)) for at, text, cpu in readings
        ]

    def close(self) -> None:
        """Ask the agent to stop everything and end; make sure ssh is gone."""
        if self.open:
            with suppress(RemoteError):
                self.call("bye", wait_s=CLOSE_TIMEOUT_S)
        if self._process.stdin is not None:
            with suppress(OSError):  # ssh already gone: what was buffered has nowhere to go
                self._process.stdin.close()
        launch.wait_or_kill(self._process, CLOSE_TIMEOUT_S)
        self._reader.join(timeout=CLOSE_TIMEOUT_S)

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for line in stdout:
            try:
                message = decode(line)
            except ProtocolError:
                continue  # not ours: the remote shell's noise
            self._take(message)
        self._mark_closed()

    def _take(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "sample":
            collecting = self._collecting
            if collecting is not None:
                tree, sample = sample_from(message, self.offset.offset_s)
                collecting.setdefault(tree, []).append(sample)
            return
        with self._changed:
            if event == "exited":
                self.exited[str(message["target"])] = int(message["code"])
            elif isinstance(message.get("id"), int):
                self._replies[message["id"]] = message
            self._changed.notify_all()

    def _mark_closed(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _beat(self) -> None:
        while True:
            with self._changed:
                if self._changed.wait_for(lambda: self._closed, timeout=HEARTBEAT_INTERVAL_S):
                    return
            self.send({"op": "ping"})

    def ended_text(self) -> str:
        """Why the session ended, as ssh said it (a timeout: the host stopped answering)."""
        return f"the SSH session to {self.name} ended{self._log_tail()}"

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        tail = " ".join(lines[-LOG_TAIL_LINES:])
        return f" (ssh said: {tail})" if tail else ""
