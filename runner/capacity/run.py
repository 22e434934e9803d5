"""Running a capacity search: the search as an object that records trials, and a driver that
runs a whole search and its confirmation trial with any trial runner (real k6 or simulated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from runner.capacity.objective import TrialOutcome, judge
from runner.capacity.result import CapacityResult, Stop
from runner.capacity.search import SearchConfig, confirmation_plan, next_step, summarize
from runner.capacity.trials import Trial, TrialPlan

__all__ = ["CapacitySearch", "run_search"]


def _checked(plan: TrialPlan, outcome: TrialOutcome) -> TrialOutcome:
    if outcome.rate != plan.rate:
        raise ValueError(f"the trial ran at {outcome.rate} RPS, but {plan.rate} RPS was planned")
    return outcome


class CapacitySearch:
    """The search as an object: ask `next_step()`, run the trial, `record()` its outcome."""

    def __init__(self, config: SearchConfig, trials: Sequence[Trial] = ()) -> None:
        self.config = config
        self.trials: list[Trial] = list(trials)  # earlier trials, e.g. of a resumed run

    def next_step(self) -> TrialPlan | Stop:
        return next_step(self.config, self.trials)

    def record(self, plan: TrialPlan, outcome: TrialOutcome) -> Trial:
        trial = Trial(plan, _checked(plan, outcome), judge(self.config.objective, outcome))
        self.trials.append(trial)
        return trial

    def judged(self, plan: TrialPlan, outcome: TrialOutcome) -> Trial:
        """A trial judged but not recorded (the confirmation, which steers nothing)."""
        return Trial(plan, _checked(plan, outcome), judge(self.config.objective, outcome))


def run_search(
    config: SearchConfig, run_trial: Callable[[TrialPlan], TrialOutcome]
) -> CapacityResult:
    """Runs the whole search with `run_trial`, then the confirmation trial at the capacity."""
    search = CapacitySearch(config)
    step = search.next_step()
    while isinstance(step, TrialPlan):
        search.record(step, run_trial(step))
        step = search.next_step()
    result = summarize(config, search.trials, step)
    plan = confirmation_plan(config, result)
    if plan is None:
        return result
    return replace(result, confirmation=search.judged(plan, run_trial(plan)))
