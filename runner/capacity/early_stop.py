"""Early stop: whether a running trial has clearly broken its objective, from the live feed.

A failing trial then costs seconds instead of its full duration. The rule is deliberately far
from the objective (several times it), so a trial it stops would have failed anyway: it never
turns a close call into a fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.capacity.objective import Objective

__all__ = ["EARLY_STOP_RULE", "EarlyStopRule", "LiveReading", "clearly_broken"]

EARLY_STOP_RULE = (
    "Early stop: after a grace of {grace_s:g} s, a trial ends as soon as the {percentile} over "
    "the last second(s) is at least {latency_factor:g}x the objective ({threshold_ms:g} ms) "
    "in {consecutive} readings in a row, or, once {min_requests} requests have been answered, "
    "the error rate so far exceeds {error_factor:g}x the limit ({error_threshold:.2%}). Such a "
    "trial fails, and counts against the budget at the seconds it ran."
)


@dataclass(frozen=True)
class LiveReading:
    """One reading of the live feed during a trial's measured window."""

    elapsed_s: float  # since the trial's measured window opened
    recent_percentile_ms: float | None  # over the last second(s); None if nothing finished
    errors: int  # failed requests so far in the window
    requests: int  # requests so far in the window


@dataclass(frozen=True)
class EarlyStopRule:
    """The thresholds of EARLY_STOP_RULE."""

    grace_s: float = 2.0
    latency_factor: float = 3.0
    consecutive: int = 2
    error_factor: float = 5.0
    min_requests: int = 100

    def text(self, objective: Objective) -> str:
        """EARLY_STOP_RULE with this rule's and the objective's figures, for reports."""
        return EARLY_STOP_RULE.format(
            grace_s=self.grace_s,
            percentile=objective.percentile,
            latency_factor=self.latency_factor,
            threshold_ms=self.latency_factor * objective.latency_ms,
            consecutive=self.consecutive,
            min_requests=self.min_requests,
            error_factor=self.error_factor,
            error_threshold=self.error_factor * objective.max_error_rate,
        )


def _latency_broken(
    objective: Objective, readings: Sequence[LiveReading], rule: EarlyStopRule
) -> str | None:
    recent = [r for r in readings if r.elapsed_s >= rule.grace_s][-rule.consecutive :]
    threshold = rule.latency_factor * objective.latency_ms
    if len(recent) < rule.consecutive:
        return None
    values = [r.recent_percentile_ms for r in recent]
    if any(v is None or v < threshold for v in values):
        return None
    shown = ", ".join(f"{v:.0f}" for v in values if v is not None)
    return (
        f"{objective.percentile} {shown} ms in {rule.consecutive} readings in a row, at least "
        f"{rule.latency_factor:g}x the objective ({objective.latency_ms:g} ms)"
    )


def _errors_broken(
    objective: Objective, readings: Sequence[LiveReading], rule: EarlyStopRule
) -> str | None:
    last = readings[-1]
    if last.elapsed_s < rule.grace_s or last.requests < rule.min_requests:
        return None
    rate = last.errors / last.requests
    threshold = rule.error_factor * objective.max_error_rate
    if rate <= threshold:
        return None
    return f"error rate {rate:.2%} over {last.requests} requests, above {threshold:.2%}"


def clearly_broken(
    objective: Objective, readings: Sequence[LiveReading], rule: EarlyStopRule | None = None
) -> str | None:
    """Why the trial should stop now, or None while the objective is not clearly broken.

    `readings` are the trial's live readings so far, oldest first.
    """
    if not readings:
        return None
    rule = rule or EarlyStopRule()
    return _latency_broken(objective, readings, rule) or _errors_broken(objective, readings, rule)
