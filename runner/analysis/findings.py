"""Findings (what the numbers say per target) and recommendations (which target for which goal).

Every sentence carries the numbers it rests on.
"""

from __future__ import annotations

from runner.analysis.cells import Cell
from runner.model import ReportSettings
from runner.report import formatting as fmt
from runner.results import RunRecord


def target_findings(label: str, series: list[Cell], unit: str) -> list[str]:
    if not series:
        return [f"{label}: no step was measured."]
    peak = max(series, key=lambda c: c.rps.median)
    first, last = series[0], series[-1]
    lines = [f"{label} peaks at {fmt.rps(peak.rps.median)} RPS at {fmt.count(peak.level)} {unit}."]
    if len(series) > 1:
        gain = last.rps.median / first.rps.median - 1 if first.rps.median else 0.0
        lines.append(
            f"{label}: from {fmt.count(first.level)} to {fmt.count(last.level)} {unit}, "
            f"throughput changes by {fmt.change(gain)} ({fmt.rps(first.rps.median)} to "
            f"{fmt.rps(last.rps.median)} RPS) while p95 goes from {fmt.ms(first.p95.median)} ms "
            f"to {fmt.ms(last.p95.median)} ms."
        )
    if peak.rps_per_core is not None:
        lines.append(
            f"{label} serves {fmt.rps(peak.rps_per_core)} RPS per core used at its peak "
            f"(server CPU {fmt.cpu(peak.cpu_percent)} of one core)."
        )
    memory = _max_memory(series)
    if memory is None:
        lines.append(f"{label} was not started by sweepbench: its CPU and memory were not sampled.")
    else:
        lines.append(
            f"{label} holds at most {fmt.mib(memory)} MiB resident (RSS, whole process tree)."
        )
    return lines


def _max_memory(series: list[Cell]) -> float | None:
    """Max RSS over a target's levels; None for a `url` target (not sampled)."""
    values = [c.memory_max_mib for c in series]
    return None if any(v is None for v in values) else max(v for v in values if v is not None)


def comparison_findings(
    analysis_cells: dict[str, list[Cell]], labels: dict[str, str], settings: ReportSettings
) -> list[str]:
    """Which target to prefer for which goal, only where the gap is at least min_effect."""
    measured = {t: s for t, s in analysis_cells.items() if s}
    if len(measured) < 2:
        return []
    lines = []
    goals: list[tuple[str, dict[str, float], bool, str]] = [
        (
            "peak throughput",
            {t: max(c.rps.median for c in s) for t, s in measured.items()},
            True,
            "RPS",
        ),
        (
            "p95 latency at the lowest level",
            {t: s[0].p95.median for t, s in measured.items()},
            False,
            "ms",
        ),
    ]
    memory = {t: m for t, s in measured.items() if (m := _max_memory(s)) is not None}
    if len(memory) == len(measured):
        goals.append(("memory (max RSS)", memory, False, "MiB"))
    efficiency = {
        t: max(c.rps_per_core for c in s if c.rps_per_core is not None)
        for t, s in measured.items()
        if any(c.rps_per_core is not None for c in s)
    }
    if len(efficiency) == len(measured):
        goals.append(("efficiency (RPS per core used)", efficiency, True, "RPS/core"))
    for goal, values, higher_is_better, unit in goals:
        lines.append(_preference(goal, values, higher_is_better, unit, labels, settings))
    bound = [labels[t] for t, s in measured.items() if any(c.client_bound for c in s)]
    if bound:
        lines.append(
            f"k6 was the bottleneck in some steps of {', '.join(bound)}: their throughput there is "
            "a floor, and the gaps above may understate how much faster they are."
        )
    return lines


def _preference(
    goal: str,
    values: dict[str, float],
    higher_is_better: bool,
    unit: str,
    labels: dict[str, str],
    settings: ReportSettings,
) -> str:
    ranked = sorted(values, key=lambda t: values[t], reverse=higher_is_better)
    best, second = ranked[0], ranked[1]
    a, b = values[best], values[second]
    gap = (a / b - 1) if higher_is_better else (b / a - 1 if a > 0 else 0.0)
    listing = ", ".join(f"{labels[t]} {UNIT_FORMATS[unit](values[t])} {unit}" for t in ranked)
    if gap < settings.min_effect:
        return (
            f"For {goal}, no target stands out (within {fmt.setting_percent(settings.min_effect)}):"
            f" {listing}."
        )
    better = fmt.change(gap, signed=False)
    return f"For {goal}, prefer {labels[best]}, {better} better than {labels[second]}: {listing}."


# Each figure a recommendation lists, in the report's number style.
UNIT_FORMATS = {"RPS": fmt.rps, "ms": fmt.ms, "MiB": fmt.mib, "RPS/core": fmt.rps}


def client_findings(record: RunRecord) -> list[str]:
    bound = [s for s in record.steps if s.client_bound]
    if not bound:
        return []
    unit = record.experiment.load.kind.unit
    where = ", ".join(f"{s.label} at {fmt.count(s.level)} {unit}" for s in bound)
    return [
        f"k6 used at least 90% of its cores in {len(bound)} step(s) ({where}): those throughput "
        "figures measure the load generator, not the server."
    ]


def failure_findings(record: RunRecord) -> list[str]:
    unit = record.experiment.load.kind.unit
    return [
        f"{f.label} failed"
        + (f" at {fmt.count(f.level)} {unit}" if f.level is not None else " to start")
        + f": {f.message}"
        for f in record.failures
    ]
