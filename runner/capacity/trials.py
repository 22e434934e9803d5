"""What a capacity search plans and records: trial plans, judged trials, and each rate's
settlement (whether its trials so far decide pass or fail, and how confidently)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from runner.capacity.objective import Judgement, TrialOutcome

__all__ = ["PlanKind", "Settlement", "Trial", "TrialPlan", "settle"]

PlanKind = Literal["start", "double", "halve", "bisect", "settle", "retry", "confirm"]


@dataclass(frozen=True)
class TrialPlan:
    """The next trial to run: a fixed arrival rate for a duration, and why."""

    rate: int
    duration_s: float
    kind: PlanKind
    reason: str
    long: bool = False  # long trials settle close results; only they vote (see `settle`)


@dataclass(frozen=True)
class Trial:
    """One trial as run: its plan, what it measured, and the verdict."""

    plan: TrialPlan
    outcome: TrialOutcome
    judgement: Judgement

    @property
    def rate(self) -> int:
        return self.plan.rate

    @property
    def counted(self) -> bool:
        """Valid trials count; invalid ones (interference, client-bound) never do."""
        return self.judgement.verdict in ("pass", "fail")


@dataclass(frozen=True)
class Settlement:
    """A rate's verdict once its trials decide it, and how they did."""

    rate: int
    passed: bool
    how: str  # "clear: p99 12.0 ms, errors 0.00%" or "2 of 3 long trials"


def _by_votes(rate: int, votes: list[Trial], needed: int, most: int) -> Settlement | None:
    passes = sum(t.judgement.verdict == "pass" for t in votes)
    fails = len(votes) - passes
    for passed, count in ((True, passes), (False, fails)):
        if count >= needed:
            return Settlement(rate, passed, f"{count} of {len(votes)} long trials")
    if len(votes) >= most:
        # No verdict reached the votes needed: a tie counts as a fail (the cautious side).
        return Settlement(rate, passes > fails, f"{max(passes, fails)} of {len(votes)} long trials")
    return None


def settle(rate: int, trials: Sequence[Trial], needed: int, most: int) -> Settlement | None:
    """The verdict at `rate`, or None while its trials leave it open.

    A counted result outside the close band (or stopped early) settles the rate at once; close
    results are settled by `needed` agreeing long trials out of at most `most`.
    """
    here = [t for t in trials if t.rate == rate and t.counted and t.plan.kind != "confirm"]
    for trial in here:
        if trial.judgement.decisive:
            return Settlement(
                rate, trial.judgement.verdict == "pass", f"clear: {trial.judgement.why}"
            )
    return _by_votes(rate, [t for t in here if t.plan.long], needed, most)
