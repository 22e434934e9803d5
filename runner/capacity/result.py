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
    trials: tuple[Trial, ...]
    confirmation: Trial | None = None  # the longer trial at the capacity, reported on its own

    @property
    def at_least(self) -> bool:
        """The capacity is a lower bound only (the client or the search's bound stopped it)."""
        return self.capacity_rps is not None and self.stop.reason in _LOWER_BOUND_ONLY

    @property
    def bracket(self) -> tuple[int | None, int | None]:
        """(highest passing rate, lowest failing rate), None where none was found."""
        low = self.highest_pass.rate if self.highest_pass else None
        high = self.lowest_fail.rate if self.lowest_fail else None
        return low, high

    @property
    def search_seconds(self) -> float:
        """Seconds of load the search itself used, early-stopped trials at their real length."""
        return sum(t.outcome.duration_s for t in self.trials)

    @property
    def confirmed(self) -> bool | None:
        """Whether the confirmation trial passed; None when there was none or it was invalid."""
        if self.confirmation is None or not self.confirmation.counted:
            return None
        return self.confirmation.judgement.verdict == "pass"

    def headline(self) -> str:
        """'195 RPS', '150 RPS (budget spent)', 'at least 400 RPS (client limit)' or
        'none (objective unmet at the lowest rate)'."""
        if self.capacity_rps is None:
            return f"none ({self.stop.reason})"
        if self.at_least:
            return f"at least {self.capacity_rps} RPS ({_LOWER_BOUND_ONLY[self.stop.reason]})"
        if self.stop.reason != "converged":
            return f"{self.capacity_rps} RPS ({self.stop.reason})"
        return f"{self.capacity_rps} RPS"
