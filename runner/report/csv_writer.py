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
                ]
            )
    return path
