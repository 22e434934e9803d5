"""Capacity search against an exhaustive sweep: is it as right, and how much cheaper?

    python bench/capacity.py [--experiment capacity] [--rates 15] [--repetitions 3]
                             [--step 10s] [--span 0.4] [OVERRIDE ...]

For each target of a capacity experiment (runner.capacity), runs
1. the capacity search as `python -m runner` would, and
2. an exhaustive open-model sweep of that target alone: `--rates` rates spread evenly over
   the found capacity +- `--span` (the knee), each `--repetitions` times, `--step` each,
and prints, per target, the capacity found, the capacity interpolated from the sweep (the rate
where the median of the objective's percentile over repetitions crosses the objective, between
the highest rate that passes and the lowest above it that fails, by the same trial rule), their
ratio (issue 13: within +-5%), and the search's wall time as a share of the sweep's (at most a
third). Shorten with fewer rates, repetitions or seconds for a quick look; the figures need the
defaults. Holds the machine-wide load lock, like the runner and the tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _shared import compose_experiment, say

from runner import config
from runner.capacity.objective import ACHIEVED_SHARE, Objective
from runner.machine_lock import exclusive_machine
from runner.model import Experiment, validate_experiment
from runner.results import StepResult
from runner.sweep import run_experiment


def sweep_experiment(
    experiment: Experiment, target: str, rates: list[int], args: argparse.Namespace
) -> Experiment:
    """The same target, scenario and settings under the open model at `rates`."""
    data: dict[str, Any] = experiment.model_dump(mode="json", by_alias=True)
    data["targets"] = {target: data["targets"][target]}
    data["load"] = {**data["load"], "model": "open", "duration": args.step}
    del data["load"]["capacity"]
    data["sweep"] = {"rate": {"levels": rates}}
    data["repetitions"] = args.repetitions
    return validate_experiment(data, f"{experiment.name}, exhaustive sweep of {target}")


def knee_rates(capacity: int, count: int, span: float) -> list[int]:
    low, high = max(1.0, capacity * (1 - span)), capacity * (1 + span)
    rates = {round(low + (high - low) * i / max(count - 1, 1)) for i in range(count)}
    return sorted(rate for rate in rates if rate >= 1)


def _passes(objective: Objective, steps: list[StepResult]) -> tuple[bool, float]:
    """The trial rule on the medians over repetitions; (passes, median percentile)."""
    latency = statistics.median(getattr(s.latency_ms, objective.percentile) for s in steps)
    errors = statistics.median(s.error_rate for s in steps)
    achieved = statistics.median(s.rps / (s.target_rps or s.level) for s in steps)
    dropped = statistics.median(s.dropped_iterations or 0 for s in steps)
    held = errors <= objective.max_error_rate and achieved >= ACHIEVED_SHARE and dropped == 0
    return held and latency <= objective.latency_ms, latency


def interpolated_capacity(objective: Objective, steps: list[StepResult]) -> float | None:
    """Where the sweep's median percentile crosses the objective (None: no rate passed)."""
    by_rate: dict[int, list[StepResult]] = {}
    for step in steps:
        by_rate.setdefault(step.level, []).append(step)
    judged = {rate: _passes(objective, found) for rate, found in sorted(by_rate.items())}
    passing = [rate for rate, (ok, _) in judged.items() if ok]
    if not passing:
        return None
    low = max(passing)
    above = [rate for rate in judged if rate > low]
    if not above:
        return float(low)  # the knee lies beyond the swept rates
    high = min(above)
    low_ms, high_ms = judged[low][1], judged[high][1]
    if high_ms <= objective.latency_ms or high_ms == low_ms:
        return float(low)  # failed on errors, drops or achieved rate, not on latency
    share = (objective.latency_ms - low_ms) / (high_ms - low_ms)
    return low + (high - low) * min(max(share, 0.0), 1.0)


def timed_run(experiment: Experiment, overrides: list[str]) -> tuple[Any, float]:
    with tempfile.TemporaryDirectory() as run_dir:
        began = time.monotonic()
        record = run_experiment(experiment, Path(run_dir), config.EXPERIMENTS_DIR, overrides)
        return record, time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="capacity")
    parser.add_argument("--rates", type=int, default=15)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--step", default="10s", help="measured seconds per sweep step")
    parser.add_argument("--span", type=float, default=0.4, help="knee: capacity +- this share")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    experiment = compose_experiment(args.experiment, args.overrides)
    settings = experiment.load.capacity
    if settings is None:
        raise SystemExit(f"{args.experiment} is not a capacity experiment (load.model=capacity)")
    with exclusive_machine(say):
        record, _ = timed_run(experiment, args.overrides)
        assert record.capacity is not None
        for found in record.capacity.targets:
            if found.capacity_rps is None:
                print(f"{found.label}: the search found no capacity ({found.stop_text})")
                continue
            rates = knee_rates(found.capacity_rps, args.rates, args.span)
            say(f"{found.label}: sweeping {rates} RPS x {args.repetitions}")
            sweep = sweep_experiment(experiment, found.target, rates, args)
            swept, sweep_s = timed_run(sweep, args.overrides)
            reference = interpolated_capacity(settings.objective, swept.steps)
            ratio = f"{found.capacity_rps / reference:.3f}" if reference else "n/a"
            reference_text = f"{reference:.1f} RPS" if reference else "none"
            print(
                f"{found.label}: search {found.headline} in {found.wall_s:.1f} s; sweep "
                f"({len(rates)} rates x {args.repetitions}) {reference_text} in {sweep_s:.1f} s; "
                f"found / sweep = {ratio} (goal 0.95-1.05); search time / sweep time = "
                f"{found.wall_s / sweep_s:.3f} (goal <= 0.333)"
            )


if __name__ == "__main__":
    main()
