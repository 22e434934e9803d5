"""The capacity search's configuration, and the rules a report states for it in words
(runner.capacity.search makes the decisions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.capacity.noise import NOISE_PRIOR, NOISE_RULE, PRIOR_WEIGHT, Z_ONE_SIDED
from runner.capacity.objective import Objective
from runner.capacity.standing import Standing, standing_of
from runner.capacity.trials import Trial

__all__ = ["CONFIDENCE_RULE", "CONFIRMATIONS_KEPT", "SEARCH_RULE", "SearchConfig"]

# Budget kept for confirmations: the one at the capacity found and, when that fails close to
# the objective, the one a precision step below it. On this VM a confirmation at the edge
# fails often (p99 51.5 ms against 50 ms), and without the second the headline fell to the
# doubling's last pass, half the capacity.
CONFIRMATIONS_KEPT = 2

SEARCH_RULE = (
    "Capacity search: open-model trials at fixed arrival rates. From the start rate the rate "
    "doubles after each pass (halves after each fail while nothing has passed), within the "
    "bounds, until a pass and a fail bracket the capacity; then the bracket is bisected. Trials "
    "are short unless a result is close to the objective. A trial invalid for a passing cause "
    "is repeated after a pause ({pause:g} s, doubling while they stay invalid, at most "
    "{most_pause:g} s); invalid trials count against the budget, their pauses do not. A trial's "
    "steal counts as a disturbance above the higher of the run's idle floor and the median steal "
    "of the last 3 trials (at most 10%): steal every recent trial met is the machine's state. "
    "A trial is "
    "planned only if it and two confirmation trials still fit in the time budget; trials "
    "stopped early count at the seconds they ran. A confirmation trial, longer, then runs at the "
    "highest settled pass: when it fails, that rate and every rate above it count as failing and "
    "the search goes on below it while the budget allows, with a confirmation one precision "
    "step below the failed one when it failed close to the objective (that confirmation, when "
    "it passes, settles its rate). A rate the load generator could not offer "
    "(client-bound) ends the search at the highest pass ('at least'), unless a fail lies below "
    "that rate (a failed confirmation, for one): then the search brackets the capacity below it."
)
CONFIDENCE_RULE = (
    "Capacity interval: from the highest settled pass to the lowest settled fail; the headline "
    "is its lower end, 'unconfirmed' when its confirmation did not pass. The search has "
    "converged when the interval is at most {precision:.0%} of its upper end wide."
)


@dataclass(frozen=True)
class SearchConfig:
    """Everything the search needs; rates in requests per second, durations in seconds."""

    objective: Objective
    start_rate: int
    min_rate: int
    max_rate: int
    budget_s: float
    short_s: float
    long_s: float
    confirmation_s: float
    precision: float = 0.05
    trial_overhead_s: float = 0.0  # warm-up and start-up each trial costs beyond its duration
    most_long_trials: int = 3  # more trials at a close rate, beyond its first
    noise_prior: float = NOISE_PRIOR  # log(percentile) sd assumed until repeats measure it
    pause_s: float = 2.0  # before repeating an invalid trial; doubles while they stay invalid
    most_pause_s: float = 8.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_rate <= self.start_rate <= self.max_rate:
            raise ValueError("rates must satisfy 1 <= min_rate <= start_rate <= max_rate")
        if not 0 < self.precision < 1:
            raise ValueError("precision must lie between 0 and 1")
        if not 0 < self.short_s <= self.long_s:
            raise ValueError("durations must satisfy 0 < short_s <= long_s")
        if self.most_long_trials < 1:
            raise ValueError("most_long_trials must be at least 1")

    def confidence_rule(self) -> str:
        return CONFIDENCE_RULE.format(precision=self.precision)

    def noise_rule(self) -> str:
        return NOISE_RULE.format(
            percentile=self.objective.percentile,
            z=Z_ONE_SIDED,
            prior=self.noise_prior,
            weight=PRIOR_WEIGHT,
            most=self.most_long_trials,
        )

    def rules(self) -> list[str]:
        """The rules a report states for this search: how it goes, the objective, settling,
        the interval."""
        search = SEARCH_RULE.format(pause=self.pause_s, most_pause=self.most_pause_s)
        return [search, self.objective.rule_text(), self.noise_rule(), self.confidence_rule()]

    def trial_cost_s(self, duration_s: float) -> float:
        return duration_s + self.trial_overhead_s

    def standing(self, trials: Sequence[Trial], final: bool = False) -> Standing:
        """Where the search stands; `final`: as the search ends (runner.capacity.standing)."""
        return standing_of(trials, self.objective, self.noise_prior, self.most_long_trials, final)
