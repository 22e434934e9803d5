"""The adaptive capacity search: the highest arrival rate a target sustains under an objective.

After Shivam et al., "Cutting Corners: Workbench Automation for Server Benchmarking" (USENIX
ATC 2008), and Nighthawk's adaptive load controller: double the rate until a trial fails (halve
it while the start fails), then bisect the bracket; short trials far from the objective, long
repeated trials only where a result is close to it. Pure and deterministic: the next step
follows from the configuration and the trials so far, so a stored search can be resumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from runner.capacity.objective import Objective
from runner.capacity.result import CapacityResult, Stop
from runner.capacity.trials import PlanKind, Settlement, Trial, TrialPlan, settle

__all__ = [
    "CONFIDENCE_RULE",
    "SEARCH_RULE",
    "SearchConfig",
    "confirmation_plan",
    "next_step",
    "summarize",
]

SEARCH_RULE = (
    "Capacity search: open-model trials at fixed arrival rates. From the start rate the rate "
    "doubles after each pass (halves after each fail while nothing has passed), within the "
    "bounds, until a pass and a fail bracket the capacity; then the bracket is bisected. Trials "
    "are short unless a result is close to the objective. A trial is planned only if it and "
    "the confirmation trial still fit in the time budget; trials stopped early count at the "
    "seconds they ran. The capacity is the highest passing rate; a confirmation trial, longer, "
    "then runs at it and is reported on its own."
)
CONFIDENCE_RULE = (
    "Confidence: each end of the bracket (the highest passing and the lowest failing rate) is "
    "settled, either by one result outside the close band (or a trial stopped early because "
    "the objective was clearly broken), or by {votes} agreeing long trials out of at most "
    "{most}. The search has converged when the bracket is at most {precision:.0%} of the "
    "lowest failing rate wide, so the rate where the objective stops holding lies within "
    "{precision:.0%} above the capacity reported."
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
    votes: int = 2  # agreeing long trials that settle a close rate ...
    most_long_trials: int = 3  # ... out of at most this many
    most_invalid_in_a_row: int = 3  # then the machine is too busy to measure: stop

    def __post_init__(self) -> None:
        if not 1 <= self.min_rate <= self.start_rate <= self.max_rate:
            raise ValueError("rates must satisfy 1 <= min_rate <= start_rate <= max_rate")
        if not 0 < self.precision < 1:
            raise ValueError("precision must lie between 0 and 1")
        if not 0 < self.short_s <= self.long_s:
            raise ValueError("durations must satisfy 0 < short_s <= long_s")
        if not 1 <= self.votes <= self.most_long_trials:
            raise ValueError("votes must lie between 1 and most_long_trials")

    def confidence_rule(self) -> str:
        return CONFIDENCE_RULE.format(
            votes=self.votes, most=self.most_long_trials, precision=self.precision
        )

    def rules(self) -> list[str]:
        """The rules a report states for this search: how it goes, the objective, confidence."""
        return [SEARCH_RULE, self.objective.rule_text(), self.confidence_rule()]

    def trial_cost_s(self, duration_s: float) -> float:
        return duration_s + self.trial_overhead_s


@dataclass(frozen=True)
class _Standing:
    """The settled rates so far: the highest pass and the lowest fail above it."""

    highest_pass: Settlement | None
    lowest_fail: Settlement | None
    open_rate: int | None  # the rate whose trials so far leave it unsettled


def _standing(config: SearchConfig, trials: Sequence[Trial]) -> _Standing:
    settled: dict[int, Settlement] = {}
    open_rate = None
    for rate in dict.fromkeys(t.rate for t in trials if t.counted):
        settlement = settle(rate, trials, config.votes, config.most_long_trials)
        if settlement is None:
            open_rate = rate
        else:
            settled[rate] = settlement
    passes = [s for s in settled.values() if s.passed]
    highest_pass = max(passes, key=lambda s: s.rate, default=None)
    floor = highest_pass.rate if highest_pass else 0
    fails = [s for s in settled.values() if not s.passed and s.rate > floor]
    return _Standing(highest_pass, min(fails, key=lambda s: s.rate, default=None), open_rate)


def _converged(config: SearchConfig, low: int, high: int) -> bool:
    return high - low <= 1 or (high - low) / high <= config.precision


def _width_text(config: SearchConfig, width: float) -> str:
    """'is 3.7% wide, within the precision (5%)', or why a wider bracket still converged."""
    if width <= config.precision:
        return f"is {width:.1%} wide, within the precision ({config.precision:.0%})"
    return f"is {width:.1%} wide: adjacent whole rates, no finer step exists"


def _short(config: SearchConfig, rate: int, kind: PlanKind, reason: str) -> TrialPlan:
    return TrialPlan(rate, config.short_s, kind, reason)


def _bracketing(
    config: SearchConfig, low: Settlement | None, high: Settlement | None
) -> TrialPlan | Stop:
    """The move while only one side (or neither) of the bracket is known."""
    if low is None and high is None:
        return _short(config, config.start_rate, "start", "start rate")
    if low is not None:
        if low.rate >= config.max_rate:
            return Stop("upper bound reached", f"{low.rate} RPS, the upper bound, passed")
        rate = min(2 * low.rate, config.max_rate)
        return _short(config, rate, "double", f"{low.rate} RPS passed: double")
    assert high is not None
    if high.rate <= config.min_rate:
        return Stop(
            "objective unmet at the lowest rate",
            f"{high.rate} RPS, the lowest rate allowed, failed: no rate meets the objective",
        )
    rate = max(high.rate // 2, config.min_rate)
    return _short(config, rate, "halve", f"{high.rate} RPS failed and nothing passed: halve")


def _move(config: SearchConfig, standing: _Standing) -> TrialPlan | Stop:
    """Bracket, then bisect, until the bracket is within the precision."""
    low, high = standing.highest_pass, standing.lowest_fail
    if low is None or high is None:
        return _bracketing(config, low, high)
    width = (high.rate - low.rate) / high.rate
    if _converged(config, low.rate, high.rate):
        return Stop("converged", f"bracket {low.rate}-{high.rate} RPS {_width_text(config, width)}")
    middle = (low.rate + high.rate) // 2
    return _short(config, middle, "bisect", f"bisect {low.rate}-{high.rate} RPS ({width:.0%} wide)")


def _repeat(config: SearchConfig, trials: Sequence[Trial], standing: _Standing) -> TrialPlan | None:
    """A repeat of an invalid trial, or a long trial at a rate left open; None otherwise."""
    last = trials[-1] if trials else None
    if last is not None and not last.counted:
        why = last.judgement.why
        return replace(last.plan, kind="retry", reason=f"repeat: previous trial invalid ({why})")
    if standing.open_rate is None:
        return None
    rate = standing.open_rate
    done = sum(t.rate == rate and t.counted and t.plan.long for t in trials)
    reason = (
        f"close to the objective at {rate} RPS: long trial {done + 1} of at most "
        f"{config.most_long_trials}"
    )
    return TrialPlan(rate, config.long_s, "settle", reason, long=True)


def _invalid_run(trials: Sequence[Trial]) -> int:
    """How many trials at the end were invalid, one after the other."""
    count = 0
    for trial in reversed(trials):
        if trial.counted:
            break
        count += 1
    return count


def _within_budget(
    config: SearchConfig, trials: Sequence[Trial], plan: TrialPlan
) -> TrialPlan | Stop:
    """The plan if it and the confirmation trial still fit in the budget."""
    spent = sum(config.trial_cost_s(t.outcome.duration_s + t.outcome.settle_s) for t in trials)
    needed = config.trial_cost_s(plan.duration_s) + config.trial_cost_s(config.confirmation_s)
    if spent + needed <= config.budget_s:
        return plan
    return Stop(
        "budget spent",
        f"{spent:.0f} s of {config.budget_s:.0f} s spent: no room for a {plan.duration_s:g} s "
        f"trial at {plan.rate} RPS and the {config.confirmation_s:g} s confirmation",
    )


def next_step(config: SearchConfig, trials: Sequence[Trial]) -> TrialPlan | Stop:
    """The next trial to run, or why the search is over, from the trials so far."""
    bound = next((t for t in trials if t.judgement.verdict == "client-bound"), None)
    if bound is not None:
        return Stop("client limit", f"the load generator could not offer {bound.rate} RPS")
    if _invalid_run(trials) >= config.most_invalid_in_a_row:
        return Stop("interference", f"{config.most_invalid_in_a_row} invalid trials in a row")
    standing = _standing(config, trials)
    step = _repeat(config, trials, standing) or _move(config, standing)
    return step if isinstance(step, Stop) else _within_budget(config, trials, step)


def _confidence(config: SearchConfig, standing: _Standing) -> str:
    """The confidence statement: how each end of the bracket was settled."""
    low, high = standing.highest_pass, standing.lowest_fail
    parts = [
        f"highest pass {low.rate} RPS ({low.how})" if low else "no rate passed",
        f"lowest fail {high.rate} RPS ({high.how})" if high else "no rate failed",
    ]
    if low and high:
        width = (high.rate - low.rate) / high.rate
        if _converged(config, low.rate, high.rate):
            parts.append(f"bracket {_width_text(config, width)}")
        else:
            parts.append(
                f"bracket is {width:.1%} wide, wider than the precision ({config.precision:.0%})"
            )
    return "; ".join(parts)


def summarize(config: SearchConfig, trials: Sequence[Trial], stop: Stop) -> CapacityResult:
    """The result of a finished search (before its confirmation trial)."""
    standing = _standing(config, trials)
    low = standing.highest_pass
    return CapacityResult(
        capacity_rps=low.rate if low else None,
        highest_pass=low,
        lowest_fail=standing.lowest_fail,
        stop=stop,
        confidence=_confidence(config, standing),
        trials=tuple(trials),
    )


def confirmation_plan(config: SearchConfig, result: CapacityResult) -> TrialPlan | None:
    """A longer trial at the capacity found, or None when there is no capacity to confirm."""
    if result.capacity_rps is None:
        return None
    return TrialPlan(
        result.capacity_rps,
        config.confirmation_s,
        "confirm",
        f"confirm {result.capacity_rps} RPS over {config.confirmation_s:g} s",
        long=True,
    )
