"""Findings (what the numbers say per target) and recommendations (which target for which goal).

Every sentence carries the numbers it rests on. Each figure is taken from one place (the
target's curve and its cells) and written by `figure`, so the same quantity reads the same in a
finding and in a recommendation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell
from runner.analysis.curve import Curve
from runner.analysis.floors import exceeding_floors, floor_text
from runner.analysis.left_out import left_out_text
from runner.config.experiment import ReportSettings
from runner.config.load_model import LoadModel
from runner.records.results import RunRecord, StepResult

# Each figure a sentence states, in the report's one number style.
UNIT_FORMATS = {"RPS": fmt.rps, "RPS/core": fmt.rps, "ms": fmt.ms, "MiB": fmt.mib}


def figure(value: float, unit: str) -> str:
    """A figure in a sentence, always in its unit's one format: '1,860 RPS/core'."""
    return f"{UNIT_FORMATS[unit](value)} {unit}"


def target_findings(
    label: str, curve: Curve, steps: Sequence[StepResult], model: LoadModel
) -> list[str]:
    """What one target's valid cells say; `steps` are all its steps, to name those left out."""
    left_out = left_out_text(steps, model)
    series = list(curve.series)
    if not series:
        return [f"{label}: no step was measured."] if not steps else [f"{label}: {left_out}."]
    lines = [_peak_sentence(label, curve, model.unit)]
    first, last = series[0], series[-1]
    if len(series) > 1:
        gain = last.ok_rps.median / first.ok_rps.median - 1 if first.ok_rps.median else 0.0
        lines.append(
            f"{label}: from {fmt.count(first.level)} to {fmt.count(last.level)} {model.unit}, "
            f"successful throughput changes by {fmt.change(gain)} ({figure(first.ok_rps.median, 'RPS')} to "
            f"{figure(last.ok_rps.median, 'RPS')}) while p95 goes from "
            f"{figure(first.p95.median, 'ms')} to {figure(last.p95.median, 'ms')}."
        )
    peak = curve.peak
    if peak is not None and peak.rps_per_core is not None and peak.cpu_percent is not None:
        lines.append(
            f"{label} serves {figure(peak.rps_per_core, 'RPS/core')} (successful RPS per core "
            f"used) at its peak (server CPU {fmt.cpu(peak.cpu_percent)} of one core)."
        )
    lines.append(_memory_sentence(label, series))
    if left_out:
        lines.append(f"{label}: these findings use valid steps only ({left_out}).")
    return lines


def _peak_sentence(label: str, curve: Curve, unit: str) -> str:
    peak, breaking, past = curve.peak, curve.breaking, curve.past_break
    if peak is None:
        text = (
            f"{label} breaks already at its lowest level, {fmt.count(breaking.level or 0)} {unit}: "
            "no peak below it"
        )
    else:
        text = (
            f"{label} peaks at {figure(peak.ok_rps.median, 'RPS')} successful at "
            f"{fmt.count(peak.level)} {unit}"
        )
        if breaking.level is not None:
            text += f", below its breaking point at {fmt.count(breaking.level)}"
    if past is not None:
        text += f" ({fmt.count(past.level)} reaches {figure(past.ok_rps.median, 'RPS')} past the breaking point)"
    return text + "."


def memory_figure(series: Sequence[Cell]) -> tuple[float, str] | None:
    """The memory verdicts' figure: max PSS of the whole tree, or, where PSS was not sampled,
    max RSS summed (an upper bound), with its name; None for a `url` target (not sampled)."""
    pss = [c.memory_pss_max_mib for c in series]
    if pss and all(v is not None for v in pss):
        return max(v for v in pss if v is not None), "PSS"
    rss = [c.memory_max_mib for c in series]
    if rss and all(v is not None for v in rss):
        return max(v for v in rss if v is not None), "RSS summed, an upper bound"
    return None


def _memory_sentence(label: str, series: list[Cell]) -> str:
    memory = memory_figure(series)
    if memory is None:
        return f"{label} was not started by sweepbench: its CPU and memory were not sampled."
    value, name = memory
    rss = max(c.memory_max_mib or 0.0 for c in series)
    if name == "PSS":
        return (
            f"{label} holds at most {figure(value, 'MiB')} (PSS, whole process tree; RSS summed "
            f"over its processes, an upper bound: {figure(rss, 'MiB')})."
        )
    return (
        f"{label} holds at most {figure(value, 'MiB')} resident (RSS summed over the process "
        "tree, an upper bound: PSS was not sampled)."
    )


def comparison_findings(
    curves: dict[str, Curve],
    labels: dict[str, str],
    settings: ReportSettings,
    left_out: str = "",
    floors: Mapping[tuple[str, int], Cell] | None = None,
) -> list[str]:
    """Which target to prefer for which goal, only where the gap is at least min_effect; no
    target is preferred for throughput over one whose floor exceeds its figure."""
    measured = {t: c for t, c in curves.items() if c.series}
    if len(measured) < 2:
        return []
    lines = []
    for goal, values, higher_is_better, unit in _goals(measured):
        if len(values) == len(measured):
            line = _preference(goal, values, higher_is_better, unit, labels, settings)
            if unit == "RPS":
                line = _censored(line, values, labels, floors or {})
            lines.append(line)
    bound = [labels[t] for t, c in measured.items() if any(x.client_bound for x in c.series)]
    if bound:
        lines.append(
            f"k6 was the bottleneck in some steps of {', '.join(bound)}: their throughput there is "
            "a floor, and the gaps above may understate how much faster they are."
        )
    if left_out:
        lines.append(f"These recommendations use valid steps only ({left_out}).")
    return lines


Goal = tuple[str, dict[str, float], bool, str]


def _goals(measured: dict[str, Curve]) -> list[Goal]:
    peaks = {t: c.peak for t, c in measured.items() if c.peak is not None}
    memory = {t: m for t, c in measured.items() if (m := memory_figure(c.series)) is not None}
    pss_everywhere = all(name == "PSS" for _, name in memory.values())
    return [
        ("peak successful throughput", {t: p.ok_rps.median for t, p in peaks.items()}, True, "RPS"),
        (
            "p95 latency at the lowest level",
            {t: c.series[0].p95.median for t, c in measured.items()},
            False,
            "ms",
        ),
        (
            "memory (max PSS, whole process tree)"
            if pss_everywhere
            else "memory (max RSS summed, an upper bound: PSS was not sampled everywhere)",
            {t: value for t, (value, _) in memory.items()},
            False,
            "MiB",
        ),
        (
            "efficiency (successful RPS per core used, at the peak)",
            {t: p.rps_per_core for t, p in peaks.items() if p.rps_per_core is not None},
            True,
            "RPS/core",
        ),
    ]


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
    listing = ", ".join(f"{labels[t]} {figure(values[t], unit)}" for t in ranked)
    if gap < settings.min_effect:
        return (
            f"For {goal}, no target stands out (within {fmt.setting_percent(settings.min_effect)}):"
            f" {listing}."
        )
    better = fmt.change(gap, signed=False)
    return f"For {goal}, prefer {labels[best]}, {better} better than {labels[second]}: {listing}."


def _censored(
    line: str,
    values: dict[str, float],
    labels: dict[str, str],
    floors: Mapping[tuple[str, int], Cell],
) -> str:
    """The throughput preference, unless another target's floor exceeds the preferred figure."""
    best = max(values, key=lambda t: values[t])
    above = exceeding_floors(values[best], best, floors)
    if not above:
        return line
    shown = ", ".join(f"{floor_text(c)} at {fmt.count(c.level)}" for c in above)
    peaks = ", ".join(f"{labels[t]} {figure(v, 'RPS')}" for t, v in values.items())
    return (
        f"For peak successful throughput, no target is preferred: {shown} is above the "
        f"highest valid peak (valid peaks: {peaks})."
    )


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
