"""Running a capacity search: the search as an object that records trials, and a driver that
runs a whole search and its confirmation trial with any trial runner (real k6 or simulated)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runner.capacity.objective import TrialOutcome, judge
from runner.capacity.result import CapacityResult, Stop
from runner.capacity.search import next_step, summarize
from runner.capacity.search_config import SearchConfig
from runner.capacity.standing import search_noise
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

    def judged(self, plan: TrialPlan, outcome: TrialOutcome) -> Trial:
        """The trial judged against the noise measured so far (not recorded)."""
        noise = search_noise(self.trials, self.config.noise_prior)
        return Trial(plan, _checked(plan, outcome), judge(self.config.objective, outcome, noise))

    def record(self, plan: TrialPlan, outcome: TrialOutcome) -> Trial:
        trial = self.judged(plan, outcome)
        self.trials.append(trial)
        return trial


def run_search(
    config: SearchConfig, run_trial: Callable[[TrialPlan], TrialOutcome]
) -> CapacityResult:
    """Runs the whole search with `run_trial` (which waits a plan's `pause_s` first), its
    confirmation trials included."""
    search = CapacitySearch(config)
    step = search.next_step()
    while isinstance(step, TrialPlan):
        search.record(step, run_trial(step))
        step = search.next_step()
    return summarize(config, search.trials, step)
