"""The latency objective of a capacity search, one trial's outcome, and the verdict on it.

Pure: nothing here measures anything. The figures of an outcome come from the trial's own
measured window (not a cumulative figure over the whole search), so a trial speaks only for the
rate it offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.capacity.noise import Noise, Sample, latency_side, pooled_noise
from runner.config.experiment.capacity import Percentile

__all__ = [
    "ACHIEVED_SHARE",
    "CLIENT_BOUND",
    "CLOSE_ERROR_FACTOR",
    "INTERFERENCE",
    "STALLS",
    "TRIAL_RULE",
    "Judgement",
    "Objective",
    "Percentile",
    "TrialOutcome",
    "Verdict",
    "is_close",
    "judge",
]

Verdict = Literal["pass", "fail", "invalid", "client-bound"]

# Validity reasons produced by the step-validity rules elsewhere; any reason other than
# CLIENT_BOUND (interference, for one) means "repeat, do not count".
CLIENT_BOUND = "client-bound"
INTERFERENCE = "interference"
STALLS = "stalls"

# k6 may start a handful of requests late without the server being at fault.
ACHIEVED_SHARE = 0.99
# An error rate within this factor of the limit (either side) is close: more trials decide.
CLOSE_ERROR_FACTOR = 2.0

TRIAL_RULE = (
    "A trial passes when, over its own measured window, the {percentile} latency is at most "
    "{latency_ms:g} ms, the error rate at most {max_error_rate:.2%}, the achieved rate at least "
    f"{ACHIEVED_SHARE:.0%} of the rate asked, and k6 dropped no iteration. A result is close "
    "when the {percentile} lies within the measured noise of the objective (see Settled) or the "
    f"error rate within a factor {CLOSE_ERROR_FACTOR:g} of the limit (either side). A trial that "
    "is invalid for a cause that passes (other work on the cores, steal, the platform's stalls) "
    "is repeated after a pause and not counted; one whose load generator was the bottleneck "
    "(client-bound) is not counted either (see the search rule for where it ends the search)."
)


@dataclass(frozen=True)
class Objective:
    """What a rate must sustain: a latency percentile at most `latency_ms`, few errors."""

    percentile: Percentile
    latency_ms: float
    max_error_rate: float

    def describe(self) -> str:
        """'p99 ≤ 50 ms, errors ≤ 1.00%'."""
        return f"{self.percentile} ≤ {self.latency_ms:g} ms, errors ≤ {self.max_error_rate:.2%}"

    def rule_text(self) -> str:
        """TRIAL_RULE with this objective's figures, for reports."""
        return TRIAL_RULE.format(
            percentile=self.percentile,
            latency_ms=self.latency_ms,
            max_error_rate=self.max_error_rate,
        )


@dataclass(frozen=True)
class TrialOutcome:
    """What one trial measured in its own window, and whether the step-validity rules accept it."""

    rate: int  # requests per second asked of k6
    achieved_rps: float
    dropped_iterations: int
    percentile_ms: float  # the objective's percentile over this trial's window
    error_rate: float
    duration_s: float  # seconds the trial actually ran: short when it was stopped early
    valid: bool = True
    invalid_reasons: tuple[str, ...] = ()
    early_stopped: bool = False
    # Seconds after the trial until the server was quiet again (its backlog drained); they
    # count against the budget like the trial's own.
    settle_s: float = 0.0
    # The platform's longest stall on the measured cores during the window (stall probe), ms:
    # it may have raised the percentile by up to this much. 0: none seen, or no probe.
    stall_ms: float = 0.0

    @property
    def client_bound(self) -> bool:
        return not self.valid and CLIENT_BOUND in self.invalid_reasons


@dataclass(frozen=True)
class Judgement:
    """The verdict on one trial and why; `close` results settle nothing on their own."""

    verdict: Verdict
    close: bool
    why: str
    # A fail that settles its rate at once: stopped early, dropped iterations, the rate not
    # achieved, or errors beyond CLOSE_ERROR_FACTOR x the limit.
    hard: bool = False
    error_close: bool = False  # the error rate lies within CLOSE_ERROR_FACTOR of the limit


def _misses(objective: Objective, outcome: TrialOutcome) -> list[str]:
    """Each condition of TRIAL_RULE the outcome breaks, in words."""
    misses = []
    if outcome.percentile_ms > objective.latency_ms:
        misses.append(
            f"{objective.percentile} {outcome.percentile_ms:.1f} ms > {objective.latency_ms:g} ms"
        )
    if outcome.error_rate > objective.max_error_rate:
        misses.append(f"errors {outcome.error_rate:.2%} > {objective.max_error_rate:.2%}")
    if outcome.achieved_rps < ACHIEVED_SHARE * outcome.rate:
        misses.append(f"achieved {outcome.achieved_rps:.1f} of {outcome.rate} RPS")
    if outcome.dropped_iterations > 0:
        misses.append(f"{outcome.dropped_iterations} dropped iterations")
    return misses


def _error_close(objective: Objective, outcome: TrialOutcome) -> bool:
    limit = objective.max_error_rate
    if limit <= 0:
        return False  # any error breaks a zero limit outright
    return limit / CLOSE_ERROR_FACTOR <= outcome.error_rate <= limit * CLOSE_ERROR_FACTOR


def _hard(objective: Objective, outcome: TrialOutcome) -> bool:
    """Broken by more than latency, beyond what noise explains."""
    return (
        outcome.dropped_iterations > 0
        or outcome.achieved_rps < ACHIEVED_SHARE * outcome.rate
        or outcome.error_rate > CLOSE_ERROR_FACTOR * objective.max_error_rate
    )


def is_close(objective: Objective, outcome: TrialOutcome, noise: Noise | None = None) -> bool:
    """Whether the result lies within the noise of the latency objective (one trial, its
    longest stall allowed for) or within CLOSE_ERROR_FACTOR of the error limit."""
    sample = Sample(outcome.rate, outcome.percentile_ms, outcome.stall_ms)
    side = latency_side([sample], objective.latency_ms, noise or pooled_noise([]))
    return side is None or _error_close(objective, outcome)


def judge(objective: Objective, outcome: TrialOutcome, noise: Noise | None = None) -> Judgement:
    """The verdict of TRIAL_RULE on one outcome, with the reason in words; `noise` (the
    search's so far, the prior when None) decides whether it is close."""
    if not outcome.valid:
        reasons = ", ".join(outcome.invalid_reasons) or "invalid"
        verdict: Verdict = "client-bound" if outcome.client_bound else "invalid"
        return Judgement(verdict, close=False, why=reasons)
    misses = _misses(objective, outcome)
    if outcome.early_stopped:
        # Stopped because the objective was clearly broken: never a close call.
        why = "; ".join(misses) or "objective clearly broken"
        return Judgement("fail", close=False, why=f"stopped early: {why}", hard=True)
    hard = _hard(objective, outcome)
    close = not hard and is_close(objective, outcome, noise)
    margin = " (close)" if close else ""
    error_close = _error_close(objective, outcome)
    if misses:
        return Judgement("fail", close, "; ".join(misses) + margin, hard, error_close)
    held = f"{objective.percentile} {outcome.percentile_ms:.1f} ms, errors {outcome.error_rate:.2%}"
    return Judgement("pass", close, held + margin, error_close=error_close)
