"""Did the candidate get worse than the baseline? Decisions a CI gate can trust.

Input: for each (target, level, metric) the values of every repetition, in the baseline and in
the candidate. Output: per comparison the ratio of medians, the change with its confidence
interval, a p-value adjusted for the whole family, and a decision with its reason:

- "inconclusive" with fewer than `min_repetitions` a side: no decision is drawn from one or two
  runs, however large the change;
- "regression" / "improvement": the change is significant after Holm-Bonferroni over ALL
  comparisons at once (so the chance of any false alarm in the run stays <= alpha, whatever the
  number of targets, levels and metrics) AND beyond the threshold in size;
- "no change": the (1 - alpha) confidence interval lies within +-threshold;
- "inconclusive" otherwise: the noise is wider than the threshold; more repetitions would tell.

Method: Welch's t-test on log values, i.e. on the ratio of geometric means (the report's winners
and breaking points use the same test, `welch_p_value`). Throughput and
latency noise is multiplicative (a slower machine scales every figure), so logs make it symmetric
and the ratio exp(mean log b - mean log a) is the natural estimate; Welch allows the two runs
different noise. A bootstrap was rejected: with 3 repetitions a side, a resample takes at most 10
distinct values, its intervals are far too narrow and its false-alarm rate well above alpha. The
t-distribution's heavy tails at ~4 degrees of freedom are the honest price of 3 repetitions: a
30% slowdown is found at 2-5% noise, a 5% one needs more repetitions. Pooling the noise across
cells would buy power but break the guarantee wherever one cell is noisier than the others.

The error rate is often exactly 0, so it is compared as a difference of means (in fraction
points, `error_rate_threshold`), not as a ratio; so is any metric with a value <= 0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Decision = Literal["regression", "improvement", "no change", "inconclusive"]
# Exit statuses of a gate; 2 is left to refusals (incomparable runs).
EXIT_STATUS: dict[Decision, int] = {
    "no change": 0,
    "improvement": 0,
    "regression": 1,
    "inconclusive": 3,
}
Key = tuple[str, int, str]  # target, level, metric


@dataclass(frozen=True)
class MetricSpec:
    label: str
    higher_is_better: bool
    relative: bool  # compared as a ratio (log scale); else as a difference of means
    latency: bool = False  # its threshold is `latency_threshold` when one is set


METRICS: dict[str, MetricSpec] = {
    "successful_rps": MetricSpec("successful RPS", higher_is_better=True, relative=True),
    "error_rate": MetricSpec("error rate", higher_is_better=False, relative=False),
    "p95_ms": MetricSpec("p95 ms", higher_is_better=False, relative=True, latency=True),
    "p99_ms": MetricSpec("p99 ms", higher_is_better=False, relative=True, latency=True),
}


class SignificanceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(
        default=0.05, gt=0.0, lt=1.0, description="Family-wise false-alarm rate of a compare."
    )
    min_repetitions: int = Field(
        default=3, ge=2, description="Repetitions each side needs before anything is decided."
    )
    threshold: float = Field(
        default=0.05, gt=0.0, description="Smallest relative change that counts (0.05 = 5%)."
    )
    latency_threshold: float | None = Field(
        default=None, gt=0.0,
        description="Smallest relative latency (p95, p99) change that counts; None: `threshold`.",
    )  # fmt: skip
    error_rate_threshold: float = Field(
        default=0.01, gt=0.0, description="Smallest error-rate change that counts, in fraction "
        "points (0.01 = one percentage point).",
    )  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """The candidate's change from the baseline with its interval and (unadjusted) p-value.
    Relative metrics: ratio - 1 (0.3 = 30% higher); others: difference of means."""

    change: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class Comparison:
    target: str
    level: int
    metric: str
    baseline: tuple[float, ...]
    candidate: tuple[float, ...]
    ratio_of_medians: float | None  # None when the baseline median is 0
    estimate: Estimate | None  # None with fewer than min_repetitions a side
    adjusted_p_value: float | None  # Holm over every comparison with an estimate
    decision: Decision
    reason: str


def welch_estimate(
    a: Sequence[float], b: Sequence[float], relative: bool, alpha: float
) -> Estimate:
    """Welch's t-test of b against a: on logs when `relative` (and every value > 0), otherwise on
    the values, the change then relative to a's mean when `relative`."""
    # Imported here, and scipy.special rather than scipy.stats (half a second to import): a
    # refused compare pays for neither. stdtr/stdtrit are what stats.t's sf and ppf compute.
    import numpy as np
    from scipy.special import stdtr, stdtrit

    on_logs = relative and min(*a, *b) > 0
    x, y = (np.log(a), np.log(b)) if on_logs else (np.asarray(a), np.asarray(b))
    difference = float(y.mean() - x.mean())
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    if se == 0:
        p_value, half_width = (1.0 if difference == 0 else 0.0), 0.0
    else:
        df = se**4 / (
            (x.var(ddof=1) / len(x)) ** 2 / (len(x) - 1)
            + (y.var(ddof=1) / len(y)) ** 2 / (len(y) - 1)
        )
        p_value = float(2 * stdtr(df, -abs(difference) / se))
        half_width = float(stdtrit(df, 1 - alpha / 2)) * se
    low, high = difference - half_width, difference + half_width
    if on_logs:
        return Estimate(math.expm1(difference), math.expm1(low), math.expm1(high), p_value)
    scale = float(x.mean()) if relative and x.mean() > 0 else 1.0
    return Estimate(difference / scale, low / scale, high / scale, p_value)


def welch_p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sided p-value of `welch_estimate` on a ratio: the report's winners and breaking
    points use the same test as the gate. Identical constant samples give 1, different ones 0."""
    return welch_estimate(a, b, relative=True, alpha=0.05).p_value


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values: reject where adjusted < alpha keeps the family-wise
    error rate at alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def compare_repetitions(
    baseline: Mapping[Key, Sequence[float]],
    candidate: Mapping[Key, Sequence[float]],
    settings: SignificanceSettings | None = None,
) -> list[Comparison]:
    """One comparison per key of the baseline, decided together (see the module doc). A key
    missing from the candidate is an error: the caller refuses such runs before comparing."""
    settings = settings or SignificanceSettings()
    _check_keys(baseline, candidate)
    keys = sorted(baseline)
    estimates = {key: _estimate(key, baseline, candidate, settings) for key in keys}
    tested = [key for key in keys if estimates[key] is not None]
    adjusted = dict(zip(tested, holm_adjust([_p(estimates[k]) for k in tested]), strict=True))
    return [
        _decide(key, baseline[key], candidate[key], estimates[key], adjusted.get(key), settings)
        for key in keys
    ]


def _check_keys(baseline: Mapping[Key, object], candidate: Mapping[Key, object]) -> None:
    unknown = sorted({metric for _, _, metric in baseline} - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(METRICS)}")
    missing = sorted(set(baseline) - set(candidate))
    if missing:
        raise ValueError(f"the candidate lacks {len(missing)} comparison(s), first {missing[0]}")


def _p(estimate: Estimate | None) -> float:
    return 1.0 if estimate is None else estimate.p_value


def _estimate(
    key: Key,
    baseline: Mapping[Key, Sequence[float]],
    candidate: Mapping[Key, Sequence[float]],
    settings: SignificanceSettings,
) -> Estimate | None:
    a, b = baseline[key], candidate[key]
    if min(len(a), len(b)) < settings.min_repetitions:
        return None
    return welch_estimate(a, b, METRICS[key[2]].relative, settings.alpha)


def _decide(
    key: Key,
    a: Sequence[float],
    b: Sequence[float],
    estimate: Estimate | None,
    adjusted_p: float | None,
    settings: SignificanceSettings,
) -> Comparison:
    target, level, metric = key
    median_a = statistics.median(a) if a else 0.0
    ratio = statistics.median(b) / median_a if median_a and b else None
    decision, reason = _verdict(METRICS[metric], len(a), len(b), estimate, adjusted_p, settings)
    return Comparison(
        target, level, metric, tuple(a), tuple(b), ratio, estimate, adjusted_p, decision, reason
    )


def _verdict(
    spec: MetricSpec,
    n_a: int,
    n_b: int,
    estimate: Estimate | None,
    adjusted_p: float | None,
    settings: SignificanceSettings,
) -> tuple[Decision, str]:
    if estimate is None or adjusted_p is None:
        return "inconclusive", (
            f"{n_a} and {n_b} repetitions; a decision needs {settings.min_repetitions} a side"
        )
    threshold = threshold_of(spec, settings)
    shown = _describe(spec, estimate, settings.alpha)
    if adjusted_p < settings.alpha and abs(estimate.change) > threshold:
        worse = (estimate.change < 0) == spec.higher_is_better
        decision: Decision = "regression" if worse else "improvement"
        return decision, f"{shown}; Holm-adjusted p={adjusted_p:.3g} < {settings.alpha:g}"
    limit = _format_change(spec, threshold).lstrip("+")
    if -threshold <= estimate.low and estimate.high <= threshold:
        return "no change", f"{shown}: within +-{limit}"
    return "inconclusive", (
        f"{shown} reaches beyond +-{limit} (Holm-adjusted p={adjusted_p:.3g}): "
        "noise wider than the threshold; more repetitions would tell"
    )


def threshold_of(spec: MetricSpec, settings: SignificanceSettings) -> float:
    """The smallest change of this metric that counts."""
    if not spec.relative:
        return settings.error_rate_threshold
    if spec.latency and settings.latency_threshold is not None:
        return settings.latency_threshold
    return settings.threshold


def _format_change(spec: MetricSpec, value: float) -> str:
    return f"{value:+.1%}" if spec.relative else f"{value * 100:+.2f} pt"


def confidence_text(alpha: float) -> str:
    """'95%', '99.9%': the confidence level of the intervals, never rounded up to 100%."""
    return f"{round((1 - alpha) * 100, 4):g}%"


def _describe(spec: MetricSpec, estimate: Estimate, alpha: float) -> str:
    interval = f"{_format_change(spec, estimate.low)}..{_format_change(spec, estimate.high)}"
    return (
        f"{spec.label} {_format_change(spec, estimate.change)} "
        f"({confidence_text(alpha)} interval {interval})"
    )


def overall_decision(comparisons: Iterable[Comparison]) -> Decision:
    """One word for the whole compare: any regression wins, then any inconclusive."""
    decisions = {c.decision for c in comparisons}
    precedence: tuple[Decision, ...] = ("regression", "inconclusive", "improvement")
    for decision in precedence:
        if decision in decisions:
            return decision
    return "no change"


def exit_status(comparisons: Iterable[Comparison]) -> int:
    """0 no change or improvement, 1 regression, 3 inconclusive (2: refused, by the caller)."""
    return EXIT_STATUS[overall_decision(comparisons)]
