"""What a capacity search plans and records: trial plans, judged trials, and each rate's
settlement (whether its trials so far decide pass or fail, and how confidently)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from runner.capacity.noise import Noise, Sample, geometric_mean_ms, latency_side
from runner.capacity.objective import Judgement, Objective, TrialOutcome

__all__ = ["PlanKind", "Settlement", "Trial", "TrialPlan", "sample", "settle"]

PlanKind = Literal["start", "double", "halve", "bisect", "settle", "retry", "confirm"]


@dataclass(frozen=True)
class TrialPlan:
    """The next trial to run: a fixed arrival rate for a duration, and why."""

    rate: int
    duration_s: float
    kind: PlanKind
    reason: str
    long: bool = False  # long trials settle close results
    pause_s: float = 0.0  # wait this long first: a disturbance on the machine may pass


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
    how: str  # "clear: stopped early ...", "3 trials: geometric mean p99 21.0 ms, ..."


def sample(trial: Trial) -> Sample:
    return Sample(trial.rate, trial.outcome.percentile_ms, trial.outcome.stall_ms)


def _how(objective: Objective, trials: Sequence[Trial], noise: Noise, word: str) -> str:
    mean = geometric_mean_ms([sample(t) for t in trials])
    count = f"{len(trials)} trial{'s' if len(trials) > 1 else ''}"
    side = "below" if mean <= objective.latency_ms else "above"
    return (
        f"{count}: {objective.percentile} {mean:.1f} ms (geometric mean), {word} {side} "
        f"{objective.latency_ms:g} ms, noise band ±{math.expm1(noise.band(len(trials))):.0%}"
    )


def settle(
    rate: int,
    trials: Sequence[Trial],
    objective: Objective,
    noise: Noise,
    most_more: int,
) -> Settlement | None:
    """The verdict at `rate`, or None while its trials leave it open (noise.latency_side).

    A hard fail (stopped early, drops, the rate not achieved, errors far beyond the limit)
    settles the rate at once; otherwise the rate's trials are settled once their latency lies
    outside the noise of the objective and no error rate is close, or when `most_more` trials
    beyond the first have run (then the geometric mean decides, and half the trials or more
    with errors over the limit fail it).
    """
    here = [t for t in trials if t.rate == rate and t.counted and t.plan.kind != "confirm"]
    if not here:
        return None
    hard = next((t for t in here if t.judgement.hard), None)
    if hard is not None:
        return Settlement(rate, False, f"clear: {hard.judgement.why}")
    error_misses = sum(t.outcome.error_rate > objective.max_error_rate for t in here)
    if not any(t.judgement.error_close for t in here):
        side = latency_side([sample(t) for t in here], objective.latency_ms, noise)
        if side is not None:
            return Settlement(rate, side, _how(objective, here, noise, "settled"))
    if len(here) <= most_more:
        return None
    if 2 * error_misses >= len(here):
        return Settlement(rate, False, f"{error_misses} of {len(here)} trials over the error limit")
    mean = geometric_mean_ms([sample(t) for t in here])
    return Settlement(
        rate, mean <= objective.latency_ms, _how(objective, here, noise, "undecided, taken as")
    )
