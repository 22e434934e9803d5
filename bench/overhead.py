"""Harness overhead: how much longer a sweep takes than the load it was asked to generate.

    python bench/overhead.py [--experiment quickstart] [OVERRIDE ...]

Runs the experiment through the runner (runner.run.sweep.run_experiment, as `python -m runner`
does) and prints
- target start: seconds from asking for each server to its verified answer (budget: 2 s each);
- ratio: (sweep wall time - target starts) / sum of configured warmup + measured durations
  (budget: <= 1.05).
Holds the machine-wide load lock while it runs, like the runner and the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _shared import compose_experiment, say

from runner.config import compose
from runner.run.machine_lock import exclusive_machine
from runner.run.plan import build_plan
from runner.run.sweep import run_experiment

DEFAULT_OVERRIDES = ["load.duration=5s", "load.warmup=1s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="quickstart")
    parser.add_argument("overrides", nargs="*", default=DEFAULT_OVERRIDES)
    args = parser.parse_args()
    experiment = compose_experiment(args.experiment, args.overrides)
    plan = build_plan(experiment)
    configured_s = len(plan.steps) * plan.seconds_per_step
    with exclusive_machine(say), tempfile.TemporaryDirectory() as run_dir:
        began = time.monotonic()
        record = run_experiment(experiment, Path(run_dir), compose.EXPERIMENTS_DIR, args.overrides)
        wall_s = time.monotonic() - began
    starts = record.provenance.target_start_s
    start_total_s = sum(sum(times) for times in starts.values())
    stop_total_s = sum(sum(times) for times in record.provenance.target_stop_s.values())
    ratio = (wall_s - start_total_s) / configured_s
    per_step_s = (wall_s - start_total_s - stop_total_s - configured_s) / len(plan.steps)
    print(f"experiment: {args.experiment} {' '.join(args.overrides)}")
    print(f"steps: {len(plan.steps)}, configured warmup + measured time: {configured_s:.1f} s")
    print(
        f"sweep wall time: {wall_s:.2f} s, of which target starts {start_total_s:.2f} s "
        f"and stops {stop_total_s:.2f} s"
    )
    for target, times in starts.items():
        print(f"target start {target}: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"overhead per step (wall - starts - stops - configured) / steps: {per_step_s:.3f} s")
    budget_s = 1.05 * configured_s + 2.0 * sum(len(times) for times in starts.values())
    verdict = "within" if wall_s <= budget_s else "OVER"
    print(
        f"wall time budget 1.05 x configured + 2 s per target start: {budget_s:.1f} s ({verdict})"
    )
    print(f"ratio (wall - starts) / configured: {ratio:.3f}  (budget <= 1.05)")


if __name__ == "__main__":
    main()
