"""Steps measured in a steal spell: valid only because their steal floor followed the steal the
last steps met (runner.measure.recent_steal), not the idle floor. Such a step's server or k6 had
up to that share of its core less than in a step outside the spell, so the headline names them,
by target: a spell that hit one target's steps and not another's weighs on the comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runner.analysis.left_out import valid_for_verdicts
from runner.config.experiment import Experiment
from runner.records.results import RunRecord, StepResult

__all__ = ["SpellSteps", "spell_steps"]


@dataclass(frozen=True)
class SpellSteps:
    """A target's valid steps whose steal rose above what the idle floor allows."""

    target: str
    steps: int
    highest: float  # the most steal one of them met on a core, a fraction of the window
    on_server: bool  # the server's core among them (not only k6's)


def spell_steps(record: RunRecord, steps: Sequence[StepResult]) -> tuple[SpellSteps, ...]:
    """Per target, in the experiment's order; none for a run without an idle floor (its steal
    rule is the fixed limit, which no valid step exceeds)."""
    floor = record.provenance.steal_floor
    if floor is None:
        return ()
    experiment = record.experiment
    found: dict[str, list[dict[str, float]]] = {}
    for step in steps:
        over = _roles_over(experiment, step, floor.shares)
        if over and valid_for_verdicts(step):
            found.setdefault(step.target, []).append(over)
    return tuple(_of_target(t, found[t]) for t in experiment.targets if t in found)


def _roles_over(
    experiment: Experiment, step: StepResult, floor: Mapping[int, float]
) -> dict[str, float]:
    """Role -> steal, for the step's roles whose steal the idle floor alone did not allow."""
    measured = step.validity.measured if step.validity else {}
    over = {}
    for name, share in measured.items():
        if not name.endswith("_steal"):
            continue
        role = name.removesuffix("_steal")
        if share > _role_floor(experiment, role, floor) + experiment.validity.max_steal:
            over[role] = share
    return over


def _role_floor(experiment: Experiment, role: str, floor: Mapping[int, float]) -> float:
    """The highest idle floor among the role's cores: the step's steal (its worst core's) was
    valid against the idle floor alone when it lies within what that allows."""
    pinning = experiment.pinning
    cores = {"server": pinning.server_cpus, "client": pinning.client_cpus}.get(role, list(floor))
    return max((floor.get(core, 0.0) for core in cores), default=0.0)


def _of_target(target: str, stolen: list[dict[str, float]]) -> SpellSteps:
    return SpellSteps(
        target=target,
        steps=len(stolen),
        highest=max(share for over in stolen for share in over.values()),
        on_server=any(role != "client" for over in stolen for role in over),
    )
