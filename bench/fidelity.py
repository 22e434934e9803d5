"""Fidelity: does measuring through the runner change what k6 measures?

    python bench/fidelity.py [--experiment quickstart] [--target fastapi] [--pairs 10] [OVERRIDE ...]

Starts one server and, alternately, measures the same step through the runner
(runner.measure.step.run_step: launcher, sampler, summary parsing) and with a bare `taskset -c CORES
k6 run` of the same script and options on the same cores, against the same server in the same
session. Prints the requests per second of each run,
ratio = median RPS through the runner / median RPS of bare k6 (budget: >= 0.98), and the median
and quartiles of the ratios within each pair: on a shared machine one step's throughput varies by
several percent from run to run, and neighbours in time share most of that drift.
Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from _shared import bench_parser, compose_experiment, machine_lock, print_figure, say

from runner.config.experiment import Experiment
from runner.measure import k6
from runner.measure.server import RunningServer, running_server
from runner.measure.step import run_step, server_cpus
from runner.records.results import StepResult
from runner.run.plan import Step, build_plan

DEFAULT_OVERRIDES = ["load.duration=3s", "load.warmup=1s", "sweep.concurrency.levels=[10]"]


def through_runner(server: RunningServer, experiment: Experiment, step: Step, work: Path) -> float:
    entry = run_step(step, server, experiment, k6.find_k6(), work)
    if not isinstance(entry, StepResult):
        raise SystemExit(f"the runner's step failed: {entry.message}")
    # The runner started this server, so its CPU was sampled.
    assert entry.cpu_percent is not None
    say(
        f"  runner: server CPU {entry.cpu_percent.avg:.0f}% of one core, k6 CPU "
        f"{entry.client_cpu_percent.avg:.0f}% of one core, client_bound={entry.client_bound}"
    )
    return entry.rps


def bare_k6(server: RunningServer, experiment: Experiment, step: Step, work: Path) -> float:
    """The same script, options and environment, typed by hand; nothing of the runner around."""
    work.mkdir(parents=True, exist_ok=True)
    options_path, summary_path = work / "options.json", work / "summary.json"
    options_path.write_text(json.dumps(k6.options_for_step(experiment, step)))
    cores = ",".join(str(c) for c in experiment.pinning.client_cpus)
    command = ["taskset", "-c", cores] if experiment.pinning.enabled else []
    command += [str(k6.find_k6()), "run", "--quiet", "--config", str(options_path)]
    command += ["--summary-export", str(summary_path), str(k6.STANDARD_SCRIPT)]
    env = {**os.environ, **k6.step_env(server.base_url, experiment, step)}
    timeout_s = experiment.load.warmup_s + experiment.load.duration_s + 60
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=timeout_s)
    metrics = k6.parse_summary(json.loads(summary_path.read_text()))
    return metrics.requests / experiment.load.duration_s


def main() -> None:
    parser = bench_parser(__file__, __doc__, experiment="quickstart", overrides=DEFAULT_OVERRIDES)
    parser.add_argument("--target", default="fastapi", help="the target to measure (fastapi)")
    parser.add_argument("--pairs", type=int, default=10, help="runner/bare k6 pairs (10)")
    args = parser.parse_args()
    experiment = compose_experiment(args.experiment, args.overrides)
    step = build_plan(experiment).for_target(args.target)[0]
    runner_rps: list[float] = []
    bare_rps: list[float] = []
    with machine_lock(), tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if experiment.pinning.enabled:  # as in a sweep: the runner sits on the client's cores
            os.sched_setaffinity(0, set(experiment.pinning.client_cpus))
        with running_server(
            args.target,
            experiment.targets[args.target],
            work / "logs",
            server_cpus(experiment),
            experiment.scenario.requests,
            experiment.runner.startup_timeout,
            experiment.runner.stop_grace,
        ) as server:
            for pair in range(args.pairs):
                # Alternate which goes first, so a drift of the machine favours neither.
                order = ("runner", "bare") if pair % 2 == 0 else ("bare", "runner")
                for way in order:
                    if way == "runner":
                        rps = through_runner(server, experiment, step, work / f"r{pair}")
                        runner_rps.append(rps)
                    else:
                        bare_rps.append(bare_k6(server, experiment, step, work / f"b{pair}"))
                say(
                    f"pair {pair + 1}: runner {runner_rps[-1]:,.1f} RPS, "
                    f"bare k6 {bare_rps[-1]:,.1f} RPS"
                )
    ratio = statistics.median(runner_rps) / statistics.median(bare_rps)
    print(
        f"experiment: {args.experiment} {' '.join(args.overrides)}, target {args.target}, {step.level_text}"
    )
    print("through the runner (RPS): " + ", ".join(f"{v:,.1f}" for v in runner_rps))
    print("bare k6 (RPS):            " + ", ".join(f"{v:,.1f}" for v in bare_rps))
    ratios = [r / b for r, b in zip(runner_rps, bare_rps, strict=True)]
    low, _median, high = statistics.quantiles(ratios, n=4)
    spread = statistics.stdev(bare_rps) / statistics.fmean(bare_rps)
    print_figure("run-to-run variation of bare k6 (coefficient of variation)", spread, spec=".1%")
    print_figure(
        "ratio within each pair (neighbours in time), median",
        statistics.median(ratios),
        spec=".3f",
        note=f"quartiles {low:.3f} to {high:.3f}",
    )
    print_figure(
        "ratio median runner / median bare k6",
        ratio,
        spec=".3f",
        budget=">= 0.98",
        within=ratio >= 0.98,
    )


if __name__ == "__main__":
    main()
