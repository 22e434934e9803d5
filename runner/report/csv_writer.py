"""results.csv: one row per target x level x repetition, flat columns with units in the names."""

from __future__ import annotations

import csv
from pathlib import Path

from runner.store import RunRecord

COLUMNS = [
    "target",
    "label",
    "concurrency",
    "repetition",
    "requests",
    "rps",
    "failed_requests",
    "error_rate",
    "latency_avg_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p99_9_ms",
    "latency_max_ms",
    "cpu_avg_percent_of_one_core",
    "cpu_max_percent_of_one_core",
    "memory_avg_mib",
    "memory_max_mib",
    "server_processes",
    "k6_cpu_avg_percent_of_one_core",
    "client_bound",
    "model",
    "target_rps",
    "dropped_iterations",
    "server_cores",
    "cpu_share_avg_percent_of_server_cores",
    "cpu_share_max_percent_of_server_cores",
    "memory_uss_avg_mib",
    "memory_uss_max_mib",
]


def write_steps(path: Path, record: RunRecord) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for s in record.steps:
            lat = s.latency_ms
            writer.writerow(
                [
                    s.target,
                    s.label,
                    s.concurrency,
                    s.repetition,
                    s.requests,
                    s.rps,
                    s.failed_requests,
                    s.error_rate,
                    lat.avg,
                    lat.p50,
                    lat.p90,
                    lat.p95,
                    lat.p99,
                    lat.p99_9,
                    lat.max,
                    s.cpu_percent.avg,
                    s.cpu_percent.max,
                    s.memory_mib.avg,
                    s.memory_mib.max,
                    s.server_processes,
                    s.client_cpu_percent.avg,
                    s.client_bound,
                    s.model,
                    _blank(s.target_rps),
                    _blank(s.dropped_iterations),
                    _blank(s.server_cores),
                    _blank(s.cpu_share_percent and s.cpu_share_percent.avg),
                    _blank(s.cpu_share_percent and s.cpu_share_percent.max),
                    _blank(s.memory_uss_mib and s.memory_uss_mib.avg),
                    _blank(s.memory_uss_mib and s.memory_uss_mib.max),
                ]
            )
    return path


def _blank(value: float | None) -> float | str:
    """Columns that only some steps have (open model, USS) are blank on the others."""
    return "" if value is None else value
