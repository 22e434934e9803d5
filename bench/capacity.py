"""Capacity search against an exhaustive sweep: is it as right, and how much cheaper?

    python bench/capacity.py [--experiment capacity] [--rates 15] [--repetitions 3]
                             [--step 10s] [--span 0.4] [OVERRIDE ...]

For each target of a capacity experiment (runner.capacity), runs
1. the capacity search as `python -m runner` would, and
2. an exhaustive open-model sweep of that target alone: `--rates` rates spread evenly over
   the found capacity +- `--span` (the knee), each `--repetitions` times, `--step` each,
and prints, per target, the capacity found, the capacity the sweep gives (where a monotone fit
of the median percentile over repetitions against rate crosses the objective, rates breaking the
rest of the trial rule counting as failing, steps the search would repeat left out), their ratio
(issue 13: within +-5%), the search's wall time as a share of the sweep's (at most a third), and
two readings of the sweep that show how firm its own answer is: the highest passing rate (the
most optimistic reading when noise crosses the objective several times) and the range of the
capacities single repetitions give. That range is the yardstick's own error: where it is wider
than +-5%, the sweep cannot check a 5% search (docs/capacity.md). Shorten with fewer rates,
repetitions or seconds for a quick look; the figures need the defaults. Holds the machine-wide
load lock, like the runner and the tests. The runs are kept, with their reports, in
outputs/bench-capacity/<time>/ (search/, sweep-<target>/).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _shared import (
    PROJECT_ROOT,
    bench_parser,
    compose_experiment,
    machine_lock,
    print_figure,
    say,
)

from runner.capacity.objective import ACHIEVED_SHARE, Objective
from runner.capacity.settings import objective_of
from runner.capacity.trial import trial_reasons
from runner.config import compose
from runner.config.experiment import Experiment, validate_experiment
from runner.records.results import StepResult
from runner.run.sweep import run_experiment


def sweep_experiment(
    experiment: Experiment, target: str, rates: list[int], args: argparse.Namespace
) -> Experiment:
    """The same target, scenario, settings and k6 provisioning under the open model at
    `rates`."""
    data: dict[str, Any] = experiment.model_dump(mode="json", by_alias=True)
    data["targets"] = {target: data["targets"][target]}
    data["load"] = {**data["load"], "model": "open", "duration": args.step}
    del data["load"]["capacity"]
    # The trials' k6 provisioning (Load.open_vus): with fewer VUs k6 drops iterations the
    # trials would not have dropped, and the sweep fails rates the search passes.
    if data["load"].get("preallocated_vus") is None:
        data["load"]["preallocated_vus"] = experiment.load.open_vus(max(rates))[0]
    data["sweep"] = {"rate": {"levels": rates}}
    data["repetitions"] = args.repetitions
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


def main() -> None:
    parser = bench_parser(__file__, __doc__, experiment="capacity")
    parser.add_argument("--rates", type=int, default=15, help="rates swept per target (15)")
    parser.add_argument("--repetitions", type=int, default=3, help="of each swept rate (3)")
    parser.add_argument("--step", default="10s", help="measured seconds per sweep step (10s)")
    parser.add_argument("--span", type=float, default=0.4, help="knee: capacity +- this share")
    args = parser.parse_args()
    experiment = compose_experiment(args.experiment, args.overrides)
    settings = experiment.load.capacity
    if settings is None:
        raise SystemExit(f"{args.experiment} is not a capacity experiment (load.model=capacity)")
    with machine_lock():
        root = PROJECT_ROOT / "outputs" / "bench-capacity" / time.strftime("%Y-%m-%d_%H-%M-%S")
        record, _ = timed_run(experiment, root / "search", args.overrides)
        assert record.capacity is not None
        for found in record.capacity.targets:
            if found.capacity_rps is None:
                print(f"{found.label}: the search found no capacity ({found.stop_text})")
                continue
            rates = knee_rates(found.capacity_rps, args.rates, args.span)
            say(f"{found.label}: sweeping {rates} RPS x {args.repetitions}")
            sweep = sweep_experiment(experiment, found.target, rates, args)
            swept, sweep_s = timed_run(sweep, root / f"sweep-{found.target}", args.overrides)
            figures = figures_by_rate(objective_of(settings), swept.steps)
            reference = monotone_capacity(objective_of(settings), figures)
            optimistic = highest_pass_capacity(objective_of(settings), figures)
            low, high = repetition_spread(objective_of(settings), swept.steps)
            left_out = len(swept.steps) - len(counted(swept.steps))
            known = reference is not None and math.isfinite(reference)
            ratio = found.capacity_rps / reference if known and reference else None
            print(
                f"{found.label}: search {found.headline} in {found.wall_s:.1f} s; sweep of "
                f"{len(rates)} rates x {args.repetitions} in {sweep_s:.1f} s ({left_out} steps "
                "left out as the search would repeat them)"
            )
            print_figure(
                f"{found.label}: sweep capacity (monotone fit)",
                _rps(reference),
                note=f"highest pass {_rps(optimistic)}; single repetitions {_rps(low)} to "
                f"{_rps(high)}",
            )
            print_figure(
                f"{found.label}: found / sweep",
                "n/a" if ratio is None else ratio,
                spec=".3f",
                budget="0.95-1.05",
                within=None if ratio is None else 0.95 <= ratio <= 1.05,
            )
            time_share = found.wall_s / sweep_s
            print_figure(
                f"{found.label}: search time / sweep time",
                time_share,
                spec=".3f",
                budget="<= 0.333",
                within=time_share <= 1 / 3,
            )


def _rps(value: float | None) -> str:
    if value is None:
        return "none (the lowest swept rate fails)"
    return f"{value:.1f} RPS" if math.isfinite(value) else "beyond the swept rates"


if __name__ == "__main__":
    main()
