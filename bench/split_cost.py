"""What splitting a step over k6 instances costs: k6's raw output, and a split step's figures.

    python bench/split_cost.py [--seconds 10] [--vus 64] [--rate 0] [--repeats 1]

Drives the minimal responder (runner.measure.ceiling.responder) on the server's core with k6 (standard
script) on the client's core, as k6's ceiling is measured:
1. k6's throughput with one instance, closed model at --vus users, without raw output, with it
   gzipped as a split step's instances write it (`--out csv=k6-samples.csv.gz`), and with it
   uncompressed: RPS of each, the cost in %, the file's bytes per request and the runner's time
   to read it.
2. One step split over 2 instances next to a single-instance step of the same total load: an
   open model at --rate requests/s (0: half the throughput with raw output in part 1, so both
   can keep up), with requests, RPS, dropped iterations, p50 and p99 of each.
Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shared import bench_parser, machine_lock, print_figure

from runner.config.load_model import CLOSED, OPEN
from runner.measure import k6, launch
from runner.measure.k6.raw import RAW_FILE, read_measured_durations
from runner.measure.ports import HOST, free_port

SERVER_CPUS, CLIENT_CPUS = [0], [1]
WARMUP_S = 1.0
K6_EXTRA_S = 60.0
OPEN_VUS = (200, 2000)  # preallocated, maximum: the responder answers in well under 1 ms


def start_responder(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "runner.measure.ceiling.responder", str(port)]
    responder = launch.spawn(
        command, cpus=SERVER_CPUS, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return responder
        except OSError:
            time.sleep(0.05)
        finally:
            connection.close()
    launch.stop_group(responder, 3)
    raise SystemExit("the responder did not answer")


def run(
    instances: list[k6.Instance], port: int, seconds: float
) -> tuple[k6.SplitRun, k6.K6Metrics]:
    env = {"SWEEPBENCH_BASE_URL": f"http://{HOST}:{port}", "SWEEPBENCH_PATH": "/"}
    done = k6.run_instances(instances, env, CLIENT_CPUS, WARMUP_S + seconds + K6_EXTRA_S)
    problem = done.problem(stopped_by_watch=False)
    try:
        metrics = done.metrics()
    except k6.K6Failed as failed:
        problem = problem or str(failed)
    if problem is not None:
        raise SystemExit(f"k6 failed: {problem}: {' '.join(done.output_tail[-3:])}")
    return done, metrics


def one_instance(work: Path, options: dict[str, object], raw: str | None) -> list[k6.Instance]:
    command = k6.k6_command(
        k6.find_k6(),
        k6.STANDARD_SCRIPT,
        options,
        work,
        free_port(),
        raw_path=work / raw if raw else None,
    )
    return [k6.Instance(k6.Segment(0, 1), command)]


VARIANTS = {
    "without raw output": None,
    f"with raw output, gzipped as a split step writes it ({RAW_FILE})": RAW_FILE,
    "with raw output uncompressed (k6-samples.csv)": "k6-samples.csv",
}


def raw_output_cost(port: int, args: argparse.Namespace, work: Path) -> float:
    """Part 1; returns the throughput with gzipped raw output (RPS, median of the repeats)."""
    options = k6.step_options(CLOSED.executor(args.vus), f"{args.seconds:g}s", WARMUP_S)
    rps: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _repeat in range(args.repeats):
        for name, raw in VARIANTS.items():
            _done, metrics = run(one_instance(work, options, raw), port, args.seconds)
            rps[name].append(metrics.requests / args.seconds)
    print(f"one k6 instance, {args.vus} VUs, {args.seconds:g} s, median of {args.repeats}:")
    plain = statistics.median(rps["without raw output"])
    for name, raw in VARIANTS.items():
        median = statistics.median(rps[name])
        cost = f"cost {100 * (plain - median) / plain:.1f}% of k6's throughput" if raw else None
        print_figure(f"  {name}", median, "RPS", spec=",.0f", note=cost)
        if raw is not None:
            _describe_file(work / raw, median * args.seconds)
    return statistics.median(
        rps[f"with raw output, gzipped as a split step writes it ({RAW_FILE})"]
    )


def _describe_file(path: Path, requests: float) -> None:
    began = time.perf_counter()
    durations = read_measured_durations(path)
    read_s = time.perf_counter() - began
    size = path.stat().st_size
    print(
        f"    file: {size / 1e6:.1f} MB, {size / max(requests, 1):.0f} bytes per measured "
        f"request (its warmup too); read by the runner in {read_s:.2f} s "
        f"({read_s / max(durations.size, 1) * 1e6:.1f} us per request)"
    )


def split_against_single(port: int, args: argparse.Namespace, rate: int, work: Path) -> None:
    """Part 2: the same open-model load from one instance and from two."""
    executor = OPEN.executor(rate, OPEN_VUS)
    options = k6.step_options(executor, f"{args.seconds:g}s", WARMUP_S, ["dropped_iterations"])
    print(
        f"one step at {rate:,} RPS (open model), {args.seconds:g} s, on k6 core(s) {CLIENT_CPUS}:"
    )
    print("  instances  requests      RPS  dropped   p50 ms   p99 ms")
    for count in (1, 2):
        directory = work / f"split-{count}"
        instances = k6.step_instances(k6.find_k6(), k6.STANDARD_SCRIPT, options, directory, count)
        _done, metrics = run(instances, port, args.seconds)
        lat = metrics.latency_ms
        print(
            f"  {count:>9}  {metrics.requests:>8,}  {metrics.requests / args.seconds:>7,.0f}"
            f"  {metrics.dropped_iterations:>7,}  {lat['p50'] or 0:>7.3f}  {lat['p99'] or 0:>7.3f}"
        )


def main() -> None:
    parser = bench_parser(__file__, __doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per k6 run (10)")
    parser.add_argument("--vus", type=int, default=64, help="part 1's closed-model users (64)")
    parser.add_argument("--rate", type=int, default=0, help="part 2's rate (0: from part 1)")
    parser.add_argument("--repeats", type=int, default=1, help="part 1's runs per variant (1)")
    args = parser.parse_args()
    with machine_lock(), tempfile.TemporaryDirectory() as scratch:
        os.sched_setaffinity(0, set(CLIENT_CPUS))  # where a sweep's runner runs
        port = free_port()
        responder = start_responder(port)
        try:
            with_raw = raw_output_cost(port, args, Path(scratch))
            rate = args.rate or max(1, int(0.5 * with_raw))
            split_against_single(port, args, rate, Path(scratch))
        finally:
            launch.stop_group(responder, 3)


if __name__ == "__main__":
    main()
