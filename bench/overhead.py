"""Harness overhead: how much longer a sweep takes than the load it was asked to generate.

    python bench/overhead.py [--experiment quickstart] [OVERRIDE ...]

Runs the experiment through the runner (runner.run.sweep.run_experiment, as `python -m runner`
does) and prints
- target start: seconds from asking for each server to its verified answer (budget: 2 s each);
- run-start measurements: k6's ceiling at the run's levels (none when cached) and the steal
  floor, measured once per run before any target starts (a fixed cost, like a target start);
- ratio: (sweep wall time - target starts - run-start measurements) / sum of configured warmup
  + measured durations (budget: <= 1.05), and the same ratio with them counted.
Holds the machine-wide load lock while it runs, like the runner and the tests.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _shared import bench_parser, compose_experiment, machine_lock, print_figure

from runner.config import compose
from runner.run.plan import build_plan
from runner.run.sweep import run_experiment

DEFAULT_OVERRIDES = ["load.duration=5s", "load.warmup=1s"]


def main() -> None:
    parser = bench_parser(__file__, __doc__, experiment="quickstart", overrides=DEFAULT_OVERRIDES)
    args = parser.parse_args()
    experiment = compose_experiment(args.experiment, args.overrides)
    plan = build_plan(experiment)
    configured_s = len(plan.steps) * plan.seconds_per_step
    with machine_lock(), tempfile.TemporaryDirectory() as run_dir:
        began = time.monotonic()
        record = run_experiment(experiment, Path(run_dir), compose.EXPERIMENTS_DIR, args.overrides)
        wall_s = time.monotonic() - began
    starts = record.provenance.target_start_s
    start_total_s = sum(sum(times) for times in starts.values())
    stop_total_s = sum(sum(times) for times in record.provenance.target_stop_s.values())
    ceiling = record.provenance.client_ceiling
    ceiling_s = ceiling.measure_s if ceiling and not ceiling.cached else 0.0
    floor = record.provenance.steal_floor
    floor_s = floor.seconds if floor else 0.0
    fixed_s = ceiling_s + floor_s
    ratio = (wall_s - start_total_s - fixed_s) / configured_s
    per_step_s = (wall_s - start_total_s - stop_total_s - fixed_s - configured_s) / len(plan.steps)
    print(f"experiment: {args.experiment} {' '.join(args.overrides)}")
    print(f"steps: {len(plan.steps)}, configured warmup + measured time: {configured_s:.1f} s")
    for target, times in starts.items():
        print(f"target start {target}: " + ", ".join(f"{t:.2f} s" for t in times))
    print_figure(
        "run-start measurements",
        fixed_s,
        "s",
        spec=".2f",
        note=f"k6's ceiling {ceiling_s:.2f} s"
        + (" (cached)" if ceiling and ceiling.cached else "")
        + f", steal floor {floor_s:.2f} s",
    )
    print_figure(
        "overhead per step (wall - starts - stops - run-start - configured) / steps",
        per_step_s,
        "s",
        spec=".3f",
    )
    budget_s = 1.05 * configured_s + 2.0 * sum(len(times) for times in starts.values()) + fixed_s
    print_figure(
        "sweep wall time",
        wall_s,
        "s",
        spec=".2f",
        note=f"of which target starts {start_total_s:.2f} s and stops {stop_total_s:.2f} s",
        budget=f"1.05 x configured + 2 s per target start + run-start = {budget_s:.1f} s",
        within=wall_s <= budget_s,
    )
    print_figure(
        "ratio (wall - starts - run-start) / configured",
        ratio,
        spec=".3f",
        budget="<= 1.05",
        within=ratio <= 1.05,
    )
    print_figure(
        "ratio with the run-start measurements counted",
        (wall_s - start_total_s) / configured_s,
        spec=".3f",
        note="a fixed cost per run: it shrinks as the run grows",
    )


if __name__ == "__main__":
    main()
