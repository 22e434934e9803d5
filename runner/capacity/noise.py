"""How far a trial's percentile moves by chance on this machine, and when a rate's trials settle.

Pure. The percentile of a short trial near the objective moves from trial to trial (the
platform's stalls, steal, the server's own jitter); on a shared 2-vCPU VM p99 moved between
24 and 45 ms in three 10 s trials at one rate. So a result counts as settled only once it lies
outside that noise:

- the noise is the spread of log(percentile) between trials at the same rate, pooled over every
  rate this search repeated, with a prior of `prior` (relative) worth PRIOR_WEIGHT trials until
  repeats measure it;
- a rate's trials settle it as a pass when the geometric mean of their percentiles lies below
  the objective by more than z x noise / sqrt(n), as a fail when above it by more; a platform
  stall (the stall probe's longest on the measured cores) may have raised a trial's percentile
  by up to its length, so a fail must hold with each trial's percentile less its longest stall;
- otherwise the rate is close: more trials at it, up to a most; then the geometric mean decides.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "NOISE_PRIOR",
    "NOISE_RULE",
    "PRIOR_WEIGHT",
    "Z_ONE_SIDED",
    "Noise",
    "Sample",
    "geometric_mean_ms",
    "latency_side",
    "pooled_noise",
]

# The spread assumed before repeats measure one: log(percentile) sd of a short trial near the
# objective. Three 10 s steps at one rate measured p99 24, 31 and 45 ms here (sd 0.32); two
# 10 s trials of FastAPI on /io measured 92 and 94 ms (sd 0.02).
NOISE_PRIOR = 0.25
PRIOR_WEIGHT = 2.0  # the prior counts as this many degrees of freedom
Z_ONE_SIDED = 1.645  # 95% one-sided: each end of the bracket is settled at this confidence
# A stall shortens the percentile at most to this share of itself (never to zero).
STALL_FLOOR_SHARE = 0.5

NOISE_RULE = (
    "Settled: a rate's trials settle it when the geometric mean of their {percentile} lies "
    "outside the objective by more than {z:g} x the noise / sqrt(trials) (95% one-sided); the "
    "noise is the spread of log({percentile}) between trials at the same rate, pooled over the "
    "rates the search repeated, with a prior of {prior:.0%} worth {weight:g} trials until repeats "
    "measure it. A fail must hold with each trial's {percentile} less the platform's longest "
    "stall during it (stall probe). A rate inside the noise is close: it gets more trials (up "
    "to {most} more), then the geometric mean decides. Early-stopped trials, and trials failing "
    "on errors (beyond twice the limit), dropped iterations or the achieved rate, settle a fail "
    "at once."
)


@dataclass(frozen=True)
class Sample:
    """One counted trial's latency at a rate: its percentile and the longest platform stall."""

    rate: int
    percentile_ms: float
    stall_ms: float = 0.0


@dataclass(frozen=True)
class Noise:
    """The spread of log(percentile) between trials at one rate, and what it rests on."""

    sigma: float
    repeats: int  # trials beyond the first at their rates (degrees of freedom measured)
    prior: float

    def text(self, percentile: str) -> str:
        """'noise ±28% (1 sd of p99, from 3 repeated trials and the 25% prior)'."""
        source = (
            f"from {self.repeats} repeated trial(s) and the {self.prior:.0%} prior"
            if self.repeats
            else "the prior: no rate repeated yet"
        )
        return f"noise ±{math.expm1(self.sigma):.0%} (1 sd of {percentile}, {source})"

    def band(self, trials: int = 1) -> float:
        """Half-width, in log(percentile), of what `trials` trials' mean cannot tell apart."""
        return Z_ONE_SIDED * self.sigma / math.sqrt(max(trials, 1))


def _log(value_ms: float) -> float:
    return math.log(max(value_ms, 1e-3))


def pooled_noise(samples: Sequence[Sample], prior: float = NOISE_PRIOR) -> Noise:
    """The pooled spread of log(percentile) within rates, shrunk towards `prior`."""
    by_rate: dict[int, list[float]] = {}
    for sample in samples:
        by_rate.setdefault(sample.rate, []).append(_log(sample.percentile_ms))
    squares, freedom = 0.0, 0
    for logs in by_rate.values():
        if len(logs) >= 2:
            mean = statistics.fmean(logs)
            squares += sum((x - mean) ** 2 for x in logs)
            freedom += len(logs) - 1
    variance = (PRIOR_WEIGHT * prior**2 + squares) / (PRIOR_WEIGHT + freedom)
    return Noise(math.sqrt(variance), freedom, prior)


def latency_side(samples: Sequence[Sample], objective_ms: float, noise: Noise) -> bool | None:
    """True (settled pass), False (settled fail) or None (close) for one rate's samples."""
    if not samples:
        return None
    target = _log(objective_ms)
    band = noise.band(len(samples))
    high = statistics.fmean(_log(s.percentile_ms) for s in samples)
    low = statistics.fmean(
        _log(max(s.percentile_ms - s.stall_ms, STALL_FLOOR_SHARE * s.percentile_ms))
        for s in samples
    )
    if high + band < target:
        return True
    if low - band > target:
        return False
    return None


def geometric_mean_ms(samples: Sequence[Sample]) -> float:
    return math.exp(statistics.fmean(_log(s.percentile_ms) for s in samples))
