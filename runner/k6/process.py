"""One k6 process: run it for a step, bounded in time, stopped early when its server dies.

One k6 process runs two scenarios, `warmup` (not counted) and then `measure` (see options.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import launch
from runner.k6.script import LOAD_START_MARKER
from runner.ports import HOST, free_port

# How often a running k6 is checked on (is the server still alive?), and its stop grace.
WATCH_INTERVAL_S = 0.2
STOP_GRACE_S = 3.0
OUTPUT_TAIL_LINES = 40
READER_JOIN_S = 5


@dataclass
class K6Run:
    """What one k6 process left behind."""

    exit_code: int
    summary: dict[str, Any] | None
    started_at: float
    ended_at: float
    load_started_at: float | None
    output_tail: list[str] = field(default_factory=list)
    stopped_because: str | None = None


def run_k6(
    k6_path: Path,
    script: Path,
    options: dict[str, Any],
    env: dict[str, str],
    work_dir: Path,
    cpus: list[int] | None,
    timeout_s: float,
    on_spawn: Callable[[int], None] | None = None,
    api_port: int | None = None,
    stop_when: Callable[[], str | None] | None = None,
) -> K6Run:
    """Run k6 once, bounded by `timeout_s`, and return its summary (None if k6 wrote none).

    `stop_when` is polled while k6 runs; when it returns a reason (the server died), k6 is
    stopped at once and the reason is kept in `K6Run.stopped_because`.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "k6-options.json"
    summary_path = work_dir / "k6-summary.json"
    config_path.write_text(json.dumps(options, indent=2))
    summary_path.unlink(missing_ok=True)
    command = [str(k6_path), "run", "--quiet", "--no-color", "--config", str(config_path)]
    command += ["--summary-export", str(summary_path)]
    # k6's REST API (live metrics) would listen on localhost:6565, shared by every k6 on the
    # machine: give each run a free loopback port of its own.
    command += ["--address", f"{HOST}:{api_port or free_port()}", str(script)]
    started = time.time()
    process = launch.spawn(
        command,
        cpus=cpus,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = _OutputReader(process)
    try:
        if on_spawn is not None:
            on_spawn(process.pid)
        reader.start()
        exit_code, stopped_because = _wait(process, timeout_s, stop_when)
    finally:
        # An exception here (SIGINT, SIGTERM) must not leave k6 loading the server.
        if process.poll() is None:
            launch.stop_group(process, STOP_GRACE_S)
    reader.join(timeout=READER_JOIN_S)
    summary = _read_summary(summary_path) if stopped_because is None else None
    return K6Run(
        exit_code,
        summary,
        started,
        time.time(),
        reader.load_started,
        list(reader.tail),
        stopped_because,
    )


def _wait(
    process: subprocess.Popen[str], timeout_s: float, stop_when: Callable[[], str | None] | None
) -> tuple[int, str | None]:
    """Wait for k6; stop it early when it overstays or `stop_when` gives a reason."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return process.wait(timeout=WATCH_INTERVAL_S), None
        except subprocess.TimeoutExpired:
            pass
        reason = stop_when() if stop_when is not None else None
        if reason is None and time.monotonic() >= deadline:
            reason = f"k6 did not finish within {timeout_s:g} s"
        if reason is not None:
            return launch.stop_group(process, STOP_GRACE_S), reason


def _read_summary(path: Path) -> dict[str, Any] | None:
    """k6's summary export, or None when k6 wrote none or only part of one (a crash)."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


class _OutputReader(threading.Thread):
    """Keeps the tail of k6's output and spots the load-start marker the script prints."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
        self.load_started: float | None = None

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.tail.append(line.rstrip())
            marker = LOAD_START_MARKER.search(line)
            if marker and self.load_started is None:
                self.load_started = int(marker.group(1)) / 1000
