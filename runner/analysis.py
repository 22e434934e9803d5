"""From stored steps to the facts a report states. Nothing here measures; it only reads results.

Per target and level the repetitions are summarised by their median, their range and (from three
repetitions on) a 95% confidence interval of the mean. With one repetition the median is the stored
value itself, so every table cell can be traced to `results.json`. Every verdict (winner, breaking
point, saturation) comes with the rule that decided it, and every sentence with its numbers.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from runner.load_model import CLOSED, LoadModel, load_model
from runner.model import ReportSettings, planned_levels
from runner.store import RunRecord, Stat, StepResult


@dataclass(frozen=True)
class Spread:
    """Repetitions of one quantity: median, range and, with n >= 3, a CI of the mean."""

    values: tuple[float, ...]
    median: float
    mean: float
    min: float
    max: float
    ci_low: float | None
    ci_high: float | None

    @property
    def n(self) -> int:
        return len(self.values)


def spread(values: list[float], confidence: float) -> Spread:
    mean = statistics.fmean(values)
    ci_low = ci_high = None
    if len(values) >= 3:
        sem = stats.sem(values)
        if sem > 0:
            ci_low, ci_high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
        else:
            ci_low = ci_high = mean
    return Spread(
        values=tuple(values),
        median=float(statistics.median(values)),
        mean=mean,
        min=min(values),
        max=max(values),
        ci_low=None if ci_low is None else float(ci_low),
        ci_high=None if ci_high is None else float(ci_high),
    )


@dataclass(frozen=True)
class Cell:
    """One target at one level, over its repetitions (medians unless named otherwise)."""

    target: str
    label: str
    level: int
    runs: int
    rps: Spread
    ok_rps: Spread  # successful requests per second: rps x (1 - error rate)
    p95: Spread
    p99: Spread
    error_rate: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_9_ms: float
    latency_max_ms: float
    cpu_percent: float | None  # None: a `url` target, whose server is not sampled
    memory_mib: float | None
    memory_max_mib: float | None
    client_bound: bool
    dropped_iterations: float | None = None  # open model: median of k6's dropped iterations

    @property
    def rps_per_core(self) -> float | None:
        """Throughput per core the server used; None when CPU was not measurable."""
        return self.rps.median / (self.cpu_percent / 100) if self.cpu_percent else None


@dataclass(frozen=True)
class Verdict:
    """A decision the report prints, with the target it names (if any) and its reason."""

    target: str | None
    level: int | None
    text: str


@dataclass(frozen=True)
class Analysis:
    targets: list[str]
    labels: dict[str, str]
    levels: list[int]
    settings: ReportSettings
    cells: dict[tuple[str, int], Cell]
    winners: dict[int, Verdict]
    breaking_points: dict[str, Verdict]
    saturation: dict[str, Verdict]
    findings: list[str]
    recommendations: list[str]
    rules: dict[str, str] = field(default_factory=dict)
    model: LoadModel = CLOSED

    @property
    def level_name(self) -> str:
        """The first column of every per-level table."""
        return self.model.level_header

    @property
    def level_unit(self) -> str:
        return self.model.unit

    def cell(self, target: str, level: int) -> Cell | None:
        return self.cells.get((target, level))

    def series(self, target: str) -> list[Cell]:
        return [c for level in self.levels if (c := self.cell(target, level)) is not None]


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _server_median(stats: list[Stat | None]) -> float | None:
    """Median of the averages; None when the server was not sampled (a `url` target)."""
    averages = [stat.avg for stat in stats if stat is not None]
    return _median(averages) if averages and len(averages) == len(stats) else None


def _server_max(stats: list[Stat | None]) -> float | None:
    maxima = [stat.max for stat in stats if stat is not None]
    return max(maxima) if maxima and len(maxima) == len(stats) else None


def make_cell(steps: list[StepResult], confidence: float) -> Cell:
    first = steps[0]
    lat = [s.latency_ms for s in steps]
    return Cell(
        target=first.target,
        label=first.label,
        level=first.level,
        runs=len(steps),
        rps=spread([s.rps for s in steps], confidence),
        ok_rps=spread([s.rps * (1 - s.error_rate) for s in steps], confidence),
        p95=spread([x.p95 for x in lat], confidence),
        p99=spread([x.p99 for x in lat], confidence),
        error_rate=_median([s.error_rate for s in steps]),
        latency_avg_ms=_median([x.avg for x in lat]),
        latency_p50_ms=_median([x.p50 for x in lat]),
        latency_p90_ms=_median([x.p90 for x in lat]),
        latency_p99_9_ms=_median([x.p99_9 for x in lat]),
        latency_max_ms=max(x.max for x in lat),
        cpu_percent=_server_median([s.cpu_percent for s in steps]),
        memory_mib=_server_median([s.memory_mib for s in steps]),
        memory_max_mib=_server_max([s.memory_mib for s in steps]),
        client_bound=any(s.client_bound for s in steps),
        dropped_iterations=_median([s.dropped_iterations for s in steps])
        if all(s.dropped_iterations is not None for s in steps)
        else None,
    )


# --- winner per level -------------------------------------------------------------------------


def welch_p_value(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Two-sided Welch t-test; identical constant samples give 1, different constant ones 0."""
    if statistics.pvariance(a) == 0 and statistics.pvariance(b) == 0:
        return 1.0 if statistics.fmean(a) == statistics.fmean(b) else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def winner_metric(cell: Cell, model: LoadModel) -> Spread:
    """What decides a level: successful throughput under the closed model; under the open
    model every target is offered the same rate, so the lower p95 latency decides."""
    figure: Spread = getattr(cell, model.deciding_figure)
    return figure


def winner_at(
    level: int, cells: list[Cell], settings: ReportSettings, model: LoadModel = CLOSED
) -> Verdict:
    if not cells:
        return Verdict(None, level, "no data")
    higher_is_better = model.higher_is_better
    ranked = sorted(cells, key=lambda c: winner_metric(c, model).median, reverse=higher_is_better)
    best = ranked[0]
    if len(ranked) == 1:
        return Verdict(None, level, f"only {best.label} measured")
    second = ranked[1]
    a, b = winner_metric(best, model), winner_metric(second, model)
    if higher_is_better:
        lead = a.median / b.median - 1 if b.median > 0 else math.inf
    else:
        lead = b.median / a.median - 1 if a.median > 0 else math.inf
    if best.runs < 2 or second.runs < 2:
        if lead < settings.min_effect:
            return Verdict(None, level, f"no clear difference ({best.label} +{lead:.1%}, 1 run)")
        return Verdict(best.target, level, f"{best.label}, +{lead:.0%} (provisional: 1 run)")
    p_value = welch_p_value(a.values, b.values)
    if lead < settings.min_effect or p_value >= 1 - settings.confidence:
        return Verdict(
            None, level, f"no significant difference ({best.label} +{lead:.1%}, p={p_value:.2f})"
        )
    return Verdict(best.target, level, f"{best.label}, +{lead:.0%} (p={p_value:.3f})")


def winner_rule(settings: ReportSettings, model: LoadModel = CLOSED) -> str:
    decided_by = (
        "the lowest median p95 latency at that level (every target is offered the same rate "
        "under the open model)"
        if model.fixed_rate
        else "the highest median successful throughput at that level (RPS x (1 - error "
        "rate): failed requests do not count towards a win)"
    )
    return (
        f"Winner: the target with {decided_by}, declared only when its lead over the runner-up "
        f"is at least {settings.min_effect:.0%} and, with two or more repetitions each, a "
        f"two-sided Welch t-test on that figure gives p < {1 - settings.confidence:.2f}. With a "
        "single repetition run-to-run noise is unmeasured, so a lead of at least that size is "
        "marked provisional."
    )


# --- breaking point and saturation -------------------------------------------------------------


def breaking_point(series: list[Cell], settings: ReportSettings) -> Verdict:
    """The first level that breaks: errors, latency objective, or a clear throughput drop."""
    best_earlier: Cell | None = None
    for cell in series:
        reason = _break_reason(cell, best_earlier, settings)
        if reason:
            return Verdict(cell.target, cell.level, f"{cell.level} ({reason})")
        if best_earlier is None or cell.rps.median > best_earlier.rps.median:
            best_earlier = cell
    top = series[-1].level if series else 0
    return Verdict(None, None, f"not reached within the sweep (up to {top})")


def _break_reason(cell: Cell, best_earlier: Cell | None, settings: ReportSettings) -> str | None:
    if cell.error_rate > settings.error_threshold:
        return f"error rate {cell.error_rate:.2%} > {settings.error_threshold:.2%}"
    slo = settings.latency_slo_ms
    if slo is not None and cell.p95.median > slo:
        return f"p95 {cell.p95.median:.2f} ms > objective {slo:g} ms"
    if best_earlier is not None:
        floor = best_earlier.rps.median * (1 - settings.throughput_drop)
        if cell.rps.median < floor:
            return _drop_reason(cell, best_earlier, settings)
    return None


def _drop_reason(cell: Cell, best_earlier: Cell, settings: ReportSettings) -> str | None:
    """A throughput drop counts when significant; with single runs it is only provisional."""
    drop = 1 - cell.rps.median / best_earlier.rps.median
    text = (
        f"throughput {cell.rps.median:.2f} RPS is {drop:.0%} below "
        f"{best_earlier.rps.median:.2f} RPS at {best_earlier.level}"
    )
    if cell.runs < 2 or best_earlier.runs < 2:
        return f"{text}; provisional: 1 run"
    p_value = welch_p_value(cell.rps.values, best_earlier.rps.values)
    if p_value >= 1 - settings.confidence:
        return None  # within the noise of the repetitions
    return f"{text}, p={p_value:.3f}"


def breaking_rule(settings: ReportSettings) -> str:
    slo = settings.latency_slo_ms
    latency = f"p95 latency exceeds {slo:g} ms, or " if slo is not None else ""
    return (
        "Breaking point: the first level where the median error rate exceeds "
        f"{settings.error_threshold:.0%}, or {latency}median throughput falls more than "
        f"{settings.throughput_drop:.0%} below the best earlier level (with two or more "
        f"repetitions, also p < {1 - settings.confidence:.2f} in a Welch t-test; with one, "
        "the drop is marked provisional)."
        + ("" if slo is not None else " No latency objective was set (report.latency_slo_ms).")
    )


def saturation_point(series: list[Cell], settings: ReportSettings) -> Verdict:
    """The knee: the last level before throughput stops growing while p95 keeps rising."""
    for here, after in itertools.pairwise(series):
        gain = after.rps.median / here.rps.median - 1 if here.rps.median > 0 else 0.0
        rise = after.p95.median / here.p95.median - 1 if here.p95.median > 0 else 0.0
        if gain < settings.knee_throughput_gain and rise > settings.knee_latency_rise:
            lowest = " already at the lowest level tried" if here is series[0] else ""
            return Verdict(
                here.target,
                here.level,
                f"{here.level}{lowest} (from {here.level} to {after.level}: throughput "
                f"{gain:+.0%}, p95 {rise:+.0%})",
            )
    top = series[-1].level if series else 0
    return Verdict(None, None, f"not reached within the sweep (up to {top})")


def saturation_rule(settings: ReportSettings) -> str:
    return (
        "Saturation point (knee): the first level after which the next level adds less than "
        f"{settings.knee_throughput_gain:.0%} throughput while p95 latency rises more than "
        f"{settings.knee_latency_rise:.0%}."
    )


# --- findings ------------------------------------------------------------------------------------


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


# --- the whole analysis --------------------------------------------------------------------------


def report_settings(experiment: dict[str, Any]) -> ReportSettings:
    return ReportSettings.model_validate(experiment.get("report") or {})


def analyze(record: RunRecord) -> Analysis:
    experiment = record.experiment
    settings = report_settings(experiment)
    targets = list(experiment["targets"])
    labels = {name: experiment["targets"][name].get("label") or name for name in targets}
    grouped: dict[tuple[str, int], list[StepResult]] = {}
    for step in record.steps:
        grouped.setdefault((step.target, step.level), []).append(step)
    cells = {key: make_cell(steps, settings.confidence) for key, steps in grouped.items()}
    levels = sorted({level for (_t, level) in cells} | set(planned_levels(experiment)))
    by_target = {t: [c for lv in levels if (c := cells.get((t, lv)))] for t in targets}
    model = load_model(experiment.get("load", {}).get("model", "closed"))
    winners = {
        level: winner_at(
            level, [c for (_t, lv), c in cells.items() if lv == level], settings, model
        )
        for level in levels
    }
    unit = model.unit
    findings = [line for t in targets for line in target_findings(labels[t], by_target[t], unit)]
    findings += client_findings(record) + failure_findings(record)
    return Analysis(
        targets=targets,
        labels=labels,
        levels=levels,
        settings=settings,
        cells=cells,
        winners=winners,
        breaking_points={t: breaking_point(by_target[t], settings) for t in targets},
        saturation={t: saturation_point(by_target[t], settings) for t in targets},
        findings=findings,
        recommendations=comparison_findings(by_target, labels, settings),
        model=model,
        rules={
            "winner": winner_rule(settings, model),
            "breaking": breaking_rule(settings),
            "saturation": saturation_rule(settings),
        },
    )
