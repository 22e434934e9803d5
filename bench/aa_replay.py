"""Replay A/A compares from stored repetitions: how often does the regression gate cry wolf, and
how often does it catch a real slowdown?

Usage: python bench/aa_replay.py RUN [RUN ...] [--families N] [--repetitions K] [--slowdown S]

RUN is a run directory (or its results.jsonl). Two ways to form A/A pairs:
- one run with >= 2K repetitions per (target, level): each family splits every cell's
  repetitions at random (seeded) into two disjoint halves of K, A and B;
- several runs of the same experiment: every pair of runs is one family, all repetitions each.
Each family is compared as `runner.compare` decides it: valid steps only (a step judged invalid
is left out, as the gate does), runner.analysis.significance with Holm over every target, level and
metric at once, and the gate's thresholds (5% throughput, 10% latency by default). A false alarm is a family with any "regression". Then the candidate
half is made S slower (latency x (1 + S), throughput x (1 - S), default 10%) and the share of
families flagged, and of the slowed comparisons decided "regression", is the detection rate.
Reads only the files; no load is generated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _shared import bench_parser, print_figure

from runner.analysis.significance import (
    Comparison,
    Key,
    SignificanceSettings,
    compare_repetitions,
    overall_decision,
)

Cell = tuple[str, int]  # target, level
Row = dict[str, float]  # metric -> value, one repetition
Run = dict[Cell, list[Row]]  # ordered by repetition
Side = dict[Key, list[float]]
MIN_FAMILIES = 20


def metrics_of(step: dict[str, Any]) -> Row:
    latency = step["latency_ms"]
    return {
        "successful_rps": step["rps"] * (1.0 - step["error_rate"]),
        "error_rate": step["error_rate"],
        "p95_ms": latency["p95"],
        "p99_ms": latency["p99"],
    }


def step_counts(entry: dict[str, Any]) -> bool:
    """As runner.analysis.left_out: a step judged invalid is left out; unjudged ones count."""
    validity = entry.get("validity")
    return validity is None or bool(validity.get("valid", True))


def load_run(path: Path) -> Run:
    """Steps of a results.jsonl by cell; the first record of a repeated step wins (as the
    store does), failure lines are skipped, and a line cut off by a crash at the end too."""
    file = path / "results.jsonl" if path.is_dir() else path
    steps: dict[tuple[str, int, int], Row] = {}
    lines = [line for line in file.read_text().splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise
        if entry.get("kind", "step") != "step" or not step_counts(entry):
            continue
        key = (entry["target"], int(entry["level"]), int(entry["repetition"]))
        steps.setdefault(key, metrics_of(entry))
    run: Run = {}
    for (target, level, _), row in sorted(steps.items()):
        run.setdefault((target, level), []).append(row)
    return run


def side(rows_by_cell: dict[Cell, list[Row]]) -> Side:
    return {
        (target, level, metric): [row[metric] for row in rows]
        for (target, level), rows in rows_by_cell.items()
        for metric in rows[0]
    }


def split_families(run: Run, repetitions: int, families: int, seed: int) -> list[tuple[Side, Side]]:
    """A/A pairs from one run: disjoint random halves of each cell's repetitions."""
    short = {cell: len(rows) for cell, rows in run.items() if len(rows) < 2 * repetitions}
    if len(short) == len(run):
        raise SystemExit(
            f"error: no cell has {2 * repetitions} valid repetitions; give several runs instead."
        )
    if short:
        # As the gate would: a cell without enough valid repetitions decides nothing.
        listed = ", ".join(
            f"{target} at {level} ({count})" for (target, level), count in short.items()
        )
        print(
            f"left out: {len(short)} cell(s) with fewer than {2 * repetitions} valid "
            f"repetitions: {listed}",
            file=sys.stderr,
        )
        run = {cell: rows for cell, rows in run.items() if cell not in short}
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(families):
        a: dict[Cell, list[Row]] = {}
        b: dict[Cell, list[Row]] = {}
        for cell, rows in run.items():
            order = rng.permutation(len(rows))
            a[cell] = [rows[i] for i in order[:repetitions]]
            b[cell] = [rows[i] for i in order[repetitions : 2 * repetitions]]
        pairs.append((side(a), side(b)))
    return pairs


def run_pairs(runs: Sequence[Run]) -> list[tuple[Side, Side]]:
    """A/A pairs from several runs: every pair, on the cells all runs share."""
    shared = set.intersection(*(set(run) for run in runs))
    if not shared:
        raise SystemExit("error: the runs share no (target, level).")
    sides = [side({cell: run[cell] for cell in sorted(shared)}) for run in runs]
    return list(itertools.combinations(sides, 2))


def slowed(candidate: Side, slowdown: float) -> Side:
    """The candidate S slower: latency up by S, successful throughput down by S."""
    factors = {"p95_ms": 1.0 + slowdown, "p99_ms": 1.0 + slowdown, "successful_rps": 1 - slowdown}
    return {
        key: [value * factors.get(key[2], 1.0) for value in values]
        for key, values in candidate.items()
    }


def flagged(comparisons: list[Comparison]) -> bool:
    return any(c.decision == "regression" for c in comparisons)


def replay(
    pairs: list[tuple[Side, Side]], slowdown: float, settings: SignificanceSettings
) -> dict[str, Any]:
    false_alarms = detected = slowed_cells = slowed_found = slowed_passed = 0
    aa_decisions: Counter[str] = Counter()
    for baseline, candidate in pairs:
        same = compare_repetitions(baseline, candidate, settings)
        aa_decisions.update(c.decision for c in same)
        false_alarms += flagged(same)
        worse = compare_repetitions(baseline, slowed(candidate, slowdown), settings)
        detected += flagged(worse)
        # The gate's exit status 0: the slowed candidate would have passed CI.
        slowed_passed += overall_decision(worse) in ("no change", "improvement")
        scaled = [c for c in worse if c.metric != "error_rate"]
        slowed_cells += len(scaled)
        slowed_found += sum(c.decision == "regression" for c in scaled)
    return {
        "families": len(pairs),
        "comparisons_per_family": len(pairs[0][0]),
        "false_alarm_rate": false_alarms / len(pairs),
        "false_alarms": false_alarms,
        "aa_decisions": dict(aa_decisions),
        "slowdown": slowdown,
        "detection_rate": detected / len(pairs),
        "slowed_comparisons_found": slowed_found / slowed_cells if slowed_cells else 0.0,
        "slowed_pass_rate": slowed_passed / len(pairs),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser(__file__, __doc__)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories or results.jsonl")
    parser.add_argument("--families", type=int, default=100, help="splits of one run (100)")
    parser.add_argument(
        "--repetitions",
        type=int,
        default=3,
        help="per side when splitting one run; the fewest a decision needs (3)",
    )
    parser.add_argument("--slowdown", type=float, default=0.10, help="synthetic slowdown (0.10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits (0)")
    parser.add_argument("--alpha", type=float, default=0.05, help="family-wise rate (0.05)")
    parser.add_argument("--threshold", type=float, default=0.05, help="throughput change (0.05)")
    parser.add_argument(
        "--latency-threshold", type=float, default=0.10, help="p95/p99 change (0.10)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = [load_run(path) for path in args.runs]
    if any(not run for run in runs):
        raise SystemExit("error: a run holds no steps.")
    if len(runs) == 1:
        pairs = split_families(runs[0], args.repetitions, args.families, args.seed)
    else:
        pairs = run_pairs(runs)
    settings = SignificanceSettings(
        alpha=args.alpha,
        threshold=args.threshold,
        latency_threshold=args.latency_threshold,
        min_repetitions=args.repetitions,
    )
    if len(pairs) < MIN_FAMILIES:
        print(
            f"note: only {len(pairs)} A/A compare(s); rates from fewer than {MIN_FAMILIES} "
            "say little.",
            file=sys.stderr,
        )
    figures = replay(pairs, args.slowdown, settings)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_figures(figures, settings)
    return 0


def print_figures(figures: dict[str, Any], settings: SignificanceSettings) -> None:
    decisions = ", ".join(f"{n} {d}" for d, n in sorted(figures["aa_decisions"].items()))
    print(
        f"{figures['families']} A/A compares of {figures['comparisons_per_family']} "
        f"comparisons each (alpha {settings.alpha:g}, threshold {settings.threshold:.0%}, "
        f"latency {settings.latency_threshold or settings.threshold:.0%})"
    )
    print_figure(
        "false-alarm rate",
        figures["false_alarm_rate"],
        spec=".1%",
        note=f"{figures['false_alarms']} compare(s) with a regression",
        budget=f"<= {settings.alpha:.0%}",
        within=figures["false_alarm_rate"] <= settings.alpha,
    )
    print(f"A/A decisions: {decisions}")
    print_figure(
        f"detection of a {figures['slowdown']:.0%} slowdown",
        figures["detection_rate"],
        "of compares flagged",
        spec=".1%",
        note=f"{figures['slowed_comparisons_found']:.1%} of the slowed throughput/latency "
        "comparisons decided 'regression'",
    )
    print_figure(
        "slowed compares the gate would pass (exit 0)",
        figures["slowed_pass_rate"],
        spec=".1%",
        note="the rest are 'regression' (exit 1) or 'inconclusive' (exit 3)",
    )


if __name__ == "__main__":
    sys.exit(main())
