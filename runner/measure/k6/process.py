"""k6 processes: a step's k6 (or its instances, side by side), bounded in time, stopped early
when the server dies.

One k6 process runs two scenarios, `warmup` (not counted) and then `measure` (see options.py).
A command is built (k6_command) apart from its start (a Spawner, spawn_local here), so a
launcher that runs it elsewhere can wrap it.
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

from runner.measure import launch
from runner.measure.k6.script import LOAD_START_MARKER
from runner.measure.k6.segments import Segment
from runner.measure.ports import HOST, free_port

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


@dataclass(frozen=True)
class K6Command:
    """One k6 process, built before anything runs: its argv and the files it needs.

    `spawn_local` writes the files and runs the argv on this machine; another launcher may wrap
    the argv (a remote host), as long as the summary (and the raw output) end up at their paths.
    """

    argv: list[str]
    files: dict[Path, str]  # written before the start: the options
    summary_path: Path
    api_port: int
    raw_path: Path | None = None  # k6's raw samples (`--out csv=`), a split step's instances


# Starts a K6Command with this extra environment on these cores; k6's output on stdout, text.
Spawner = Callable[[K6Command, dict[str, str], list[int] | None], subprocess.Popen[str]]


def k6_command(
    k6_path: Path,
    script: Path,
    options: dict[str, Any],
    work_dir: Path,
    api_port: int,
    segment: Segment | None = None,
    raw_path: Path | None = None,
) -> K6Command:
    """The command of one k6 run: `segment` selects an instance's share of a split step,
    `raw_path` asks for every sample as CSV (what a split step merges its latencies from)."""
    config_path = work_dir / "k6-options.json"
    summary_path = work_dir / "k6-summary.json"
    argv = [str(k6_path), "run", "--quiet", "--no-color", "--config", str(config_path)]
    argv += ["--summary-export", str(summary_path)]
    argv += segment.k6_args() if segment is not None else []
    argv += ["--out", f"csv={raw_path}"] if raw_path is not None else []
    # k6's REST API (live metrics) would listen on localhost:6565, shared by every k6 on the
    # machine: give each run a free loopback port of its own.
    argv += ["--address", f"{HOST}:{api_port}", str(script)]
    files = {config_path: json.dumps(options, indent=2)}
    return K6Command(argv, files, summary_path, api_port, raw_path)


def spawn_local(
    command: K6Command, env: dict[str, str], cpus: list[int] | None
) -> subprocess.Popen[str]:
    """Write the command's files and start it here, on `cpus`, tied to the runner's life."""
    return _start(command, {**os.environ, **env}, cpus)


def spawn_without_user_settings(
    command: K6Command, env: dict[str, str], cpus: list[int] | None
) -> subprocess.Popen[str]:
    """As spawn_local, but without the user's K6_* variables: the runner's own measurements
    (k6's ceiling) must not take a user's k6 settings meant for the steps."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("K6_")}
    return _start(command, {**inherited, **env}, cpus)


def _start(
    command: K6Command, full_env: dict[str, str], cpus: list[int] | None
) -> subprocess.Popen[str]:
    for path, text in command.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for stale in (command.summary_path, command.raw_path):
        if stale is not None:
            stale.unlink(missing_ok=True)
    return launch.spawn(
        command.argv,
        cpus=cpus,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


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
    spawn: Spawner = spawn_local,
) -> K6Run:
    """Run k6 once, bounded by `timeout_s`, and return its summary (None if k6 wrote none).

    `stop_when` is polled while k6 runs; when it returns a reason (the server died), k6 is
    stopped at once and the reason is kept in `K6Run.stopped_because`.
    """
    command = k6_command(k6_path, script, options, work_dir, api_port or free_port())
    spawned = None if on_spawn is None else (lambda _index, pid: on_spawn(pid))
    (run,) = run_k6_instances([command], env, cpus, timeout_s, spawned, stop_when, spawn)
    return run


def run_k6_instances(
    commands: list[K6Command],
    env: dict[str, str],
    cpus: list[int] | None,
    timeout_s: float,
    on_spawn: Callable[[int, int], None] | None = None,
    stop_when: Callable[[], str | None] | None = None,
    spawn: Spawner = spawn_local,
) -> list[K6Run]:
    """Run k6 processes side by side (a split step's instances), bounded by `timeout_s`.

    `on_spawn(index, pid)` follows each start. `stop_when` is polled while any runs; when it
    gives a reason (the server died) or the time is up, every instance is stopped at once and
    the reason is kept in each K6Run.stopped_because.
    """
    processes: list[subprocess.Popen[str]] = []
    readers: list[_OutputReader] = []
    started: list[float] = []
    try:
        for index, command in enumerate(commands):
            started.append(time.time())
            processes.append(spawn(command, env, cpus))
            readers.append(_OutputReader(processes[-1]))
            if on_spawn is not None:
                on_spawn(index, processes[-1].pid)
            readers[-1].start()
        exit_codes, stopped_because = _wait(processes, timeout_s, stop_when)
    finally:
        # An exception here (SIGINT, SIGTERM) must not leave k6 loading the server.
        for process in processes:
            if process.poll() is None:
                launch.stop_group(process, STOP_GRACE_S)
    for reader in readers:
        reader.join(timeout=READER_JOIN_S)
    ended = time.time()
    runs = []
    for command, reader, exit_code, began in zip(
        commands, readers, exit_codes, started, strict=True
    ):
        summary = _read_summary(command.summary_path) if stopped_because is None else None
        runs.append(
            K6Run(
                exit_code,
                summary,
                began,
                ended,
                reader.load_started,
                list(reader.tail),
                stopped_because,
            )
        )
    return runs


def _wait(
    processes: list[subprocess.Popen[str]],
    timeout_s: float,
    stop_when: Callable[[], str | None] | None,
) -> tuple[list[int], str | None]:
    """Wait for every k6; stop them all early when they overstay or `stop_when` gives a reason."""
    deadline = time.monotonic() + timeout_s
    while True:
        running = [process for process in processes if process.poll() is None]
        if not running:
            return [process.wait() for process in processes], None
        try:
            running[0].wait(timeout=WATCH_INTERVAL_S)
            continue
        except subprocess.TimeoutExpired:
            pass
        reason = stop_when() if stop_when is not None else None
        if reason is None and time.monotonic() >= deadline:
            reason = f"k6 did not finish within {timeout_s:g} s"
        if reason is not None:
            return [launch.stop_group(process, STOP_GRACE_S) for process in processes], reason


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
