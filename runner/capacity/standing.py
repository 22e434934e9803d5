"""Where a capacity search stands after its trials so far: the noise measured, each rate's
settlement, the highest settled pass and the lowest settled fail above it, a rate left open,
and the rates whose confirmation failed (nothing at or above them counts as a pass). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.capacity.noise import Noise, pooled_noise
from runner.capacity.objective import Objective
from runner.capacity.trials import Settlement, Trial, sample, settle

__all__ = ["Standing", "search_noise", "standing_of"]


@dataclass(frozen=True)
class Standing:
    """The settled rates so far: the highest pass and the lowest fail above it."""

    highest_pass: Settlement | None
    lowest_fail: Settlement | None
    open_rate: int | None  # a rate inside the interval whose trials so far leave it unsettled
    noise: Noise
    failed_confirmations: tuple[int, ...]  # rates, rising


def search_noise(trials: Sequence[Trial], prior: float) -> Noise:
    """The noise of the search's counted trials whose percentile is a measurement, not a
    collapse (hard fails: stopped early, drops, errors far over the limit, say nothing of the
    noise). Confirmations are left out: a passing one must not reopen the search."""
    measured = [
        sample(t) for t in trials if t.counted and not t.judgement.hard and t.plan.kind != "confirm"
    ]
    return pooled_noise(measured, prior)


def _confirmation_failure(trials: Sequence[Trial], rate: int) -> Settlement:
    failed = next(
        t
        for t in trials
        if t.plan.kind == "confirm" and t.rate == rate and t.judgement.verdict == "fail"
    )
    return Settlement(rate, False, f"confirmation failed: {failed.judgement.why}")


def _passed_confirmations(
    trials: Sequence[Trial], searched: set[int], ceiling: int | None
) -> dict[int, Settlement]:
    """Passes from confirmations at rates no search trial ran at: the confirmation one step
    below a failed one (runner.capacity.search) is the only trial at its rate."""
    passed: dict[int, Settlement] = {}
    for t in trials:
        if t.plan.kind != "confirm" or t.judgement.verdict != "pass" or t.rate in searched:
            continue
        if ceiling is None or t.rate < ceiling:
            passed[t.rate] = Settlement(t.rate, True, f"confirmation passed: {t.judgement.why}")
    return passed


def _interval(settled: dict[int, Settlement]) -> tuple[Settlement | None, Settlement | None]:
    """The highest settled pass and the lowest settled fail above it."""
    passes = [s for s in settled.values() if s.passed]
    highest_pass = max(passes, key=lambda s: s.rate, default=None)
    floor = highest_pass.rate if highest_pass else 0
    fails = [s for s in settled.values() if not s.passed and s.rate > floor]
    return highest_pass, min(fails, key=lambda s: s.rate, default=None)


def _inside(rates: Sequence[int], low: Settlement | None, high: Settlement | None) -> list[int]:
    """The open rates that can move the interval: above a settled fail a rate fails, below a
    settled pass it passes, so trials there would spend the budget on nothing."""
    floor = low.rate if low else 0
    return [r for r in rates if r > floor and (high is None or r < high.rate)]


def standing_of(
    trials: Sequence[Trial],
    objective: Objective,
    prior: float,
    most_more: int,
    final: bool = False,
) -> Standing:
    """Where the search stands; `final` (the search is over) takes each open rate inside the
    interval by its trials' geometric mean, as after the most trials ("undecided, taken as")."""
    noise = search_noise(trials, prior)
    failed = tuple(
        sorted(
            {t.rate for t in trials if t.plan.kind == "confirm" and t.judgement.verdict == "fail"}
        )
    )
    ceiling = failed[0] if failed else None
    settled: dict[int, Settlement] = {}
    open_rates: list[int] = []
    searched = dict.fromkeys(t.rate for t in trials if t.counted and t.plan.kind != "confirm")
    for rate in searched:
        if ceiling is not None and rate >= ceiling:
            continue  # at or above a failed confirmation nothing passes
        settlement = settle(rate, trials, objective, noise, most_more)
        if settlement is None:
            open_rates.append(rate)
        else:
            settled[rate] = settlement
    settled.update(_passed_confirmations(trials, set(searched), ceiling))
    if ceiling is not None:
        settled[ceiling] = _confirmation_failure(trials, ceiling)
    open_rates = _inside(open_rates, *_interval(settled))
    if final:
        for rate in open_rates:
            taken = settle(rate, trials, objective, noise, 0)
            if taken is not None:
                settled[rate] = taken
        open_rates = []
    highest_pass, lowest_fail = _interval(settled)
    return Standing(highest_pass, lowest_fail, next(iter(open_rates), None), noise, failed)
