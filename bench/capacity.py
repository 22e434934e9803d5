"""Capacity search: how right, how repeatable, and how much cheaper than an exhaustive sweep.

    python bench/capacity.py [--parts known,shipped,sweep] [--service-ms 1,2,5] [--repeats 5]
                             [--targets fastapi,django_wsgi,django_asgi] [--reference 2]
                             [--experiment capacity] [--rates 15] [--repetitions 3] [--step 10s]
                             [--span 0.4] [OVERRIDE ...]

1. known (accuracy): apps whose capacity is known by construction. tests/apps/serial.py serves
   /work one request at a time, each holding a lock --service-ms ms; under k6's evenly spaced
   arrivals its latency stays near one hold up to its service rate and grows without bound
   beyond it, so the capacity at the objective is that rate (within 1% for trials of 5 s or
   more at a 50 ms objective). The app measures the rate itself: answers per second while
   others waited for the lock (the hold and the hand-over), written when it stops. Each of
   --repeats searches (the experiment's objective and budget) gives found / true (goal within
   0.95-1.05).
2. shipped (precision): --repeats searches of each shipped target of --experiment (--targets):
   each capacity against their median (goal within +-7.5%), how many lie inside the others'
   intervals, each search's wall time. The machine's own speed drifts between runs (a VM's CPU
   speed moves within minutes), so each run also searches a yardstick beside the targets: a
   reference app (tests/apps/serial.py holding its lock with --reference ms of CPU work,
   calibrated at its start, on the scenario's /json; --reference 0: none). Its found / true is
   printed per run, as the known apps' is; its own true rate across runs is the machine's drift
   as it measured it, and each target's capacity over the same run's reference rate gives a
   second spread, normalized by a yardstick measured in the same minutes.
3. sweep (the reference): an exhaustive open-model sweep of each shipped target around the
   median capacity (bench/capacity_sweep.py: --rates rates over +- --span, --repetitions of
   --step each), printed with the range its single repetitions give (its own error), and the
   median search's wall time against the sweep's (goal at most 1/3). Needs the shipped part.

All of it takes about 1.5 hours (5 repeats); a shorter look: --repeats 2 --targets fastapi
--parts known,shipped. The 1-minute loadavg is printed before and after each run. Holds the
machine-wide load lock; the runs are kept in outputs/bench-capacity/<time>/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _shared import PROJECT_ROOT, bench_parser, compose_experiment, machine_lock, print_figure, say
from capacity_sweep import (  # noqa: F401 (the yardstick's functions, as tests import them)
    RateFigures,
    figures_by_rate,
    highest_pass_capacity,
    monotone_capacity,
    repetition_spread,
    rps_text,
    sweep_reference,
    timed_run,
)

from runner.config.experiment import Experiment, validate_experiment

SPREAD_GOAL = 0.075
ACCURACY_GOAL = 0.05


@dataclass(frozen=True)
class Found:
    """One target's search in one run."""

    target: str
    label: str
    capacity: int | None
    low: int | None
    high: int | None
    headline: str
    wall_s: float


def loadavg() -> str:
    one, five, _ = os.getloadavg()
    return f"loadavg {one:.2f} (1 min), {five:.2f} (5 min)"


def run_searches(experiment: Experiment, run_dir: Path, overrides: list[str]) -> list[Found]:
    say(f"{experiment.name}: searching ({loadavg()})")
    record, _ = timed_run(experiment, run_dir, overrides)
    say(f"{experiment.name}: done ({loadavg()})")
    assert record.capacity is not None
    return [
        Found(
            t.target, t.label, t.capacity_rps, t.highest_pass, t.lowest_fail, t.headline, t.wall_s
        )
        for t in record.capacity.targets
    ]


def serial_target(name: str, hold_ms: float, stats: Path, **env: str) -> dict[str, Any]:
    """tests/apps/serial.py holding its lock `hold_ms` per request, its own rate written to
    stats/NAME.json when it stops (true_rate), with more of its `env`."""
    env = {"SERIAL_HOLD_MS": f"{hold_ms:g}", "SERIAL_STATS_FILE": str(stats / f"{name}.json"), **env}  # fmt: skip
    return {"app": "tests.apps.serial:app", "server": "uvicorn", "env": env}


def known_experiment(base: Experiment, service_ms: list[float], stats: Path) -> Experiment:
    data = base.model_dump(mode="json", by_alias=True)
    data["name"] = "capacity_known"
    data["targets"] = {}
    for ms in service_ms:
        name = f"serial_{ms:g}ms".replace(".", "_")
        data["targets"][name] = serial_target(name, ms, stats)
    data["scenario"] = {"name": "serial", "requests": [{"path": "/work"}]}
    return validate_experiment(data, "capacity search of known-capacity apps")


def reference_name(hold_ms: float) -> str:
    return f"reference_spin_{hold_ms:g}ms".replace(".", "_")


def with_reference(experiment: Experiment, hold_ms: float, stats: Path) -> Experiment:
    """The experiment with one more target, the yardstick: the serial app holding its lock with
    `hold_ms` of CPU work (calibrated at its start) on /json too, as the shared scenario asks."""
    data = experiment.model_dump(mode="json", by_alias=True)
    name = reference_name(hold_ms)
    spin = {"SERIAL_HOLD_KIND": "spin", "SERIAL_LOCK_JSON": "1"}
    data["targets"][name] = serial_target(name, hold_ms, stats, **spin)
    return validate_experiment(data, f"{experiment.name} with the reference {name}")


def true_rate(stats: Path, target: str) -> tuple[float | None, int]:
    """The app's own service rate and the back-to-back answers it rests on."""
    path = stats / f"{target}.json"
    if not path.is_file():
        return None, 0
    figures = json.loads(path.read_text())
    path.unlink()
    return figures["saturated_rps"] or None, int(figures["saturated_answers"])


def known_part(base: Experiment, args: argparse.Namespace, root: Path) -> None:
    service_ms = [float(ms) for ms in args.service_ms.split(",")]
    stats = root / "stats"
    stats.mkdir(parents=True, exist_ok=True)
    experiment = known_experiment(base, service_ms, stats)
    overrides: list[str] = args.overrides
    for repeat in range(1, args.repeats + 1):
        for found in run_searches(experiment, root / f"known-{repeat}", overrides):
            found_against_true(found, repeat, stats)


def found_against_true(found: Found, repeat: int, stats: Path, judged: bool = True) -> float | None:
    """Print a serial app's search against its own rate (read from stats); that rate. The
    reference is not judged against the accuracy goal: its CPU work and uvicorn's own share
    one core, so its capacity at the objective lies well under its service rate (0.85 here)."""
    true, answers = true_rate(stats, found.target)
    name = f"{found.target} search {repeat}"
    print(f"{name}: {found.headline}, interval {found.low}-{found.high} RPS, "
          f"{found.wall_s:.0f} s; the app's own rate {true} RPS ({answers} back-to-back answers)")  # fmt: skip
    if true is None or found.capacity is None:
        print_figure(f"{name}: found / true", "n/a")
        return true
    ratio = found.capacity / true
    if not judged:
        print_figure(f"{name}: found / true", ratio, spec=".3f", note="the reference: not an accuracy figure")  # fmt: skip
        return true
    within = abs(ratio - 1) <= ACCURACY_GOAL
    print_figure(f"{name}: found / true", ratio, spec=".3f", budget="0.95-1.05", within=within)  # fmt: skip
    return true


def shipped_experiment(base: Experiment, targets: str | None) -> Experiment:
    if not targets:
        return base
    data = base.model_dump(mode="json", by_alias=True)
    data["targets"] = {name: data["targets"][name] for name in targets.split(",")}
    return validate_experiment(data, f"{base.name}, targets {targets}")


def shipped_runs(
    shipped: Experiment, args: argparse.Namespace, root: Path
) -> tuple[dict[str, list[Found]], list[float | None]]:
    """--repeats runs of the shipped targets, with the reference beside them unless
    --reference 0: each target's searches, and the reference's true rate in each run."""
    stats = root / "stats"
    stats.mkdir(parents=True, exist_ok=True)
    reference = reference_name(args.reference) if args.reference else None
    searched = with_reference(shipped, args.reference, stats) if reference else shipped
    runs: dict[str, list[Found]] = {}
    reference_rates: list[float | None] = []
    for repeat in range(1, args.repeats + 1):
        for found in run_searches(searched, root / f"search-{repeat}", args.overrides):
            if found.target == reference:
                reference_rates.append(found_against_true(found, repeat, stats, judged=False))
            else:
                runs.setdefault(found.target, []).append(found)
    return runs, reference_rates


def spread(values: Sequence[float]) -> tuple[float, float]:
    """Their median, and the largest share by which one lies off it."""
    median = statistics.median(values)
    return median, max(abs(value / median - 1) for value in values)


def normalized(capacities: list[int | None], reference_rates: list[float | None]) -> list[float]:
    """Each run's capacity over the same run's reference true rate; runs lacking either are left
    out."""
    pairs = zip(capacities, reference_rates, strict=True)
    return [capacity / rate for capacity, rate in pairs if capacity is not None and rate]


def drift(reference_rates: list[float | None]) -> None:
    """Print the reference's true rate in each run and their spread: the machine's drift."""
    rates = [rate for rate in reference_rates if rate]
    by_run = ", ".join(f"{rate:g}" if rate else "n/a" for rate in reference_rates)
    print_figure("reference: its own true rate, run by run", by_run, "RPS")
    if rates:
        median, moved = spread(rates)
        print_figure(f"reference: spread of its true rate around the median ({median:g} RPS)", moved,
                     spec=".1%", note="the machine's drift, as the reference measured it")  # fmt: skip


def precision(target: str, runs: list[Found], reference_rates: list[float | None]) -> None:
    found = [f.capacity for f in runs if f.capacity is not None]
    label = runs[0].label
    print(f"{label}: {len(runs)} searches: " + "; ".join(f"{f.headline} [{f.low}-{f.high}] in {f.wall_s:.0f} s" for f in runs))  # fmt: skip
    if not found:
        return
    median, moved = spread(found)
    print_figure(f"{label}: spread around the median ({median:g} RPS)", moved, spec=".1%",
                 budget=f"<= {SPREAD_GOAL:.1%}", within=moved <= SPREAD_GOAL)  # fmt: skip
    pairs = [(a, b) for a in runs for b in runs if a is not b and a.capacity is not None]
    inside = sum(_inside(a.capacity, b) for a, b in pairs)
    print_figure(f"{label}: capacities inside the others' intervals", f"{inside} of {len(pairs)}")
    if reference_rates:
        normalized_precision(label, [f.capacity for f in runs], reference_rates)


def normalized_precision(
    label: str, capacities: list[int | None], reference_rates: list[float | None]
) -> None:
    ratios = normalized(capacities, reference_rates)
    if not ratios:
        print_figure(f"{label}: capacity / the same run's reference rate", "n/a")
        return
    median, moved = spread(ratios)
    print_figure(f"{label}: spread of capacity / the same run's reference rate around the median ({median:.3f})",
                 moved, spec=".1%", note=f"normalized by the same run's reference, a yardstick measured in the same minutes; {len(ratios)} runs",
                 budget=f"<= {SPREAD_GOAL:.1%}", within=moved <= SPREAD_GOAL)  # fmt: skip


def _inside(capacity: int | None, other: Found) -> bool:
    if capacity is None or other.low is None:
        return False
    return other.low <= capacity and (other.high is None or capacity <= other.high)


def sweep_part(experiment: Experiment, runs: dict[str, list[Found]], args: argparse.Namespace, root: Path) -> None:  # fmt: skip
    shape = (args.rates, args.repetitions, args.step, args.span)
    for target, found in runs.items():
        capacities = [f.capacity for f in found if f.capacity is not None]
        if not capacities:
            print(f"{found[0].label}: no capacity found, no sweep")
            continue
        median = round(statistics.median(capacities))
        say(f"sweep of {target} ({loadavg()})")
        overrides: list[str] = args.overrides
        ref = sweep_reference(experiment, target, median, shape, root / f"sweep-{target}", overrides)  # fmt: skip
        say(f"sweep of {target} done ({loadavg()})")
        print_figure(f"{found[0].label}: sweep capacity (monotone fit)", rps_text(ref.capacity),
                     note=f"single repetitions {rps_text(ref.single_low)} to {rps_text(ref.single_high)}; highest pass {rps_text(ref.optimistic)}; {ref.left_out} steps left out")  # fmt: skip
        if ref.capacity is not None and math.isfinite(ref.capacity):
            print_figure(f"{found[0].label}: median found / sweep", median / ref.capacity, spec=".3f", note="a reference: the sweep's own repetitions move")  # fmt: skip
        share = statistics.median(f.wall_s for f in found) / ref.seconds
        print_figure(f"{found[0].label}: median search time / sweep time ({ref.seconds:.0f} s)",
                     share, spec=".3f", budget="<= 0.333", within=share <= 1 / 3)  # fmt: skip


def main() -> None:
    parser = bench_parser(__file__, __doc__, experiment="capacity")
    parser.add_argument("--parts", default="known,shipped,sweep", help="known,shipped,sweep")
    parser.add_argument("--service-ms", default="1,2,5", help="known apps' holds, ms (1,2,5)")
    parser.add_argument("--repeats", type=int, default=5, help="searches of each target (5)")
    parser.add_argument("--targets", default=None, help="shipped targets (all of the experiment)")
    parser.add_argument("--reference", type=float, default=2.0,
                        help="the reference app's hold of CPU work, ms (2; 0: no reference)")  # fmt: skip
    parser.add_argument("--rates", type=int, default=15, help="rates swept per target (15)")
    parser.add_argument("--repetitions", type=int, default=3, help="of each swept rate (3)")
    parser.add_argument("--step", default="10s", help="measured seconds per sweep step (10s)")
    parser.add_argument("--span", type=float, default=0.4, help="knee: capacity +- this share")
    args = parser.parse_args()
    if args.reference < 0:
        parser.error("--reference: a hold in ms, or 0 for no reference")
    parts = set(args.parts.split(","))
    base = compose_experiment(args.experiment, args.overrides)
    if base.load.capacity is None:
        raise SystemExit(f"{args.experiment} is not a capacity experiment (load.model=capacity)")
    with machine_lock():
        root = PROJECT_ROOT / "outputs" / "bench-capacity" / time.strftime("%Y-%m-%d_%H-%M-%S")
        print(f"bench/capacity.py {' '.join(sys.argv[1:])}: {loadavg()}", flush=True)
        if "known" in parts:
            known_part(base, args, root)
        if parts & {"shipped", "sweep"}:
            shipped = shipped_experiment(base, args.targets)
            runs, reference_rates = shipped_runs(shipped, args, root)
            if reference_rates:
                drift(reference_rates)
            for target, found_runs in runs.items():
                precision(target, found_runs, reference_rates)
            if "sweep" in parts:
                sweep_part(shipped, runs, args, root)
        print(f"end: {loadavg()}", flush=True)


if __name__ == "__main__":
    main()
