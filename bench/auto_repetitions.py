"""Is `repetitions: auto` repeatable? The quickstart run twice back to back, several pairs over.

    python bench/auto_repetitions.py [--pairs 5] [--experiment quickstart] [OVERRIDE ...]

Runs the experiment with `repetitions=auto` (through runner.run.sweep.run_experiment, as
`python -m runner` does) twice in a row, `--pairs` times, and prints
- per run: each level's rounds and why it stopped, the winners, and its wall time;
- per pair: whether the two runs reached the same verdict at every level (the same winner, or
  both none);
- agreement: how many pairs agreed at every level (goal: all of them), and the wall times.
Holds the machine-wide load lock for the whole bench, like the runner and the tests. A short
check: `--pairs 1 auto_repetitions.min=2 auto_repetitions.max=2 load.duration=1s
load.warmup=0s`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _shared import bench_parser, compose_experiment, machine_lock, print_figure, say

from runner.analysis import analyze
from runner.config import compose
from runner.records.results import RunRecord
from runner.run.sweep import run_experiment

DEFAULT_OVERRIDES = ["repetitions=auto"]


@dataclass(frozen=True)
class AutoRun:
    verdicts: dict[int, str | None]  # level -> the winner's target, None: no winner
    lines: list[str]  # per level: rounds, why it stopped, the Summary's winner text
    wall_s: float


def one_run(name: str, overrides: list[str]) -> AutoRun:
    experiment = compose_experiment(name, overrides)
    with tempfile.TemporaryDirectory() as run_dir:
        began = time.monotonic()
        record = run_experiment(experiment, Path(run_dir), compose.EXPERIMENTS_DIR, overrides)
        wall_s = time.monotonic() - began
    return AutoRun(*_verdicts(record), wall_s)


def _verdicts(record: RunRecord) -> tuple[dict[int, str | None], list[str]]:
    analysis = analyze(record)
    stops = {stop.level: stop for stop in record.provenance.rounds}
    lines = []
    for level, winner in analysis.winners.items():
        stop = stops.get(level)
        how = f"{stop.rounds} round(s), {stop.stopped}" if stop else "no rounds recorded"
        lines.append(f"level {level}: {how}; winner: {winner.text}")
    return {level: w.target for level, w in analysis.winners.items()}, lines


def main() -> None:
    parser = bench_parser(__file__, __doc__, experiment="quickstart", overrides=DEFAULT_OVERRIDES)
    parser.add_argument("--pairs", type=int, default=5, help="pairs of runs back to back (5)")
    args = parser.parse_args()
    overrides = list(args.overrides)
    if not any(o.startswith("repetitions=") for o in overrides):
        overrides.insert(0, "repetitions=auto")
    agreed, walls = 0, []
    with machine_lock():
        for pair in range(1, args.pairs + 1):
            runs = []
            for side in ("a", "b"):
                say(f"pair {pair} run {side}: {args.experiment} {' '.join(overrides)}")
                run = one_run(args.experiment, overrides)
                runs.append(run)
                walls.append(run.wall_s)
                print(f"pair {pair} run {side}: " + " | ".join(run.lines))
                print_figure(f"pair {pair} run {side} wall time", run.wall_s, "s", spec=".1f")
            same = runs[0].verdicts == runs[1].verdicts
            agreed += same
            print(f"pair {pair}: {'same verdict at every level' if same else 'verdicts differ'}")
    print_figure(
        "pairs with the same verdict at every level",
        f"{agreed} of {args.pairs}",
        budget=f"all {args.pairs}",
        within=agreed == args.pairs,
    )
    print_figure(
        "wall time per run",
        f"{min(walls):.1f} to {max(walls):.1f}",
        "s",
        note=f"median {sorted(walls)[len(walls) // 2]:.1f} s",
    )


if __name__ == "__main__":
    main()
