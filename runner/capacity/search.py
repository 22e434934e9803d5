"""The adaptive capacity search: the highest arrival rate a target sustains under an objective.

After Shivam et al., "Cutting Corners: Workbench Automation for Server Benchmarking" (USENIX
ATC 2008), and Nighthawk's adaptive load controller: double the rate until a trial fails (halve
it while the start fails), then bisect the bracket; short trials far from the objective, more
trials where a result lies within the measured noise of it (runner.capacity.noise). Disturbed
trials are repeated after a growing pause while the budget allows; a confirmation trial at the
capacity found ends the search when it passes and sends it on below that rate when it fails.
Pure and deterministic: the next step follows from the configuration and the trials so far, so
a stored search can be resumed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from runner.capacity.repeat import repeat_of_invalid
from runner.capacity.result import CapacityResult, Stop
from runner.capacity.search_config import CONFIRMATIONS_KEPT, SearchConfig
from runner.capacity.standing import Standing
from runner.capacity.trials import PlanKind, Trial, TrialPlan

__all__ = ["next_step", "summarize"]


def _converged(config: SearchConfig, low: int, high: int) -> bool:
    return high - low <= 1 or (high - low) / high <= config.precision


def _width_text(config: SearchConfig, width: float) -> str:
    """'is 3.7% wide, within the precision (5%)', or why a wider bracket still converged."""
    if width <= config.precision:
        return f"is {width:.1%} wide, within the precision ({config.precision:.0%})"
    return f"is {width:.1%} wide: adjacent whole rates, no finer step exists"


def _short(config: SearchConfig, rate: int, kind: PlanKind, reason: str) -> TrialPlan:
    return TrialPlan(rate, config.short_s, kind, reason)


def _bracketing(config: SearchConfig, standing: Standing) -> TrialPlan | Stop:
    """The move while only one side (or neither) of the bracket is known."""
    low, high = standing.highest_pass, standing.lowest_fail
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


def _move(config: SearchConfig, standing: Standing) -> TrialPlan | Stop:
    """Bracket, then bisect, until the bracket is within the precision."""
    low, high = standing.highest_pass, standing.lowest_fail
    if low is None or high is None:
        return _bracketing(config, standing)
    width = (high.rate - low.rate) / high.rate
    if _converged(config, low.rate, high.rate):
        return Stop("converged", f"bracket {low.rate}-{high.rate} RPS {_width_text(config, width)}")
    middle = (low.rate + high.rate) // 2
    return _short(config, middle, "bisect", f"bisect {low.rate}-{high.rate} RPS ({width:.0%} wide)")


def client_limit(trials: Sequence[Trial]) -> int | None:
    """The lowest rate the load generator could not offer (a client-bound trial), if any."""
    rates = [t.rate for t in trials if t.judgement.verdict == "client-bound"]
    return min(rates, default=None)


def _at_client_limit(standing: Standing, limit: int) -> Stop | None:
    """The end of the search when k6 could not offer `limit` RPS and no fail lies below it:
    close to its limit k6's own delays already raise the latency it measures, so trials just
    below it would judge k6, not the server. None when a fail lies below the limit (a failed
    confirmation, for one), or a pass at or above it: the usual bracket decides."""
    low, high = standing.highest_pass, standing.lowest_fail
    if (high is not None and high.rate <= limit) or (low is not None and low.rate >= limit):
        return None
    return Stop("client limit", f"the load generator could not offer {limit} RPS")


def _settling(
    config: SearchConfig, trials: Sequence[Trial], standing: Standing
) -> TrialPlan | None:
    """Another, long trial at a rate whose trials so far lie within the noise of the objective."""
    rate = standing.open_rate
    if rate is None:
        return None
    done = sum(t.rate == rate and t.counted and t.plan.kind != "confirm" for t in trials)
    reason = (
        f"close to the objective at {rate} RPS (within the noise): trial {done + 1} of at most "
        f"{1 + config.most_long_trials}"
    )
    return TrialPlan(rate, config.long_s, "settle", reason, long=True)


def _below_failed_confirmation(
    config: SearchConfig, trials: Sequence[Trial], standing: Standing
) -> TrialPlan | None:
    """After a confirmation failed close to the objective, a confirmation one precision step
    below it: the capacity lies just under that rate, and the pass the search had below it may
    be far lower (the doubling's last, half the rate). A clear fail bisects as usual."""
    last = next((t for t in reversed(trials) if t.counted), None)
    if last is None or last.plan.kind != "confirm" or last.judgement.verdict != "fail":
        return None
    if last.judgement.hard or not last.judgement.close:
        return None
    rate = math.ceil(last.rate * (1 - config.precision))
    low = standing.highest_pass
    if rate >= last.rate or (low is not None and rate <= low.rate):
        return None
    reason = (
        f"the confirmation at {last.rate} RPS failed close to the objective: confirm {rate} RPS, "
        f"{config.precision:.0%} below it, over {config.confirmation_s:g} s"
    )
    plan = TrialPlan(rate, config.confirmation_s, "confirm", reason, long=True)
    return plan if isinstance(_within_budget(config, trials, plan), TrialPlan) else None


def _spent_s(config: SearchConfig, trials: Sequence[Trial]) -> float:
    return sum(config.trial_cost_s(t.outcome.duration_s + t.outcome.settle_s) for t in trials)


def _within_budget(
    config: SearchConfig, trials: Sequence[Trial], plan: TrialPlan
) -> TrialPlan | Stop:
    """The plan if it (and, unless it is one, a confirmation trial) still fits in the budget."""
    spent = _spent_s(config, trials)
    needed = config.trial_cost_s(plan.duration_s)
    if plan.kind != "confirm":
        needed += CONFIRMATIONS_KEPT * config.trial_cost_s(config.confirmation_s)
    if spent + needed <= config.budget_s:
        return plan
    also = (
        ""
        if plan.kind == "confirm"
        else f" and {CONFIRMATIONS_KEPT} confirmations of {config.confirmation_s:g} s"
    )
    return Stop(
        "budget spent",
        f"{spent:.0f} s of {config.budget_s:.0f} s spent: no room for a {plan.duration_s:g} s "
        f"trial at {plan.rate} RPS{also}",
    )


def _confirm_or(config: SearchConfig, trials: Sequence[Trial], stop: Stop) -> TrialPlan | Stop:
    """A confirmation trial at the capacity when none has passed there yet and one fits."""
    low = config.standing(trials, final=True).highest_pass
    if low is None:
        return stop
    here = [t for t in trials if t.plan.kind == "confirm" and t.rate == low.rate and t.counted]
    if here:
        return stop  # it passed (a failed one would have put the capacity below it)
    plan = TrialPlan(
        low.rate,
        config.confirmation_s,
        "confirm",
        f"confirm {low.rate} RPS over {config.confirmation_s:g} s",
        long=True,
    )
    fits = _within_budget(config, trials, plan)
    return stop if isinstance(fits, Stop) else plan


def next_step(config: SearchConfig, trials: Sequence[Trial]) -> TrialPlan | Stop:
    """The next trial to run, or why the search is over, from the trials so far."""
    retry = repeat_of_invalid(trials, config.pause_s, config.most_pause_s)
    if retry is not None:
        fits = _within_budget(config, trials, retry)
        return fits if isinstance(fits, TrialPlan) else _confirm_or(config, trials, fits)
    standing = config.standing(trials)
    below = _below_failed_confirmation(config, trials, standing)
    if below is not None:
        return below
    limit = client_limit(trials)
    at_limit = _at_client_limit(standing, limit) if limit is not None else None
    if at_limit is not None:
        return _confirm_or(config, trials, at_limit)
    step = _settling(config, trials, standing) or _move(config, standing)
    if isinstance(step, TrialPlan):
        step = _within_budget(config, trials, step)
    return step if isinstance(step, TrialPlan) else _confirm_or(config, trials, step)


def _confidence(config: SearchConfig, standing: Standing) -> str:
    """The confidence statement: how each end of the interval was settled, and the noise."""
    low, high = standing.highest_pass, standing.lowest_fail
    parts = [
        f"highest settled pass {low.rate} RPS ({low.how})" if low else "no rate passed",
        f"lowest settled fail {high.rate} RPS ({high.how})" if high else "no rate failed",
    ]
    if low and high:
        width = (high.rate - low.rate) / high.rate
        if _converged(config, low.rate, high.rate):
            parts.append(f"interval {_width_text(config, width)}")
        else:
            parts.append(
                f"interval is {width:.1%} wide, wider than the precision ({config.precision:.0%})"
            )
    parts.append(standing.noise.text(config.objective.percentile))
    return "; ".join(parts)


def summarize(config: SearchConfig, trials: Sequence[Trial], stop: Stop) -> CapacityResult:
    """The result of a finished search, its confirmation trials included."""
    standing = config.standing(trials, final=True)
    low = standing.highest_pass
    at_capacity = [
        t for t in trials if t.plan.kind == "confirm" and low is not None and t.rate == low.rate
    ]
    confirmations = [t for t in trials if t.plan.kind == "confirm"]
    last = at_capacity or confirmations
    return CapacityResult(
        capacity_rps=low.rate if low else None,
        highest_pass=low,
        lowest_fail=standing.lowest_fail,
        stop=stop,
        confidence=_confidence(config, standing),
        trials=tuple(trials),
        confirmation=last[-1] if last else None,
        failed_confirmations=standing.failed_confirmations,
        noise_sigma=standing.noise.sigma,
    )
