"""The load of an A/B run: one k6 per server, started paused and kept running, resumed for that
server's blocks and paused between them (k6's REST API, `PATCH /v1/status`), so no block pays
for a k6 start. k6 pauses a started test only under its `externally-controlled` executor: a
closed load, a fixed number of virtual users, each sending its next request when the last is
answered. An open model's arrival rate cannot be paused, so under `--rate` each block starts a
k6 of its own at the rate and stops it at the block's end (RateK6): its start, about a quarter
of a second, is counted in the run's load time.

A block's figures are the change in k6's cumulative counters (`GET /v1/metrics`) between the
end of its warmup and its end: requests, failures, the summed request time and a fine latency
histogram (the script's `sweepbench_latency_b<N>` counters, runner/scripts/sweepbench.js), from
which the percentiles are read to within a bucket (2.2% wide) and interpolated within it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.capacity.watch import bucket_edges, histogram_percentile
from runner.config.experiment.load import Load
from runner.errors import UserError
from runner.measure import launch
from runner.measure.k6.live import read_metrics, set_paused
from runner.measure.k6.script import STANDARD_SCRIPT
from runner.measure.ports import HOST, free_port

# Latency buckets: up to 0.05 ms, then 32 per doubling (2.2% wide) up to about 40 s.
BUCKET_BASE_MS = 0.05
BUCKET_FACTOR = 2 ** (1 / 32)
BUCKET_COUNT = 630
EDGES = bucket_edges(BUCKET_BASE_MS, BUCKET_FACTOR, BUCKET_COUNT)
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
ERROR_COUNTERS = ("status_4xx", "status_5xx", "timeout", "connection_refused", "connection_reset")
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 3.0


@dataclass(frozen=True)
class Counters:
    """k6's cumulative counters at one reading (`at`: time.monotonic())."""

    at: float
    requests: float
    failed: float
    duration_sum_ms: float
    buckets: list[float]


@dataclass(frozen=True)
class BlockFigures:
    """One block's measured window: counts, throughput and latency percentiles (ms)."""

    window_s: float
    requests: int
    failed: int
    avg_ms: float
    percentiles: dict[str, float | None]

    @property
    def rps(self) -> float:
        return self.requests / self.window_s if self.window_s > 0 else 0.0

    @property
    def ok_rps(self) -> float:
        return (self.requests - self.failed) / self.window_s if self.window_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0

    def metric(self, name: str) -> float | None:
        return self.ok_rps if name == "ok_rps" else self.percentiles.get(name)


def block_figures(start: Counters, end: Counters) -> BlockFigures:
    requests = end.requests - start.requests
    counts = [b - a for a, b in zip(start.buckets, end.buckets, strict=True)]
    avg = (end.duration_sum_ms - start.duration_sum_ms) / requests if requests > 0 else 0.0
    return BlockFigures(
        window_s=end.at - start.at,
        requests=round(requests),
        failed=round(end.failed - start.failed),
        avg_ms=avg,
        percentiles={name: histogram_percentile(counts, q, EDGES) for name, q in QUANTILES.items()},
    )


def _counters(samples: dict[str, dict[str, Any]], at: float) -> Counters:
    def count(name: str) -> float:
        return float(samples.get(name, {}).get("count", 0))

    duration = samples.get("http_req_duration", {})
    requests = count("http_reqs")
    return Counters(
        at=at,
        requests=requests,
        failed=sum(count(f"sweepbench_errors_{cause}") for cause in (*ERROR_COUNTERS, "other")),
        # k6's trend gives its mean: times the count of the same reading, its sum.
        duration_sum_ms=float(duration.get("avg", 0.0)) * float(duration.get("count", requests)),
        buckets=[count(f"sweepbench_latency_b{n}") for n in range(BUCKET_COUNT)],
    )


class PausedK6:
    """One k6 process against one server, started with `--paused`; lives for the whole run."""

    def __init__(self, name: str, base_url: str, level: int, run_dir: Path, k6: Path) -> None:
        self.name = name
        self.port = free_port()
        self.dir = run_dir / f"k6-{name}"
        self.env = {
            "SWEEPBENCH_BASE_URL": base_url,
            "SWEEPBENCH_LATENCY_BUCKETS": str(BUCKET_COUNT),
            "SWEEPBENCH_LATENCY_BASE_MS": repr(BUCKET_BASE_MS),
            "SWEEPBENCH_LATENCY_FACTOR": repr(BUCKET_FACTOR),
        }
        self.options = {
            # Named `measure`: the script counts errors and latencies of that scenario only.
            # k6 pauses and resumes only this executor once a test has started.
            "scenarios": {
                "measure": {
                    "executor": "externally-controlled",
                    "vus": level,
                    "maxVUs": level,
                    "duration": "24h",
                }
            },
            "discardResponseBodies": True,
            "noUsageReport": True,
        }
        self.k6 = k6
        self.cpus: list[int] = []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, requests_json: str, cpus: list[int]) -> None:
        self._prepare(requests_json, cpus)
        self._spawn(paused=True)

    def _prepare(self, requests_json: str, cpus: list[int]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "k6-options.json").write_text(json.dumps(self.options, indent=2))
        self.env["SWEEPBENCH_REQUESTS"] = requests_json
        self.cpus = cpus

    def _spawn(self, paused: bool) -> None:
        config = self.dir / "k6-options.json"
        argv = [str(self.k6), "run", *(["--paused"] if paused else []), "--quiet", "--no-color"]
        argv += ["--config", str(config), "--address", f"{HOST}:{self.port}", str(STANDARD_SCRIPT)]
        with (self.dir / "k6.log").open("ab") as log:
            self.process = launch.spawn(
                argv, cpus=self.cpus, env={**os.environ, **self.env}, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            if read_metrics(self.port) is not None:
                return
            time.sleep(0.1)
        tail = (self.dir / "k6.log").read_text(errors="replace")[-1500:]
        raise UserError(f"k6 for the {self.name} did not start (its output: {tail.strip()!r}).")

    def resume(self) -> None:
        self._set_paused(False)

    def pause(self) -> None:
        self._set_paused(True)

    def _set_paused(self, paused: bool) -> None:
        if not set_paused(self.port, paused):
            raise UserError(f"k6 for the {self.name} stopped answering its REST API ({self.dir}).")

    def read(self) -> Counters:
        samples = read_metrics(self.port)
        at = time.monotonic()
        if samples is None:
            raise UserError(f"k6 for the {self.name} stopped answering its REST API ({self.dir}).")
        return _counters(samples, at)

    def stop(self) -> None:
        if self.process is not None:
            launch.stop_group(self.process, STOP_GRACE_S)


class RateK6(PausedK6):
    """The open model's k6 for one side: a fresh k6 per block at the arrival rate, since k6
    cannot pause an arrival rate. Between blocks nothing of it runs."""

    def __init__(
        self, name: str, base_url: str, rate: int, run_dir: Path, k6: Path, block_run_s: float
    ) -> None:
        super().__init__(name, base_url, rate, run_dir, k6)
        # Virtual users as a sweep's open-model step preallocates them (Load.open_vus).
        preallocated, maximum = OPEN_LOAD.open_vus(rate)
        self.options["scenarios"] = {
            "measure": {
                "executor": "constant-arrival-rate",
                "rate": rate,
                "timeUnit": "1s",
                # Longer than a block: the block's end stops it, not the duration.
                "duration": f"{math.ceil(block_run_s) + 30}s",
                "preAllocatedVUs": preallocated,
                "maxVUs": maximum,
            }
        }

    def start(self, requests_json: str, cpus: list[int]) -> None:
        self._prepare(requests_json, cpus)

    def wait_ready(self) -> None:
        """Nothing runs until the first block."""

    def resume(self) -> None:
        self._spawn(paused=False)
        super().wait_ready()

    def pause(self) -> None:
        # The block's counters are read: nothing of this k6 is needed any more.
        if self.process is not None:
            launch.stop_group(self.process, 0.2)
            self.process = None


OPEN_LOAD = Load.model_validate({"model": "open", "duration": "1s"})


def bucket_index(ms: float) -> int:
    """The bucket a latency falls in, as the script counts it (for tests)."""
    above = 0 if ms <= BUCKET_BASE_MS else math.ceil(math.log(ms / BUCKET_BASE_MS, BUCKET_FACTOR))
    return min(above, BUCKET_COUNT - 1)
