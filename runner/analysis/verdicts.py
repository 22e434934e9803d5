"""Verdicts: what the report decides, and the winner of a level (a target's breaking point,
peak and knee are decided together in runner.analysis.curve).

Each verdict comes with the rule that decided it, written next to the code that applies it, and
with the numbers that decided it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.analysis.cells import Cell
from runner.analysis.statistics import Spread, welch_p_value
from runner.load_model import CLOSED, LoadModel
from runner.model import ReportSettings


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
