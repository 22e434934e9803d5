"""Steps measured in a steal spell: valid only because their steal floor followed the steal the
last steps met (runner.measure.recent_steal), not the idle floor. Such a step's server had up to
that share of a core less than one measured outside the spell, so the headline names them, by
target: a spell that hit one target's steps and not another's weighs on the comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.analysis.left_out import valid_for_verdicts
from runner.measure.recent_steal import steal_of
from runner.records.results import RunRecord, StepResult

__all__ = ["SpellSteps", "spell_steps"]


@dataclass(frozen=True)
class SpellSteps:
    """A target's valid steps whose steal rose above what the idle floor allows."""

    target: str
    steps: int
    highest: float  # the worst core's steal among them, a fraction of the window


def spell_steps(record: RunRecord, steps: Sequence[StepResult]) -> tuple[SpellSteps, ...]:
    """Per target, in the experiment's order; none for a run without an idle floor (its steal
    rule is the fixed limit, which no valid step exceeds)."""
    floor = record.provenance.steal_floor
    if floor is None:
        return ()
    # The lowest core's idle steal: a step is named when any core's steal is past it.
    allowed = min(floor.shares.values(), default=0.0) + record.experiment.validity.max_steal
    stolen: dict[str, list[float]] = {}
    for step in steps:
        steal = steal_of(step)
        if steal is not None and steal > allowed and valid_for_verdicts(step):
            stolen.setdefault(step.target, []).append(steal)
    return tuple(
        SpellSteps(target, len(stolen[target]), max(stolen[target]))
        for target in record.experiment.targets
        if target in stolen
    )
