"""How a capacity search ended and what it found: capacity, bracket, confidence, every trial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.capacity.trials import Settlement, Trial

__all__ = ["CapacityResult", "Stop", "StopReason"]

StopReason = Literal[
    "converged",
    "budget spent",
    "objective unmet at the lowest rate",
    "upper bound reached",
    "client limit",
    "interference",
]
# Stops after which the capacity is only a lower bound for the server.
_LOWER_BOUND_ONLY: dict[StopReason, str] = {
    "client limit": "client limit",
    "upper bound reached": "upper bound of the search",
}


@dataclass(frozen=True)
class Stop:
    """Why the search ended, in a word (`reason`) and a sentence (`text`)."""

    reason: StopReason
    text: str


@dataclass(frozen=True)
class CapacityResult:
    """One target's capacity search: the answer, how sure it is, and all it cost."""

    capacity_rps: int | None  # highest settled passing rate; None when no rate passed
    highest_pass: Settlement | None
    lowest_fail: Settlement | None
    stop: Stop
    confidence: str
    trials: tuple[Trial, ...]  # every trial in the order run, confirmations included
    confirmation: Trial | None = None  # the last confirmation trial (at the capacity if any)
    failed_confirmations: tuple[int, ...] = ()  # rates whose confirmation failed, rising
    noise_sigma: float | None = None  # log(percentile) sd the search settled with

    @property
    def at_least(self) -> bool:
        """The capacity is a lower bound only (the client or the search's bound stopped it)."""
        return self.capacity_rps is not None and self.stop.reason in _LOWER_BOUND_ONLY

    @property
    def bracket(self) -> tuple[int | None, int | None]:
        """(highest passing rate, lowest failing rate), None where none was found: the
        capacity interval."""
        low = self.highest_pass.rate if self.highest_pass else None
        high = self.lowest_fail.rate if self.lowest_fail else None
        return low, high

    @property
    def search_trials(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.plan.kind != "confirm")

    @property
    def search_seconds(self) -> float:
        """Seconds of load the search itself used (confirmations aside), early-stopped trials
        at their real length."""
        return sum(t.outcome.duration_s for t in self.search_trials)

    @property
    def disturbed(self) -> tuple[Trial, ...]:
        """Trials invalid for a passing cause (other work, steal, stalls), each repeated."""
        return tuple(t for t in self.trials if t.judgement.verdict == "invalid")

    @property
    def confirmed(self) -> bool | None:
        """Whether a confirmation passed at the capacity; False when one failed (there or above
        it) and none passed there; None when none ran or each was invalid."""
        trial = self.confirmation
        if trial is not None and trial.counted and trial.rate == self.capacity_rps:
            return trial.judgement.verdict == "pass"
        return False if self.failed_confirmations else None

    def headline(self) -> str:
        """'195 RPS', '150 RPS (budget spent)', 'at least 400 RPS (client limit)',
        '380 RPS (unconfirmed: the confirmation failed at 400 RPS; budget spent)' or
        'none (objective unmet at the lowest rate)'."""
        failed = self.failed_confirmations
        unconfirmed = f"unconfirmed: the confirmation failed at {failed[0]} RPS" if failed else ""
        if self.trials and len(self.disturbed) == len(self.trials):
            return f"not measured: {self._all_disturbed()} ({self.stop.reason})"
        if self.capacity_rps is None:
            return f"none ({'; '.join(filter(None, [self.stop.reason, unconfirmed]))})"
        figure = f"{self.capacity_rps} RPS"
        tags = []
        if self.confirmed is not True:
            tags.append(unconfirmed or "unconfirmed")
        if self.at_least:
            figure = f"at least {figure}"
            tags.append(_LOWER_BOUND_ONLY[self.stop.reason])
        elif self.stop.reason != "converged":
            tags.append(self.stop.reason)
        return f"{figure} ({'; '.join(tags)})" if tags else figure

    def _all_disturbed(self) -> str:
        """'all 11 trials disturbed by other work or steal on the cores'."""
        causes = {_CAUSE_WORDS.get(t.judgement.why, t.judgement.why) for t in self.disturbed}
        return f"all {len(self.trials)} trials disturbed by {' and '.join(sorted(causes))}"


# A disturbed trial's reasons (runner.capacity.trial: steal counts as other work), in words.
_CAUSE_WORDS = {
    "interference": "other work or steal on the cores",
    "stalls": "the platform's stalls",
    "interference, stalls": "other work, steal or stalls on the cores",
}
