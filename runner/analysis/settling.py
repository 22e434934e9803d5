"""A sequential decision on a ratio: is the lead of one sample over another settled yet?

After each round of `repetitions: auto` (runner.run.rounds) a level's best target is tested
against its runner-up, the same question the report's Winner column answers
(runner.analysis.verdicts), with the same Welch test on log values
(runner.analysis.significance):

- lead: the runner-up is behind by at least `min_effect` (ratio of medians, as the Winner
  column reads it) and the test gives p < (1 - confidence) / looks: the report will name a
  winner;
- equivalent: the confidence interval of the ratio (geometric means) lies within 1 +- margin:
  more rounds would not turn this into a lead worth naming;
- open: neither yet; another round may tell.

Nothing here knows of targets or levels: two samples and a rule in, a decision out, so a paired
A/B comparison can stop the same way. Looking after every round would raise the chance that
noise once passes the test: the lead's test is split over the looks (Bonferroni).

`settle_paired` is the same decision for paired samples (runner.ab: one log ratio per ABBA
pair, candidate over baseline): the estimate is the 20%-trimmed mean of the log ratios, its
interval and test Yuen's (the trimmed mean's t statistic on the winsorized variance), so one or
two stray pairs in ten cannot carry it; `lead` (either direction: the ratio's side tells) when
|ratio - 1| >= min_effect and the test gives p < alpha, `equivalent` when the interval at
1 - alpha lies within 1 +- margin. Both errors are held at alpha per look, split over the looks.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from runner.analysis import formatting as fmt
from runner.analysis.significance import welch_estimate

SettlingState = Literal["lead", "equivalent", "open"]


@dataclass(frozen=True)
class SettlingRule:
    min_effect: float  # smallest lead (fraction) that names a winner, as report.min_effect
    confidence: float  # of the interval and the test, as report.confidence
    margin: float  # equivalence: the ratio's interval within 1 +- margin
    # How many times the decision may be taken (rounds min..max): a lead must pass the test at
    # (1 - confidence) / looks (Bonferroni), so looking after every round does not let noise
    # pass it more often than a single look would.
    looks: int = 1

    @property
    def alpha(self) -> float:
        return (1 - self.confidence) / self.looks


@dataclass(frozen=True)
class Settling:
    state: SettlingState
    text: str  # 'lead +171.5% (p<0.001)', 'equivalent within ±5%: ratio 1.01 [0.98, 1.03]'
    lead: float  # ratio of medians - 1, best over runner-up (lower-is-better: inverted)
    ratio: float  # ratio of geometric means, best over runner-up
    low: float  # its confidence interval
    high: float
    p_value: float

    @property
    def settled(self) -> bool:
        return self.state != "open"


def settle(
    best: Sequence[float],
    runner_up: Sequence[float],
    rule: SettlingRule,
    higher_is_better: bool = True,
) -> Settling:
    """The decision on `best` against `runner_up` (two or more values each, all > 0)."""
    if min(len(best), len(runner_up)) < 2:
        raise ValueError("settling needs two or more values a side")
    # Oriented so that a ratio above 1 is a lead of `best`.
    ahead, behind = (best, runner_up) if higher_is_better else (runner_up, best)
    estimate = welch_estimate(behind, ahead, relative=True, alpha=1 - rule.confidence)
    lead = statistics.median(ahead) / statistics.median(behind) - 1
    ratio, low, high = 1 + estimate.change, 1 + estimate.low, 1 + estimate.high
    interval = f"ratio {ratio:.2f} [{low:.2f}, {high:.2f}]"
    if lead >= rule.min_effect and estimate.p_value < rule.alpha:
        text = f"lead {fmt.change(lead)} ({fmt.p_value(estimate.p_value)}, under {rule.alpha:.3g})"
        return Settling("lead", text, lead, ratio, low, high, estimate.p_value)
    if 1 - rule.margin <= low and high <= 1 + rule.margin:
        text = f"equivalent within ±{fmt.setting_percent(rule.margin)}: {interval}"
        return Settling("equivalent", text, lead, ratio, low, high, estimate.p_value)
    text = f"open: lead {fmt.change(lead)}, {interval}, {fmt.p_value(estimate.p_value)}"
    return Settling("open", text, lead, ratio, low, high, estimate.p_value)


# Trimmed from each end of the pairs' log ratios before averaging (Yuen; Wilcox's default).
PAIRED_TRIM = 0.2
MIN_PAIRS = 4


def yuen_one_sample(values: Sequence[float], alpha: float) -> tuple[float, float, float, float]:
    """The trimmed mean of `values`, its 1 - alpha interval and the two-sided p-value of its
    difference from 0 (Yuen 1974, one sample: t on the winsorized variance, n - 2g - 1 df)."""
    import numpy as np
    from scipy.special import stdtr, stdtrit  # what scipy.stats.t's sf and ppf compute

    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    g = math.floor(PAIRED_TRIM * n)
    mean = float(x[g : n - g].mean())
    winsorized = np.clip(x, x[g], x[n - 1 - g])
    kept = n - 2 * g
    se = math.sqrt(float(winsorized.var(ddof=1))) / (kept / math.sqrt(n)) if n > 1 else 0.0
    if se == 0:
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    df = kept - 1
    half = float(stdtrit(df, 1 - alpha / 2)) * se
    p_value = float(2 * stdtr(df, -abs(mean) / se))
    return mean, mean - half, mean + half, p_value


def settle_paired(log_ratios: Sequence[float], rule: SettlingRule) -> Settling:
    """The decision on pairs' log ratios (candidate over baseline), MIN_PAIRS or more: `lead`
    means the candidate differs by min_effect or more, in the direction of `ratio`."""
    if len(log_ratios) < MIN_PAIRS:
        raise ValueError(f"a paired decision needs {MIN_PAIRS} or more pairs")
    mean, low, high, p_value = yuen_one_sample(log_ratios, rule.alpha)
    ratio, low, high = math.exp(mean), math.exp(low), math.exp(high)
    interval = f"ratio {ratio:.4f} [{low:.4f}, {high:.4f}]"
    change = ratio - 1
    if abs(change) >= rule.min_effect and p_value < rule.alpha:
        text = f"{fmt.change(change)}, {interval} ({fmt.p_value(p_value)}, under {rule.alpha:.2g})"
        return Settling("lead", text, change, ratio, low, high, p_value)
    if 1 - rule.margin <= low and high <= 1 + rule.margin:
        text = f"within ±{fmt.setting_percent(rule.margin)}: {interval}"
        return Settling("equivalent", text, change, ratio, low, high, p_value)
    text = f"open: {interval}, {fmt.p_value(p_value)}"
    return Settling("open", text, change, ratio, low, high, p_value)
