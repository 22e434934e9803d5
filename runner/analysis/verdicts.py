"""Verdicts: what the report decides, and the winner of a level (a target's breaking point,
peak and knee are decided together in runner.analysis.curve).

Each verdict comes with the rule that decided it, written next to the code that applies it, and
with the numbers that decided it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell
from runner.analysis.floors import FLOOR_REASON, figure_text
from runner.analysis.held_rate import not_held_note, split_by_held_rate
from runner.analysis.significance import welch_p_value
from runner.analysis.statistics import Spread
from runner.config.experiment import ReportSettings
from runner.config.load_model import CLOSED, LoadModel


@dataclass(frozen=True)
class Verdict:
    """A decision the report prints, with the target it names (if any) and its reason; a
    level's winner also carries what decided it, for writers that word it differently."""

    target: str | None
    level: int | None
    text: str
    figure: str | None = None  # what the lead is on: "successful RPS" or "p95 latency"
    lead: float | None = None  # the winner's lead over the runner-up, a fraction
    at_least: bool = False  # the winner's figure is a floor: its lead is a lower bound
    provisional: bool = False  # one repetition: run-to-run noise is unmeasured
    p_value: float | None = None  # Welch's test, with two or more repetitions each
    # Targets that could not be ranked against the leader: a floor was in the way.
    unranked: tuple[str, ...] = ()


def winner_metric(cell: Cell, model: LoadModel) -> Spread:
    """What decides a level: successful throughput under the closed model; under the open
    model every target is offered the same rate, so the lower p95 latency decides."""
    figure: Spread = getattr(cell, model.deciding_figure)
    return figure


def figure_name(model: LoadModel) -> str:
    return "p95 latency" if model.fixed_rate else "successful RPS"


def winner_at(
    level: int,
    cells: list[Cell],
    settings: ReportSettings,
    model: LoadModel = CLOSED,
    floors: Sequence[Cell] = (),
) -> Verdict:
    """The level's winner among valid cells and floors (runner.analysis.floors): a floor ranks
    only where it is decided, i.e. above every other figure; under the open model, where
    latency decides, floors are not ranked at all."""
    if model.fixed_rate:
        return _open_winner(level, cells, settings, model, floors)
    ranked = sorted([*cells, *floors], key=lambda c: c.ok_rps.median, reverse=True)
    if not ranked:
        return Verdict(None, level, "no data")
    best = ranked[0]
    if len(ranked) == 1:
        return Verdict(
            None, level, f"only {figure_text(best) if best.floor else best.label} measured"
        )
    # A floor below the leader may be above it: neither is ranked over the other.
    blocking = [c for c in ranked[1:] if c.floor]
    if blocking:
        listing = ", ".join(figure_text(c) for c in [best, *blocking])
        return Verdict(
            None,
            level,
            f"cannot rank: {listing}",
            unranked=(best.target, *(c.target for c in blocking)),
        )
    return _lead(level, best, ranked[1], settings, model)


def _open_winner(
    level: int,
    cells: list[Cell],
    settings: ReportSettings,
    model: LoadModel,
    floors: Sequence[Cell],
) -> Verdict:
    names = tuple(c.target for c in floors)
    note = f"; not ranked: {', '.join(figure_text(c) for c in floors)}" if floors else ""
    ranked = sorted(cells, key=lambda c: c.p95.median)
    held, broke = split_by_held_rate(cells)
    if held and broke:  # a target that could not hold the rate cannot win on latency
        verdict = _held_over_broke(level, held, broke, settings, model)
    elif not ranked:
        verdict = Verdict(None, level, "no data" if not floors else "cannot rank")
    elif len(ranked) == 1:
        verdict = Verdict(None, level, f"only {ranked[0].label} measured")
    else:
        verdict = _lead(level, ranked[0], ranked[1], settings, model)
    return replace(verdict, text=verdict.text + note, unranked=names)


def _lead(
    level: int, best: Cell, second: Cell, settings: ReportSettings, model: LoadModel
) -> Verdict:
    """The leader's verdict over the runner-up: a lead of at least min_effect and, with
    repetitions, a significant one; a floor's lead is "at least"."""
    a, b = winner_metric(best, model), winner_metric(second, model)
    if model.higher_is_better:
        lead = a.median / b.median - 1 if b.median > 0 else math.inf
    else:
        lead = b.median / a.median - 1 if a.median > 0 else math.inf
    name, at_least = figure_name(model), best.floor
    shown = ("at least " if at_least else "") + f"{fmt.change(lead)} {name}"
    # A floor's lead says which figure is the floor: "≥ 10,118 RPS: k6's limit; ...".
    floor = f"≥ {fmt.rps(best.ok_rps.median)} RPS: {FLOOR_REASON}" if at_least else ""
    decided = Verdict(None, level, "", figure=name, lead=lead, at_least=at_least)
    if best.runs < 2 or second.runs < 2:
        if lead < settings.min_effect:
            why = ", ".join(filter(None, [floor, "1 run"]))
            return replace(decided, text=f"no clear difference ({best.label} {shown}, {why})")
        why = "; ".join(filter(None, [floor, "provisional: 1 run"]))
        text = f"{best.label}, {shown} ({why})"
        return replace(decided, target=best.target, text=text, provisional=True)
    p_value = welch_p_value(a.values, b.values)
    why = "; ".join(filter(None, [floor, fmt.p_value(p_value)]))
    decided = replace(decided, p_value=p_value)
    if lead < settings.min_effect or p_value >= 1 - settings.confidence:
        text = f"no significant difference ({best.label} {shown}, {why.replace('; ', ', ')})"
        return replace(decided, text=text)
    return replace(decided, target=best.target, text=f"{best.label}, {shown} ({why})")


FLOOR_RULE = (
    "A step invalid only because k6 was the limit (client-bound) gives a floor: the server "
    "served at least that (shown as '≥ N'). A target whose floor is above every other "
    "target's figure wins by at least its lead; a floor below the leader's figure cannot be "
    "ranked against it ('cannot rank'), so no target is ranked above one whose floor exceeds "
    "it. Under the open model, where latency decides, floors are not ranked."
)


def _held_over_broke(
    level: int, held: list[Cell], broke: list[Cell], settings: ReportSettings, model: LoadModel
) -> Verdict:
    note = not_held_note(broke)
    if len(held) == 1:
        return Verdict(
            held[0].target,
            level,
            f"{held[0].label}, the only one to hold the rate; {note}",
            figure=figure_name(model),
        )
    verdict = winner_at(level, held, settings, model)
    return replace(verdict, text=f"{verdict.text}; {note}")


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
        "marked provisional. The lead is on the figure the winner names. " + FLOOR_RULE
    )


def _held(model: LoadModel) -> str:
    if not model.fixed_rate:
        return ""
    return " A target that could not hold the rate does not win against one that held it."


def _alpha(settings: ReportSettings) -> str:
    """The significance level, as configured (confidence 0.95: 0.05)."""
    return f"{round(1 - settings.confidence, 6):g}"
