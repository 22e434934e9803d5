"""results.csv: one row per target x level x repetition, flat columns with units in the names."""

from __future__ import annotations

import csv
from pathlib import Path

from runner.analysis import Analysis
from runner.load_model import load_model
from runner.store import RunRecord

# The level column is named for the run's load model and unit (concurrency_vus or rate_rps).
LEVEL_COLUMN = "{level}"

COLUMNS = [
    "target",
    "label",
    LEVEL_COLUMN,
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


def _header(columns: list[str], level_column: str) -> list[str]:
    return [level_column if name == LEVEL_COLUMN else name for name in columns]


def write_steps(path: Path, record: RunRecord) -> Path:
    model = load_model(record.experiment.get("load", {}).get("model", "closed"))
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(_header(COLUMNS, model.csv_column))
        for s in record.steps:
            lat = s.latency_ms
            writer.writerow(
                [
                    s.target,
                    s.label,
                    s.level,
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
                    # Empty cells for a `url` target, whose server is not sampled.
                    s.cpu_percent.avg if s.cpu_percent else "",
                    s.cpu_percent.max if s.cpu_percent else "",
                    s.memory_mib.avg if s.memory_mib else "",
                    s.memory_mib.max if s.memory_mib else "",
                    s.server_processes if s.server_processes is not None else "",
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


AGGREGATE_COLUMNS = [
    "target",
    "label",
    LEVEL_COLUMN,
    "runs",
    "rps_median",
    "rps_min",
    "rps_max",
    "rps_ci95_low",
    "rps_ci95_high",
    "error_rate_median",
    "latency_p50_ms_median",
    "latency_p95_ms_median",
    "latency_p99_ms_median",
    "cpu_avg_percent_of_one_core_median",
    "memory_max_mib",
    "client_bound",
    "winner_at_level",
]


def write_aggregate(path: Path, analysis: Analysis) -> Path:
    """results_aggregated.csv: one row per target x level, over repetitions."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(_header(AGGREGATE_COLUMNS, analysis.model.csv_column))
        for target in analysis.targets:
            for c in analysis.series(target):
                winner = analysis.winners[c.level].target == target
                writer.writerow(
                    [c.target, c.label, c.level, c.runs, c.rps.median, c.rps.min, c.rps.max]
                    + [_blank(c.rps.ci_low), _blank(c.rps.ci_high), c.error_rate]
                    + [c.latency_p50_ms, c.p95.median, c.p99.median, c.cpu_percent]
                    + [c.memory_max_mib, c.client_bound, winner]
                )
    return path


def _blank(value: float | None) -> float | str:
    """Columns that only some steps have (open model, USS) are blank on the others."""
    return "" if value is None else value
