"""The remote agent: `python -m runner.remote.agent`, started by the runner over ssh.

It speaks runner.remote.protocol on stdin and stdout and does what runner.remote.agent_work
says. The guarantee: when its stdin closes (the SSH session ended: the runner finished, died,
or lost the network) or the runner's heartbeat stops for `heartbeat_s`, it stops every server
and k6 it started and exits. If the agent itself is killed, its children still go: the launcher
ties each to the agent's life (PR_SET_PDEATHSIG, runner.measure.launch).

Requests are handled one at a time by the main thread (the only one that may start children);
a reader thread answers the clock at once and passes on a request to stop k6 while it runs.
"""

from __future__ import annotations

import os
import platform
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any, BinaryIO, NoReturn

from runner.records.provenance import cpu_model
from runner.remote.agent_work import AgentWork
from runner.remote.protocol import IMMEDIATE_OPS, PROTOCOL, ProtocolError, decode, encode

# An agent that was never greeted ends after this long without a word from the runner.
DEFAULT_HEARTBEAT_S = 60.0
# How often the main thread looks at the heartbeat while no request comes.
IDLE_CHECK_S = 0.5
# Once the session is over, the main thread has this long to stop everything; a main thread
# stuck (writing to a connection that no longer drains) is then cut short by the watchdog.
WATCHDOG_GRACE_S = 10.0


class Agent:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._write_lock = threading.Lock()
        self._requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ended = threading.Event()  # stdin closed, or stdout gone
        self._heard_at = time.monotonic()
        self._heartbeat_s = DEFAULT_HEARTBEAT_S
        self._stop_k6_reason: str | None = None
        self._done = threading.Event()  # everything stopped: the agent is about to exit
        self.work = AgentWork(self.emit, self._k6_stop_reason)
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "hello": self._hello,
            "start": self.work.start,
            "stop": self.work.stop,
            "log_tail": self.work.log_tail,
            "packages": self.work.packages,
            "sample_start": self.work.sample_start,
            "sample_stop": self.work.sample_stop,
            "script": self.work.script,
            "k6": self._k6,
        }

    def emit(self, message: dict[str, Any]) -> None:
        """One line to the runner; a closed stdout means the session is over."""
        if self._ended.is_set():
            return
        with self._write_lock:
            try:
                self._out.write(encode(message))
                self._out.flush()
            except (OSError, ValueError):
                self._ended.set()

    def serve(self, stdin: BinaryIO) -> int:
        """Answer requests until `bye`, the end of stdin or a silent runner; then stop it all."""
        threading.Thread(target=self._read, args=(stdin,), name="stdin", daemon=True).start()
        threading.Thread(target=self._watchdog, name="watchdog", daemon=True).start()
        try:
            while not self._session_over():
                try:
                    message = self._requests.get(timeout=IDLE_CHECK_S)
                except queue.Empty:
                    continue
                if message is None:
                    break
                if message.get("op") == "bye":
                    self.work.close()
                    self._reply(message, {})
                    break
                self._answer(message)
        finally:
            self.work.close()
            self._done.set()
        return 0

    def _watchdog(self) -> None:
        """The host's own guard, apart from the main thread: once the session is over (the
        runner silent for heartbeat_s, or gone), everything must stop within WATCHDOG_GRACE_S;
        if the main thread has not managed, the servers' groups are killed and the agent
        exits (k6 and the servers are tied to its life, runner.measure.launch)."""
        while not self._session_over():
            if self._done.wait(IDLE_CHECK_S):
                return
        if not self._done.wait(WATCHDOG_GRACE_S):
            self.work.kill_all()
            os._exit(1)

    def _session_over(self) -> bool:
        silent_s = time.monotonic() - self._heard_at
        return self._ended.is_set() or silent_s > self._heartbeat_s

    def _read(self, stdin: BinaryIO) -> None:
        for line in stdin:
            self._heard_at = time.monotonic()
            try:
                message = decode(line)
            except ProtocolError as error:
                self.emit({"event": "error", "message": str(error)})
                continue
            op = message.get("op")
            if op in IMMEDIATE_OPS:
                self._immediate(op, message)
            else:
                self._requests.put(message)
        self._ended.set()
        self._requests.put(None)

    def _immediate(self, op: object, message: dict[str, Any]) -> None:
        if op == "clock":
            self._reply(message, {"time": time.time()})
        elif op == "stop_k6":
            self._stop_k6_reason = str(message.get("reason") or "stopped by the runner")

    def _answer(self, message: dict[str, Any]) -> None:
        handler = self._handlers.get(str(message.get("op")))
        if handler is None:
            self._reply(message, error=f"unknown request {message.get('op')!r}")
            return
        try:
            fields = handler(message)
        except Exception as error:  # every failure goes back to the runner, which decides
            detail = "".join(traceback.format_exception_only(error)).strip()
            self._reply(message, error=detail)
            return
        self._reply(message, fields)

    def _reply(
        self, message: dict[str, Any], fields: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        if error:
            self.emit({"id": message.get("id"), "ok": False, "error": error})
        else:
            self.emit({"id": message.get("id"), "ok": True, **(fields or {})})

    def _hello(self, message: dict[str, Any]) -> dict[str, Any]:
        self._heartbeat_s = float(message.get("heartbeat_s", DEFAULT_HEARTBEAT_S))
        return {
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "python": platform.python_version(),
            "executable": sys.executable,
            "cores": len(os.sched_getaffinity(0)),
            "cpus": sorted(os.sched_getaffinity(0)),
            "cpu_model": cpu_model(),
            "hostname": platform.node(),
        }

    def _k6(self, message: dict[str, Any]) -> dict[str, Any]:
        self._stop_k6_reason = None
        return self.work.run_k6(message)

    def _k6_stop_reason(self) -> str | None:
        """Polled while k6 runs: the runner asked, or the session is over."""
        if self._session_over():
            return "the runner's session ended"
        return self._stop_k6_reason


def _exit_cleanly(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # the `finally` in serve() stops everything


def main() -> NoReturn:
    # The protocol owns stdout: anything else printed (a library's warning) goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_cleanly)
    try:
        code = Agent(out).serve(sys.stdin.buffer)
    except SystemExit as stop:  # SIGTERM or SIGHUP, after serve() stopped everything
        code = stop.code if isinstance(stop.code, int) else 1
    # Everything is stopped: leave at once, without waiting on the stdin reader at shutdown.
    out.close()
    os._exit(code)


if __name__ == "__main__":
    main()
