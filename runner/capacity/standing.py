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
    open_rate: int | None  # a rate whose trials so far leave it unsettled
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


def standing_of(
    trials: Sequence[Trial], objective: Objective, prior: float, most_more: int
) -> Standing:
    noise = search_noise(trials, prior)
    failed = tuple(
        sorted(
            {t.rate for t in trials if t.plan.kind == "confirm" and t.judgement.verdict == "fail"}
        )
    )
    ceiling = failed[0] if failed else None
    settled: dict[int, Settlement] = {}
    open_rate = None
    searched = (t.rate for t in trials if t.counted and t.plan.kind != "confirm")
    for rate in dict.fromkeys(searched):
        if ceiling is not None and rate >= ceiling:
            continue  # at or above a failed confirmation nothing passes
        settlement = settle(rate, trials, objective, noise, most_more)
        if settlement is None:
            open_rate = rate if open_rate is None else open_rate
        else:
            settled[rate] = settlement
    if ceiling is not None:
        settled[ceiling] = _confirmation_failure(trials, ceiling)
    passes = [s for s in settled.values() if s.passed]
    highest_pass = max(passes, key=lambda s: s.rate, default=None)
    floor = highest_pass.rate if highest_pass else 0
    fails = [s for s in settled.values() if not s.passed and s.rate > floor]
    lowest_fail = min(fails, key=lambda s: s.rate, default=None)
    return Standing(highest_pass, lowest_fail, open_rate, noise, failed)
