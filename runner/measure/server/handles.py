"""What a step needs of a target's server, and the two kinds: started by the runner, or not."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runner.measure import launch
from runner.measure.ports import HOST
from runner.records.redact import redact_text

LOG_TAIL_LINES = 20


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
    """A server process the runner started on a loopback port, with its log file."""

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
