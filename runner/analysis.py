"""From stored steps to the facts a report states. Nothing here measures; it only reads results.

Per target and level the repetitions are summarised by their median; with one repetition the
median is the stored value itself, so every table cell can be traced to `results.json`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from runner.model import LevelRange
from runner.store import RunRecord, StepResult

# A lead smaller than this share of the runner-up's throughput is treated as a tie.
MIN_LEAD = 0.05


@dataclass(frozen=True)
class Cell:
    """One target at one level, over its repetitions."""

    target: str
    label: str
    concurrency: int
    runs: int
    rps: float
    error_rate: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    cpu_percent: float
    memory_mib: float
    memory_max_mib: float
    client_bound: bool


@dataclass(frozen=True)
class Winner:
    concurrency: int
    target: str | None
    verdict: str  # what the report prints in the Winner column


@dataclass(frozen=True)
class Analysis:
    targets: list[str]
    labels: dict[str, str]
    levels: list[int]
    cells: dict[tuple[str, int], Cell]
    winners: dict[int, Winner]
    winner_rule: str

    def cell(self, target: str, level: int) -> Cell | None:
        return self.cells.get((target, level))


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def make_cell(steps: list[StepResult]) -> Cell:
    first = steps[0]
    return Cell(
        target=first.target,
        label=first.label,
        concurrency=first.concurrency,
        runs=len(steps),
        rps=_median([s.rps for s in steps]),
        error_rate=_median([s.error_rate for s in steps]),
        latency_avg_ms=_median([s.latency_ms.avg for s in steps]),
        latency_p50_ms=_median([s.latency_ms.p50 for s in steps]),
        latency_p95_ms=_median([s.latency_ms.p95 for s in steps]),
        latency_p99_ms=_median([s.latency_ms.p99 for s in steps]),
        cpu_percent=_median([s.cpu_percent.avg for s in steps]),
        memory_mib=_median([s.memory_mib.avg for s in steps]),
        memory_max_mib=max(s.memory_mib.max for s in steps),
        client_bound=any(s.client_bound for s in steps),
    )


def winner_at(level: int, cells: list[Cell]) -> Winner:
    """Highest median RPS, if its lead over the runner-up is at least MIN_LEAD."""
    if not cells:
        return Winner(level, None, "no data")
    ranked = sorted(cells, key=lambda c: c.rps, reverse=True)
    best = ranked[0]
    if len(ranked) == 1:
        return Winner(level, None, f"only {best.label} measured")
    runner_up = ranked[1]
    lead = (best.rps - runner_up.rps) / runner_up.rps if runner_up.rps > 0 else float("inf")
    if lead < MIN_LEAD:
        return Winner(level, None, f"no clear winner ({best.label} leads by {lead:.1%})")
    provisional = " (provisional: 1 run)" if best.runs < 2 else ""
    return Winner(level, best.target, f"{best.label}, +{lead:.0%}{provisional}")


def analyze(record: RunRecord) -> Analysis:
    experiment = record.experiment
    targets = list(experiment["targets"])
    labels = {name: experiment["targets"][name].get("label") or name for name in targets}
    grouped: dict[tuple[str, int], list[StepResult]] = {}
    for step in record.steps:
        grouped.setdefault((step.target, step.concurrency), []).append(step)
    cells = {key: make_cell(steps) for key, steps in grouped.items()}
    levels = sorted({level for (_t, level) in cells} | set(_planned_levels(experiment)))
    winners = {
        level: winner_at(level, [c for (_t, lv), c in cells.items() if lv == level])
        for level in levels
    }
    rule = (
        "Winner: the target with the highest median throughput at that level, declared only when "
        f"it leads the runner-up by at least {MIN_LEAD:.0%}; with a single repetition the "
        "verdict is provisional, because run-to-run noise has not been measured."
    )
    return Analysis(targets, labels, levels, cells, winners, rule)


def _planned_levels(experiment: dict[str, Any]) -> list[int]:
    return LevelRange.model_validate(experiment["sweep"]["concurrency"]).values()
