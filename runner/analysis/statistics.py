"""Repetitions of one quantity: median, range, confidence interval (the Welch t-test that compares
two of them is runner.analysis.significance's, shared with the compare gate)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """Repetitions of one quantity: median, range and, with n >= 3, a CI of the mean."""

    values: tuple[float, ...]
    median: float
    mean: float
    min: float
    max: float
    ci_low: float | None
    ci_high: float | None

    @property
    def n(self) -> int:
        return len(self.values)


def spread(values: list[float], confidence: float) -> Spread:
    mean = statistics.fmean(values)
    ci_low = ci_high = None
    if len(values) >= 3:
        # Imported here: scipy.stats takes half a second, which a refused command need not pay.
        from scipy import stats

        sem = stats.sem(values)
        if sem > 0:
            ci_low, ci_high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
        else:
            ci_low = ci_high = mean
    return Spread(
        values=tuple(values),
        median=float(statistics.median(values)),
        mean=mean,
        min=min(values),
        max=max(values),
        ci_low=None if ci_low is None else float(ci_low),
        ci_high=None if ci_high is None else float(ci_high),
    )


def median(values: list[float]) -> float:
    return float(statistics.median(values))
