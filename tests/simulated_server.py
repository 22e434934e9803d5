"""A simulated server for the capacity-search tests: rate -> latency with a known capacity.

One queue served one request at a time in `service_ms` (M/D/1-like): below saturation the
percentile is the service time plus an exponential-tailed wait whose mean is M/D/1's,
rho / (2 (1 - rho)) service times, so it rises steeply near the saturation rate; above it the
backlog grows through the trial, the achieved rate stays at saturation and k6 drops iterations.
Seeded multiplicative noise, smaller on longer trials. The rate at which the noise-free
percentile equals the objective is known in closed form (`capacity_at`), so a test can check
what the search finds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from runner.capacity.early_stop import EarlyStopRule, LiveReading, clearly_broken
from runner.capacity.objective import CLIENT_BOUND, INTERFERENCE, Objective, TrialOutcome
from runner.capacity.trials import TrialPlan

# Noise is `noise` (relative) on a trial this long, shrinking with the square root beyond.
NOISE_REFERENCE_S = 10.0
# Utilisation beyond which the steady formula stops: a finite trial never reaches its infinity.
SATURATED_RHO = 0.99
_QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99_9": 0.999}


@dataclass
class SimulatedServer:
    """A server with a known capacity; `run` is a trial runner for `run_search`."""

    objective: Objective
    service_ms: float = 5.0  # saturation at 1000 / service_ms requests per second
    noise: float = 0.05
    seed: int = 0
    error_rate: float = 0.0
    client_ceiling_rps: float | None = None  # above it k6 itself is the bottleneck
    disturbed_trials: frozenset[int] = frozenset()  # trial numbers (from 0) with interference
    early_stop: EarlyStopRule | None = None
    trials_run: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @property
    def saturation_rps(self) -> float:
        return 1000 / self.service_ms

    def _tail(self) -> float:
        return -math.log(1 - _QUANTILES[self.objective.percentile])

    def steady_ms(self, rate: float) -> float:
        """The noise-free percentile below saturation."""
        rho = rate / self.saturation_rps
        return self.service_ms * (1 + rho / (2 * (1 - rho)) * self._tail())

    def backlog_ms(self, rate: float, elapsed_s: float) -> float:
        """The percentile over a window this far into an overloaded trial."""
        excess = rate - self.saturation_rps
        return self.service_ms + 1000 * excess * elapsed_s / self.saturation_rps

    def capacity_at(self) -> float:
        """The rate at which the noise-free percentile equals the latency objective."""
        mean_waits = (self.objective.latency_ms / self.service_ms - 1) / self._tail()
        return self.saturation_rps * 2 * mean_waits / (1 + 2 * mean_waits)

    def percentile_ms(self, rate: float, elapsed_s: float) -> float:
        """Noise-free: the steady percentile, which a finite trial never exceeds at its
        saturation cap, plus the backlog that builds above saturation."""
        steady = self.steady_ms(min(rate, SATURATED_RHO * self.saturation_rps))
        return steady + max(0.0, self.backlog_ms(rate, elapsed_s) - self.service_ms)

    def _noisy(self, value: float, duration_s: float) -> float:
        sigma = self.noise * math.sqrt(NOISE_REFERENCE_S / max(duration_s, 1.0))
        return value * math.exp(self._random.gauss(0.0, sigma))

    def _stopped_at(self, rate: int, duration_s: float) -> float | None:
        """When the early-stop rule ends the trial, from one reading a second; None if never."""
        if self.early_stop is None:
            return None
        readings: list[LiveReading] = []
        for second in range(1, math.floor(duration_s) + 1):
            recent = self._noisy(self.percentile_ms(rate, second), 1.0)
            requests = round(min(rate, self.saturation_rps) * second)
            readings.append(
                LiveReading(second, recent, round(requests * self.error_rate), requests)
            )
            if clearly_broken(self.objective, readings, self.early_stop):
                return float(second)
        return None

    def run(self, plan: TrialPlan) -> TrialOutcome:
        """One trial at the plan's rate: the window's figures, stopped early if the rule says so."""
        number, self.trials_run = self.trials_run, self.trials_run + 1
        rate = plan.rate
        if self.client_ceiling_rps is not None and rate > self.client_ceiling_rps:
            return self._invalid(plan, self.client_ceiling_rps, CLIENT_BOUND)
        if number in self.disturbed_trials:
            return self._invalid(plan, float(rate), INTERFERENCE)
        stopped_at = self._stopped_at(rate, plan.duration_s)
        duration = stopped_at if stopped_at is not None else plan.duration_s
        achieved = min(float(rate), self.saturation_rps)
        return TrialOutcome(
            rate=rate,
            achieved_rps=achieved,
            dropped_iterations=round((rate - achieved) * duration / 2),
            percentile_ms=self._noisy(self.percentile_ms(rate, duration), duration),
            error_rate=self.error_rate,
            duration_s=duration,
            early_stopped=stopped_at is not None,
        )

    def _invalid(self, plan: TrialPlan, achieved: float, reason: str) -> TrialOutcome:
        return TrialOutcome(
            rate=plan.rate,
            achieved_rps=achieved,
            dropped_iterations=0,
            percentile_ms=self.steady_ms(min(achieved, 0.5 * self.saturation_rps)),
            error_rate=0.0,
            duration_s=plan.duration_s,
            valid=False,
            invalid_reasons=(reason,),
        )


def exhaustive_sweep_seconds(step_s: float, rates: int = 15, repetitions: int = 3) -> float:
    """Load time of the exhaustive open-model sweep the search replaces (issue 13's yardstick)."""
    return step_s * rates * repetitions
