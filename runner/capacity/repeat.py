"""A disturbed capacity trial repeated: after a pause that grows while trials stay invalid, so a
passing disturbance (other work on the cores, steal, the platform's stalls) can pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from runner.capacity.trials import PlanKind, Trial, TrialPlan

__all__ = ["invalid_run", "repeat_of_invalid"]


def invalid_run(trials: Sequence[Trial]) -> int:
    """How many trials at the end were invalid (a passing cause), one after the other."""
    count = 0
    for trial in reversed(trials):
        if trial.judgement.verdict != "invalid":
            break
        count += 1
    return count


def repeat_of_invalid(
    trials: Sequence[Trial], pause_s: float, most_pause_s: float
) -> TrialPlan | None:
    """A repeat of an invalid last trial after a pause that doubles while they stay invalid
    (`pause_s`, at most `most_pause_s`); None when the last trial counted."""
    run = invalid_run(trials)
    if run == 0:
        return None
    last = trials[-1]
    pause = min(pause_s * 2 ** (run - 1), most_pause_s)
    why = f"repeat after {pause:g} s: previous trial invalid ({last.judgement.why})"
    kind: PlanKind = "confirm" if last.plan.kind == "confirm" else "retry"
    return replace(last.plan, kind=kind, reason=why, pause_s=pause)
