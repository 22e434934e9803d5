"""The stored records of a capacity run (runner.capacity): every trial and each target's outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from runner.capacity.objective import Percentile, Verdict
from runner.capacity.result import StopReason
from runner.capacity.trials import PlanKind
from runner.records.steps import Record, StepResult


class TrialRecord(Record):
    """One trial of a capacity search (runner.capacity), stored the moment it ends."""

    kind: Literal["trial"] = "trial"
    target: str
    label: str
    number: int = Field(description="1-based, per target, in the order run (confirmation too).")
    rate: int = Field(description="The arrival rate asked of k6, requests per second.")
    planned_s: float = Field(description="Planned length of the measured window, seconds.")
    plan: PlanKind = Field(description="Why this rate: start, double, halve, bisect, settle, ...")
    reason: str = Field(description="The search's reason for the trial, in words.")
    long: bool = Field(description="A long trial (these vote where a result is close).")
    verdict: Verdict
    close: bool = Field(description="The result lies within the close band of the objective.")
    why: str = Field(description="The verdict in words, with the figures that decided it.")
    percentile: Percentile = Field(description="The objective's latency percentile.")
    percentile_ms: float = Field(description="That percentile over the trial's own window.")
    early_stop: str | None = Field(
        default=None, description="Why the trial was stopped before its planned end, if it was."
    )
    settle_s: float = Field(
        default=0.0,
        description="Seconds after a failed trial until the server answered within the objective "
        "again (its backlog drained); they count against the budget.",
    )
    pause_s: float = Field(
        default=0.0,
        description="Seconds waited before the trial (after invalid ones: a disturbance may pass).",
    )
    stall_ms: float = Field(
        default=0.0,
        description="The platform's longest stall on the measured cores in the window (stall "
        "probe), ms: it may have raised the percentile by up to this much; 0: none or no probe.",
    )
    step: StepResult = Field(
        description="The window's figures, as any step's (duration_s is the length actually run)."
    )


class TargetCapacity(Record):
    """How one target's capacity search ended: the capacity, its bracket, confidence, cost."""

    kind: Literal["capacity"] = "capacity"
    target: str
    label: str
    capacity_rps: int | None = Field(description="Highest settled passing rate; null: none.")
    at_least: bool = Field(description="Only a lower bound (the client or the search's bound).")
    headline: str = Field(description="'195 RPS', 'at least 400 RPS (client limit)', ...")
    highest_pass: int | None = Field(description="Lower end of the capacity interval, RPS.")
    highest_pass_how: str | None = None
    lowest_fail: int | None = Field(description="Upper end of the capacity interval, RPS.")
    lowest_fail_how: str | None = None
    confidence: str
    stop_reason: StopReason
    stop_text: str
    trials: int = Field(description="Trials the search ran, confirmations not included.")
    search_s: float = Field(description="Seconds of load the search used (not confirmations).")
    wall_s: float = Field(description="Wall-clock seconds of the search and its confirmation.")
    confirmation: int | None = Field(
        default=None, description="Trial number of the confirmation trial, if one ran."
    )
    confirmed: bool | None = Field(
        default=None,
        description="Whether a confirmation passed at the capacity; false: one failed (there or "
        "above) and none passed there; null: none ran, or each was invalid.",
    )
    failed_confirmations: list[int] = Field(
        default_factory=list,
        description="Rates whose confirmation failed (the search went on below them), RPS.",
    )
    disturbed_trials: int = Field(
        default=0, description="Trials invalid for a passing cause (interference, steal, stalls)."
    )
    disturbed_s: float = Field(
        default=0.0, description="Seconds of load the disturbed trials took (and settling)."
    )
    pauses_s: float = Field(
        default=0.0, description="Seconds waited before repeating disturbed trials."
    )
    noise_sigma: float | None = Field(
        default=None,
        description="The noise the search settled with: sd of log(percentile) between trials at "
        "a rate; null: older runs.",
    )


class CapacityRun(Record):
    """A capacity run's own results: every trial and each target's outcome."""

    trials: list[TrialRecord] = Field(default_factory=list)
    targets: list[TargetCapacity] = Field(default_factory=list)

    def of(self, target: str) -> TargetCapacity | None:
        return next((t for t in self.targets if t.target == target), None)

    @property
    def unmet(self) -> list[TargetCapacity]:
        """Targets without a capacity: no rate met the objective, or none was measured."""
        return [t for t in self.targets if t.capacity_rps is None]
