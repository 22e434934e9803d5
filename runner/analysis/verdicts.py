"""Verdicts: what the report decides, and the winner of a level (a target's breaking point,
peak and knee are decided together in runner.analysis.curve).

Each verdict comes with the rule that decided it, written next to the code that applies it, and
with the numbers that decided it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell
from runner.analysis.held_rate import not_held_note, split_by_held_rate
from runner.analysis.significance import welch_p_value
from runner.analysis.statistics import Spread
from runner.config.experiment import ReportSettings
from runner.config.load_model import CLOSED, LoadModel


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
    held, broke = split_by_held_rate(cells)
    if held and broke:  # a target that could not hold the rate cannot win on latency
        return _held_over_broke(level, held, broke, settings, model)
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


def _held_over_broke(
    level: int, held: list[Cell], broke: list[Cell], settings: ReportSettings, model: LoadModel
) -> Verdict:
    note = not_held_note(broke)
    if len(held) == 1:
        return Verdict(
            held[0].target, level, f"{held[0].label}, the only one to hold the rate; {note}"
        )
    verdict = winner_at(level, held, settings, model)
    return Verdict(verdict.target, level, f"{verdict.text}; {note}")


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
        f"each, a two-sided Welch t-test on the logarithms of that figure (on the ratio of the "
        f"two, as in the compare gate) gives p < {_alpha(settings)}.{_held(model)} With a "
        "single repetition run-to-run noise is unmeasured, so a lead of at least that size is "
        "marked provisional."
    )


def _held(model: LoadModel) -> str:
    if not model.fixed_rate:
        return ""
    return " A target that could not hold the rate does not win against one that held it."


def _alpha(settings: ReportSettings) -> str:
    """The significance level, as configured (confidence 0.95: 0.05)."""
    return f"{round(1 - settings.confidence, 6):g}"
