"""Verdicts: the winner of a level, a target's breaking point and its saturation point.

Each verdict comes with the rule that decided it, written next to the code that applies it, and
with the numbers that decided it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from runner.analysis.cells import Cell
from runner.analysis.statistics import Spread, welch_p_value
from runner.load_model import CLOSED, LoadModel
from runner.model import ReportSettings
from runner.report import formatting as fmt


@dataclass(frozen=True)
class Verdict:
    """A decision the report prints, with the target it names (if any) and its reason."""

    target: str | None
    level: int | None
    text: str


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
    shown = fmt.change(lead)
    if best.runs < 2 or second.runs < 2:
        if lead < settings.min_effect:
            return Verdict(None, level, f"no clear difference ({best.label} {shown}, 1 run)")
        return Verdict(best.target, level, f"{best.label}, {shown} (provisional: 1 run)")
    p_value = welch_p_value(a.values, b.values)
    p_text = fmt.p_value(p_value)
    if lead < settings.min_effect or p_value >= 1 - settings.confidence:
        return Verdict(None, level, f"no significant difference ({best.label} {shown}, {p_text})")
    return Verdict(best.target, level, f"{best.label}, {shown} ({p_text})")


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
        f"is at least {fmt.setting_percent(settings.min_effect)} and, with two or more repetitions "
        f"each, a two-sided Welch t-test on that figure gives p < {_alpha(settings)}. With a "
        "single repetition run-to-run noise is unmeasured, so a lead of at least that size is "
        "marked provisional."
    )


def breaking_point(series: list[Cell], settings: ReportSettings) -> Verdict:
    """The first level that breaks: errors, latency objective, or a clear throughput drop."""
    best_earlier: Cell | None = None
    for cell in series:
        reason = _break_reason(cell, best_earlier, settings)
        if reason:
            return Verdict(cell.target, cell.level, f"{fmt.count(cell.level)} ({reason})")
        if best_earlier is None or cell.rps.median > best_earlier.rps.median:
            best_earlier = cell
    top = series[-1].level if series else 0
    return Verdict(None, None, f"not reached within the sweep (up to {fmt.count(top)})")


def _break_reason(cell: Cell, best_earlier: Cell | None, settings: ReportSettings) -> str | None:
    if cell.error_rate > settings.error_threshold:
        return (
            f"error rate {fmt.percent(cell.error_rate)} > {fmt.percent(settings.error_threshold)}"
        )
    slo = settings.latency_slo_ms
    if slo is not None and cell.p95.median > slo:
        return f"p95 {fmt.ms(cell.p95.median)} ms > objective {slo:g} ms"
    if best_earlier is not None:
        floor = best_earlier.rps.median * (1 - settings.throughput_drop)
        if cell.rps.median < floor:
            return _drop_reason(cell, best_earlier, settings)
    return None


def _drop_reason(cell: Cell, best_earlier: Cell, settings: ReportSettings) -> str | None:
    """A throughput drop counts when significant; with single runs it is only provisional."""
    drop = 1 - cell.rps.median / best_earlier.rps.median
    text = (
        f"throughput {fmt.rps(cell.rps.median)} RPS is {fmt.change(drop, signed=False)} below "
        f"{fmt.rps(best_earlier.rps.median)} RPS at {fmt.count(best_earlier.level)}"
    )
    if cell.runs < 2 or best_earlier.runs < 2:
        return f"{text}; provisional: 1 run"
    p_value = welch_p_value(cell.rps.values, best_earlier.rps.values)
    if p_value >= 1 - settings.confidence:
        return None  # within the noise of the repetitions
    return f"{text}, {fmt.p_value(p_value)}"


def breaking_rule(settings: ReportSettings) -> str:
    slo = settings.latency_slo_ms
    latency = f"p95 latency exceeds {slo:g} ms, or " if slo is not None else ""
    return (
        "Breaking point: the first level where the median error rate exceeds "
        f"{fmt.setting_percent(settings.error_threshold)}, or {latency}median throughput falls "
        f"more than {fmt.setting_percent(settings.throughput_drop)} below the best earlier level "
        f"(with two or more repetitions, also p < {_alpha(settings)} in a Welch t-test; with one, "
        "the drop is marked provisional)."
        + ("" if slo is not None else " No latency objective was set (report.latency_slo_ms).")
    )


def saturation_point(series: list[Cell], settings: ReportSettings) -> Verdict:
    """The knee: the last level before throughput stops growing while p95 keeps rising."""
    for here, after in itertools.pairwise(series):
        gain = after.rps.median / here.rps.median - 1 if here.rps.median > 0 else 0.0
        rise = after.p95.median / here.p95.median - 1 if here.p95.median > 0 else 0.0
        if gain < settings.knee_throughput_gain and rise > settings.knee_latency_rise:
            lowest = ", the lowest level measured" if here is series[0] else ""
            return Verdict(
                here.target,
                here.level,
                f"{fmt.count(here.level)}{lowest} (from {fmt.count(here.level)} to "
                f"{fmt.count(after.level)}: throughput {fmt.change(gain)}, p95 {fmt.change(rise)})",
            )
    top = series[-1].level if series else 0
    return Verdict(None, None, f"not reached within the sweep (up to {fmt.count(top)})")


def saturation_rule(settings: ReportSettings) -> str:
    return (
        "Saturation point (knee): the first level after which the next level adds less than "
        f"{fmt.setting_percent(settings.knee_throughput_gain)} throughput while p95 latency "
        f"rises more than {fmt.setting_percent(settings.knee_latency_rise)}."
    )


def _alpha(settings: ReportSettings) -> str:
    """The significance level, as configured (confidence 0.95: 0.05)."""
    return f"{round(1 - settings.confidence, 6):g}"
