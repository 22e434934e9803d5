"""Findings (what the numbers say per target) and recommendations (which target for which goal).

Every sentence carries the numbers it rests on.
"""

from __future__ import annotations

from runner.analysis.cells import Cell
from runner.model import ReportSettings
from runner.results import RunRecord


def target_findings(label: str, series: list[Cell], unit: str) -> list[str]:
    if not series:
        return [f"{label}: no step was measured."]
    peak = max(series, key=lambda c: c.rps.median)
    first, last = series[0], series[-1]
    lines = [f"{label} peaks at {peak.rps.median:,.0f} RPS at {peak.level} {unit}."]
    if len(series) > 1:
        gain = last.rps.median / first.rps.median - 1 if first.rps.median else 0.0
        lines.append(
            f"{label}: from {first.level} to {last.level} {unit}, throughput changes by {gain:+.0%} "
            f"({first.rps.median:,.0f} to {last.rps.median:,.0f} RPS) while p95 goes from "
            f"{first.p95.median:.2f} ms to {last.p95.median:.2f} ms."
        )
    if peak.rps_per_core is not None:
        lines.append(
            f"{label} serves {peak.rps_per_core:,.0f} RPS per core used at its peak "
            f"(server CPU {peak.cpu_percent:.0f}% of one core)."
        )
    memory = _max_memory(series)
    if memory is None:
        lines.append(f"{label} was not started by sweepbench: its CPU and memory were not sampled.")
    else:
        lines.append(f"{label} holds at most {memory:.1f} MiB resident (RSS, whole process tree).")
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
    listing = ", ".join(f"{labels[t]} {values[t]:,.2f} {unit}" for t in ranked)
    if gap < settings.min_effect:
        return f"For {goal}, no target stands out (within {settings.min_effect:.0%}): {listing}."
    return f"For {goal}, prefer {labels[best]} ({gap:.0%} better than {labels[second]}): {listing}."


def client_findings(record: RunRecord) -> list[str]:
    bound = [s for s in record.steps if s.client_bound]
    if not bound:
        return []
    where = ", ".join(f"{s.label} at {s.level}" for s in bound)
    return [
        f"k6 used at least 90% of its cores in {len(bound)} step(s) ({where}): those throughput "
        "figures measure the load generator, not the server."
    ]


def failure_findings(record: RunRecord) -> list[str]:
    return [
        f"{f.label} failed"
        + (f" at {f.level}" if f.level is not None else " to start")
        + f": {f.message}"
        for f in record.failures
    ]
