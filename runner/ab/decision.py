"""The decision after each pair: per metric, runner.analysis.settling's paired rule on the
pairs' log ratios (candidate over baseline); over the metrics, one verdict.

- slower: some metric is worse by the margin or more, and significantly (p under alpha split
  over the metrics and the looks);
- faster: the primary metric is better by the margin or more, significantly, and none is slower;
- same: the primary metric's interval lies within 1 +- margin, and none is slower;
- continue: none of these yet; at the budget, inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from runner.ab.load import BlockFigures
from runner.ab.settings import METRIC_LABELS, METRICS, AbSettings
from runner.analysis.settling import MIN_PAIRS, Settling, settle_paired

Verdict = Literal["slower", "faster", "same", "continue", "inconclusive", "refused"]
EXIT_STATUS: dict[Verdict, int] = {
    "same": 0,
    "faster": 0,
    "slower": 1,
    "refused": 2,
    "inconclusive": 3,
    "continue": 3,
}


@dataclass(frozen=True)
class Pair:
    """One ABBA pair's two blocks: their figures, and the candidate-over-baseline log ratios."""

    index: int
    first: str  # "baseline" or "candidate": which went first
    baseline: BlockFigures
    candidate: BlockFigures

    def log_ratio(self, metric: str) -> float | None:
        base, cand = self.baseline.metric(metric), self.candidate.metric(metric)
        if not base or not cand or base <= 0 or cand <= 0:
            return None
        return math.log(cand / base)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    because: str  # the sentence it rests on
    metrics: dict[str, Settling]  # per metric, once MIN_PAIRS pairs are in


def worse(metric: str, settling: Settling) -> bool:
    """The candidate is worse on `metric`: less throughput, or more latency."""
    return settling.ratio < 1 if METRICS[metric] else settling.ratio > 1


def log_ratios(pairs: list[Pair]) -> dict[str, list[float]]:
    """Each metric's log ratios over the pairs (a pair without the figure left out)."""
    found: dict[str, list[float]] = {metric: [] for metric in METRICS}
    for pair in pairs:
        for metric in METRICS:
            ratio = pair.log_ratio(metric)
            if ratio is not None:
                found[metric].append(ratio)
    return found


def decide(pairs: list[Pair], settings: AbSettings) -> Decision:
    """The verdict after these pairs (`continue` until one is reached)."""
    return decide_ratios(log_ratios(pairs), settings)


def decide_ratios(ratios: dict[str, list[float]], settings: AbSettings) -> Decision:
    """The verdict on each metric's log ratios so far (bench/ab_power.py replays it)."""
    rule = settings.rule
    metrics = {m: settle_paired(r, rule) for m, r in ratios.items() if len(r) >= MIN_PAIRS}
    if settings.primary not in metrics:
        return Decision("continue", f"fewer than {MIN_PAIRS} pairs", metrics)
    slower = [m for m, s in metrics.items() if s.state == "lead" and worse(m, s)]
    if slower:
        named = "; ".join(f"{METRIC_LABELS[m]} {metrics[m].text}" for m in slower)
        return Decision("slower", named, metrics)
    primary = metrics[settings.primary]
    label = METRIC_LABELS[settings.primary]
    if primary.state == "lead":
        return Decision("faster", f"{label} {primary.text}", metrics)
    if primary.state == "equivalent":
        return Decision("same", f"{label} {primary.text}, no metric worse", metrics)
    return Decision("continue", f"{label} {primary.text}", metrics)


def rule_text(settings: AbSettings) -> str:
    """The decision's rule, printed beside it."""
    rule = settings.rule
    margin = f"{settings.margin * 100:g}%"
    return (
        f"Per metric, the 20%-trimmed mean of the pairs' log ratios (candidate/baseline) with "
        f"Yuen's interval; a metric differs when the ratio is off 1 by {margin} or more at "
        f"p < {rule.alpha:.2g}, which is alpha {settings.alpha:g} split over {len(METRICS)} "
        f"metrics and {rule.looks} looks (Bonferroni). Slower: a metric worse so; faster: "
        f"{METRIC_LABELS[settings.primary]} better so and none worse; the same: its "
        f"{100 * (1 - rule.alpha):.3g}% interval within 1 ± {margin} and none worse; "
        f"inconclusive: none of these within the budget."
    )
