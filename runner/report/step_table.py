"""The Detailed Results' table of every measured step, and the platform's stalls beside its p99."""

from __future__ import annotations

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.config.experiment import Experiment
from runner.measure.stalls import CoreStalls, StallFigures
from runner.measure.validity import ValiditySettings, withheld_percentiles
from runner.records.results import StepResult
from runner.report.tables import CellValue, Table, percentile

STEP_HEADER = [
    "Rep",
    "Requests",
    "RPS",
    "Err %",
    "avg ms",
    "p50 ms",
    "p90 ms",
    "p95 ms",
    "p99 ms",
    "Stall p99 ms",
    "Stall max ms",
    "p99.9 ms",
    "max ms",
    "CPU avg (% of one core)",
    "CPU max",
    "Mem avg MiB",
    "Mem max MiB",
    "Processes",
    "k6 CPU avg",
    "Valid",
]
# An open-model run adds its target rate and dropped iterations.
FIXED_RATE_STEP_HEADER = ["Target RPS", "Dropped"]
# A percentile the platform's stalls explain: its value stands, marked (see Step validity).
STALLED = "{value} (stalls)"
# Stall figures without a probe (older runs, sampler.stall_interval_ms null, remote hosts).
NO_PROBE = "n/a"

STEPS_NOTE = (
    "Stall p99 and Stall max: the stall probe's lateness on the server's core(s) over the "
    "window (ms; the probe sleeps a fixed interval and records how late it wakes: the "
    "platform's own stalls, whatever the server does). A p99 or p99.9 marked (stalls) is the "
    "platform's: the stall explains it, and no latency verdict uses it (see Step validity)."
)


def validity_cell(s: StepResult) -> str:
    """'yes', 'no' (the Step validity section says why), or 'not judged' (before schema 3)."""
    if s.validity is None:
        return "not judged"
    return "yes" if s.validity.valid else "no"


def server_stalls(figures: StallFigures | None, experiment: Experiment) -> CoreStalls | None:
    """The server's core with the longest stall (every probed core when pinning is off)."""
    if figures is None:
        return None
    pinned = experiment.pinning.server_cpus if experiment.pinning.enabled else None
    cores = [c for c in figures.cores if pinned is None or c.core in pinned]
    return max(cores, key=lambda c: c.max_ms, default=None)


def _stall_cells(s: StepResult, experiment: Experiment) -> list[CellValue]:
    core = server_stalls(s.stalls, experiment)
    if core is None:
        return [NO_PROBE, NO_PROBE]
    return [fmt.ms(core.p99_ms), fmt.ms(core.max_ms)]


def _step_row(s: StepResult, experiment: Experiment, settings: ValiditySettings) -> list[CellValue]:
    lat = s.latency_ms
    stalled = withheld_percentiles(s.validity) if s.validity else {}

    def pct(value: float, p: float) -> str:
        cell = percentile(value, p, s.requests, settings)
        too_few = cell != fmt.ms(value)
        return STALLED.format(value=cell) if p in stalled and not too_few else cell

    row: list[CellValue] = [
        fmt.count(s.level),
        fmt.repetition(s.repetition, s.attempt),
        fmt.count(s.requests),
        fmt.rps(s.rps),
        fmt.percent(s.error_rate),
        fmt.ms(lat.avg),
        pct(lat.p50, 0.5),
        pct(lat.p90, 0.9),
        pct(lat.p95, 0.95),
        pct(lat.p99, 0.99),
        *_stall_cells(s, experiment),
        pct(lat.p99_9, 0.999),
        fmt.ms(lat.max),
        fmt.cpu(s.cpu_percent.avg if s.cpu_percent else None),
        fmt.cpu(s.cpu_percent.max if s.cpu_percent else None),
        fmt.mib(s.memory_mib.avg if s.memory_mib else None),
        fmt.mib(s.memory_mib.max if s.memory_mib else None),
        fmt.count(s.server_processes) if s.server_processes is not None else fmt.NOT_SAMPLED,
        fmt.cpu(s.client_cpu_percent.avg),
        validity_cell(s),
    ]
    if experiment.load.kind.fixed_rate:
        row += [fmt.rps(s.target_rps or 0.0), fmt.count(s.dropped_iterations or 0)]
    return row


def steps_table(analysis: Analysis, steps: list[StepResult], experiment: Experiment) -> Table:
    """One row per measured step of a target (see runner.report.tables.steps_of)."""
    extra = FIXED_RATE_STEP_HEADER if analysis.model.fixed_rate else []
    header = [analysis.level_name, *STEP_HEADER, *extra]
    return Table(header, [_step_row(s, experiment, analysis.validity) for s in steps])
