"""bench/capacity.py's yardstick on real targets: an exhaustive open-model sweep around the knee.

Not run on its own: bench/capacity.py imports it. For a target whose search found a capacity,
`sweep_experiment` sweeps `rates` rates spread evenly over the capacity +- `span` (the knee),
each `repetitions` times, with the trials' k6 provisioning; its capacity is where a monotone fit
of the median percentile over repetitions against rate crosses the objective (rates breaking the
rest of the trial rule count as failing, steps the search would repeat are left out). Two more
readings show how firm that answer is: the highest passing rate (the most optimistic reading
when noise crosses the objective several times) and the range of the capacities single
repetitions give, the yardstick's own error.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _shared import say

from runner.capacity.objective import ACHIEVED_SHARE, Objective
from runner.capacity.settings import objective_of
from runner.capacity.trial import trial_reasons
from runner.config import compose
from runner.config.experiment import Experiment, validate_experiment
from runner.records.results import StepResult
from runner.run.sweep import run_experiment


def sweep_experiment(
    experiment: Experiment, target: str, rates: list[int], step: str, repetitions: int
) -> Experiment:
    """The same target, scenario, settings and k6 provisioning under the open model at
    `rates`."""
    data: dict[str, Any] = experiment.model_dump(mode="json", by_alias=True)
    data["targets"] = {target: data["targets"][target]}
    data["load"] = {**data["load"], "model": "open", "duration": step}
    del data["load"]["capacity"]
    # The trials' k6 provisioning (Load.open_vus): with fewer VUs k6 drops iterations the
    # trials would not have dropped, and the sweep fails rates the search passes.
    if data["load"].get("preallocated_vus") is None:
        data["load"]["preallocated_vus"] = experiment.load.open_vus(max(rates))[0]
    data["sweep"] = {"rate": {"levels": rates}}
    data["repetitions"] = repetitions
    return validate_experiment(data, f"{experiment.name}, exhaustive sweep of {target}")


def knee_rates(capacity: int, count: int, span: float) -> list[int]:
    low, high = max(1.0, capacity * (1 - span)), capacity * (1 + span)
    rates = {round(low + (high - low) * i / max(count - 1, 1)) for i in range(count)}
    return sorted(rate for rate in rates if rate >= 1)


@dataclass(frozen=True)
class RateFigures:
    """One swept rate judged by the trial rule on the medians over its repetitions."""

    rate: int
    latency_ms: float  # median of the objective's percentile
    held: bool  # errors, achieved rate and drops within the rule (latency aside)

    def passes(self, objective: Objective) -> bool:
        return self.held and self.latency_ms <= objective.latency_ms


def figures_by_rate(
    objective: Objective, steps: list[StepResult], repetition: int | None = None
) -> list[RateFigures]:
    """Per swept rate, in rising order; only `repetition`'s steps when given. Steps the search
    would have repeated (interference, steal, client-bound: runner.capacity.trial) are left out,
    as the search leaves out such trials; a rate with none left is left out."""
    by_rate: dict[int, list[StepResult]] = {}
    for step in counted(steps):
        if repetition is None or step.repetition == repetition:
            by_rate.setdefault(step.level, []).append(step)
    return [_judged(objective, rate, found) for rate, found in sorted(by_rate.items())]


def counted(steps: list[StepResult]) -> list[StepResult]:
    """The steps a search would have counted as trials."""
    return [s for s in steps if s.validity is None or not trial_reasons(s.validity)]


def _judged(objective: Objective, rate: int, steps: list[StepResult]) -> RateFigures:
    latency = statistics.median(getattr(s.latency_ms, objective.percentile) for s in steps)
    errors = statistics.median(s.error_rate for s in steps)
    achieved = statistics.median(s.rps / (s.target_rps or s.level) for s in steps)
    dropped = statistics.median(s.dropped_iterations or 0 for s in steps)
    held = errors <= objective.max_error_rate and achieved >= ACHIEVED_SHARE and dropped == 0
    return RateFigures(rate, latency, held)


def highest_pass_capacity(objective: Objective, figures: list[RateFigures]) -> float | None:
    """The highest passing rate, interpolated toward the next rate above it (None: no rate
    passed; inf: the highest swept rate passed). Under noise that crosses the objective several
    times, the most optimistic reading."""
    judged = {f.rate: f for f in figures}
    passing = [f.rate for f in figures if f.passes(objective)]
    if not passing:
        return None
    low = max(passing)
    above = [rate for rate in judged if rate > low]
    if not above:
        return math.inf
    high = min(above)
    return _between(objective, judged[low].rate, judged[low].latency_ms, high, judged[high])


def monotone_capacity(objective: Objective, figures: list[RateFigures]) -> float | None:
    """Where a non-decreasing fit of the percentile against rate (isotonic regression, the
    least-squares monotone curve) crosses the objective. Latency does not fall as load rises,
    so a fail below a pass is noise, and the fit weighs it against its neighbours instead of
    letting the highest lucky pass decide. A rate broken by errors, drops or its achieved rate
    counts as failing at any latency. None: the lowest rate already fails; inf: the fit meets
    the objective at every swept rate (the knee lies beyond them)."""
    from scipy.optimize import isotonic_regression

    if not figures:
        return None
    broken = 1e9  # ms; pooled with any neighbour, still far above the objective
    observed = [f.latency_ms if f.held else broken for f in figures]
    fitted = [float(x) for x in isotonic_regression(observed).x]
    failing = [i for i, latency in enumerate(fitted) if latency > objective.latency_ms]
    if not failing:
        return math.inf
    first = failing[0]
    if first == 0:
        return None
    low, high = figures[first - 1], figures[first]
    fitted_high = RateFigures(high.rate, fitted[first], high.held and fitted[first] < broken)
    return _between(objective, low.rate, fitted[first - 1], high.rate, fitted_high)


def _between(
    objective: Objective, low_rate: int, low_ms: float, high_rate: int, high: RateFigures
) -> float:
    """Linear interpolation of the crossing between a passing and the next failing rate."""
    if not high.held or high.latency_ms <= objective.latency_ms or high.latency_ms == low_ms:
        return float(low_rate)  # failed on errors, drops or achieved rate, not on latency
    share = (objective.latency_ms - low_ms) / (high.latency_ms - low_ms)
    return low_rate + (high_rate - low_rate) * min(max(share, 0.0), 1.0)


def repetition_spread(
    objective: Objective, steps: list[StepResult]
) -> tuple[float | None, float | None]:
    """The lowest and highest monotone capacity of single repetitions: how far the sweep's own
    answer moves between passes over the same rates (None where a repetition found none)."""
    found = [
        monotone_capacity(objective, figures_by_rate(objective, steps, repetition))
        for repetition in sorted({step.repetition for step in steps})
    ]
    known = [capacity for capacity in found if capacity is not None]
    return (min(known), max(known)) if known else (None, None)


def timed_run(experiment: Experiment, run_dir: Path, overrides: list[str]) -> tuple[Any, float]:
    """Run it into `run_dir`, kept (outputs/ is git-ignored) so every figure can be audited."""
    began = time.monotonic()
    record = run_experiment(experiment, run_dir, compose.EXPERIMENTS_DIR, overrides)
    say(f"stored in {run_dir}")
    return record, time.monotonic() - began


@dataclass(frozen=True)
class SweepReference:
    """What the exhaustive sweep of one target gives, and what it cost."""

    rates: list[int]
    capacity: float | None  # the monotone fit's (None: the lowest rate fails; inf: beyond)
    optimistic: float | None  # the highest passing rate's
    single_low: float | None  # the lowest and highest single repetitions' capacities
    single_high: float | None
    seconds: float
    left_out: int  # steps the search would have repeated


def sweep_reference(
    experiment: Experiment,
    target: str,
    capacity: int,
    shape: tuple[int, int, str, float],
    run_dir: Path,
    overrides: list[str],
) -> SweepReference:
    """Sweep `target` around `capacity`; `shape` is (rates, repetitions, step, span)."""
    count, repetitions, step, span = shape
    settings = experiment.load.capacity
    assert settings is not None
    objective = objective_of(settings)
    rates = knee_rates(capacity, count, span)
    say(f"{target}: sweeping {rates} RPS x {repetitions}")
    sweep = sweep_experiment(experiment, target, rates, step, repetitions)
    swept, seconds = timed_run(sweep, run_dir, overrides)
    figures = figures_by_rate(objective, swept.steps)
    low, high = repetition_spread(objective, swept.steps)
    return SweepReference(
        rates,
        monotone_capacity(objective, figures),
        highest_pass_capacity(objective, figures),
        low,
        high,
        seconds,
        len(swept.steps) - len(counted(swept.steps)),
    )


def rps_text(value: float | None) -> str:
    if value is None:
        return "none (the lowest swept rate fails)"
    return f"{value:.1f} RPS" if math.isfinite(value) else "beyond the swept rates"
