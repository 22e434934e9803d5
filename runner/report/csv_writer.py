"""The CSV files: tables of raw numbers, flat columns with units in the names.

results.csv has one row per target x level x repetition, results_aggregated.csv one per target x
level; `write_table` is the one CSV writer (the matrix report uses it too). Blank cells: values
that only some steps have (open model, USS) or that were not sampled (a `url` target).
"""

from __future__ import annotations

import csv
from pathlib import Path

from runner.analysis import Analysis
from runner.config.experiment import Experiment
from runner.records.results import RunRecord, Stat, StepResult
from runner.report.step_table import server_stalls
from runner.report.tables import CellValue, Table

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
    "latency_p75_ms",
    "latency_p99_99_ms",
    "client_ceiling_share",
    "valid",
    "invalid_because",
    "stall_p99_ms",
    "stall_max_ms",
    "stall_total_late_ms",
    "stall_interval_ms",
]


def _header(columns: list[str], level_column: str) -> list[str]:
    return [level_column if name == LEVEL_COLUMN else name for name in columns]


def _avg(stat: Stat | None) -> float | None:
    return stat.avg if stat else None


def _max(stat: Stat | None) -> float | None:
    return stat.max if stat else None


def _step_row(s: StepResult, experiment: Experiment) -> list[CellValue]:
    lat = s.latency_ms
    return [
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
        _avg(s.cpu_percent),
        _max(s.cpu_percent),
        _avg(s.memory_mib),
        _max(s.memory_mib),
        s.server_processes,
        s.client_cpu_percent.avg,
        s.client_bound,
        s.model,
        s.target_rps,
        s.dropped_iterations,
        s.server_cores,
        _avg(s.cpu_share_percent),
        _max(s.cpu_share_percent),
        _avg(s.memory_uss_mib),
        _max(s.memory_uss_mib),
        lat.p75,
        lat.p99_99,
        s.client_ceiling_share,
        None if s.validity is None else s.validity.valid,
        _invalid_because(s),
        *_stall_figures(s, experiment),
    ]


def _stall_figures(s: StepResult, experiment: Experiment) -> list[CellValue]:
    """The server's core's stall p99, max and total time late (ms), the probe's interval."""
    core = server_stalls(s.stalls, experiment)
    if core is None or s.stalls is None:
        return [None] * 4
    return [core.p99_ms, core.max_ms, core.total_late_ms, s.stalls.interval_ms]


def _invalid_because(s: StepResult) -> str | None:
    """The reason codes that invalidate the step, `;`-separated (blank: valid or not judged)."""
    if s.validity is None or s.validity.valid:
        return None
    return ";".join(dict.fromkeys(r.code for r in s.validity.reasons if r.invalidates))


def steps_table(record: RunRecord) -> Table:
    header = _header(COLUMNS, record.experiment.load.kind.csv_column)
    return Table(header, [_step_row(s, record.experiment) for s in record.steps])


def write_steps(path: Path, record: RunRecord) -> Path:
    return write_table(path, steps_table(record))


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


def aggregate_table(analysis: Analysis) -> Table:
    """One row per target x level, over repetitions."""
    rows: list[list[CellValue]] = []
    for target in analysis.targets:
        for c in analysis.series(target):
            winner = analysis.winners[c.level].target == target
            row: list[CellValue] = [c.target, c.label, c.level, c.runs, c.rps.median]
            row += [c.rps.min, c.rps.max, c.rps.ci_low, c.rps.ci_high, c.error_rate]
            row += [c.latency_p50_ms, c.p95.median, c.p99.median, c.cpu_percent]
            rows.append([*row, c.memory_max_mib, c.client_bound, winner])
    return Table(_header(AGGREGATE_COLUMNS, analysis.model.csv_column), rows)


def write_aggregate(path: Path, analysis: Analysis) -> Path:
    return write_table(path, aggregate_table(analysis))


def write_table(path: Path, table: Table) -> Path:
    """A table as CSV; None becomes a blank cell (the csv module's own rule)."""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(table.header)
        writer.writerows(table.rows)
    return path
