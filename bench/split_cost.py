"""What splitting a step over k6 instances costs: k6's raw output, and a split step's figures.

    python bench/split_cost.py [--seconds 10] [--vus 64] [--rate 0] [--repeats 1]

Drives the minimal responder (runner.ceiling.responder) on the server's core with k6 (standard
script) on the client's core, as k6's ceiling is measured:
1. k6's throughput with one instance, closed model at --vus users, without and with its raw
   output (`--out csv=`, what a split step's instances write and the runner merges): RPS of
   each, the cost in %, the file's bytes per request and the runner's seconds to read it.
2. One step split over 2 instances next to a single-instance step of the same total load: an
   open model at --rate requests/s (0: 60% of the throughput without raw output in part 1, so
   both can keep up), with requests, RPS, dropped iterations, p50 and p99 of each.
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

from _shared import say

from runner import k6, launch
from runner.k6.raw import RAW_FILE, read_measured_durations
from runner.load_model import CLOSED, OPEN
from runner.machine_lock import exclusive_machine
from runner.ports import HOST, free_port

SERVER_CPUS, CLIENT_CPUS = [0], [1]
WARMUP_S = 1.0
K6_EXTRA_S = 60.0
OPEN_VUS = (200, 2000)  # preallocated, maximum: the responder answers in well under 1 ms


def start_responder(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "runner.ceiling.responder", str(port)]
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
    metrics = done.metrics()
    if problem is not None or isinstance(metrics, str):
        raise SystemExit(f"k6 failed: {problem or metrics}: {' '.join(done.output_tail[-3:])}")
    return done, metrics


def one_instance(work: Path, options: dict[str, object], raw: bool) -> list[k6.Instance]:
    command = k6.k6_command(
        k6.find_k6(),
        k6.STANDARD_SCRIPT,
        options,
        work,
        free_port(),
        raw_path=work / RAW_FILE if raw else None,
    )
    return [k6.Instance(k6.Segment(0, 1), command)]


def raw_output_cost(port: int, args: argparse.Namespace, work: Path) -> float:
    """Part 1; returns the throughput without raw output (RPS, median of the repeats)."""
    options = k6.step_options(CLOSED.executor(args.vus), f"{args.seconds:g}s", WARMUP_S)
    rps: dict[bool, list[float]] = {False: [], True: []}
    for _repeat in range(args.repeats):
        for raw in (False, True):
            _done, metrics = run(one_instance(work, options, raw), port, args.seconds)
            rps[raw].append(metrics.requests / args.seconds)
    plain, with_raw = statistics.median(rps[False]), statistics.median(rps[True])
    print(f"one k6 instance, {args.vus} VUs, {args.seconds:g} s, median of {args.repeats}:")
    print(f"  without raw output: {plain:,.0f} RPS")
    print(f"  with raw output (--out csv): {with_raw:,.0f} RPS")
    print(f"  cost of the raw output: {100 * (plain - with_raw) / plain:.1f}% of k6's throughput")
    raw_file = work / RAW_FILE
    began = time.perf_counter()
    durations = read_measured_durations(raw_file)
    read_s = time.perf_counter() - began
    total = with_raw * args.seconds
    size = raw_file.stat().st_size
    print(
        f"  raw file: {size / 1e6:.1f} MB, {size / max(total, 1):.0f} bytes per request "
        f"(warmup included); the runner read its {durations.size:,} window samples in "
        f"{read_s:.2f} s ({read_s / max(durations.size, 1) * 1e6:.2f} us per request)"
    )
    return plain


def split_against_single(port: int, args: argparse.Namespace, rate: int, work: Path) -> None:
    """Part 2: the same open-model load from one instance and from two."""
    options = k6.step_options(OPEN.executor(rate, OPEN_VUS), f"{args.seconds:g}s", WARMUP_S)
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--vus", type=int, default=64)
    parser.add_argument("--rate", type=int, default=0, help="part 2's rate (0: 60%% of part 1)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    with exclusive_machine(say), tempfile.TemporaryDirectory() as scratch:
        os.sched_setaffinity(0, set(CLIENT_CPUS))  # where a sweep's runner runs
        port = free_port()
        responder = start_responder(port)
        try:
            plain = raw_output_cost(port, args, Path(scratch))
            rate = args.rate or max(1, int(0.6 * plain))
            split_against_single(port, args, rate, Path(scratch))
        finally:
            launch.stop_group(responder, 3)


if __name__ == "__main__":
    main()
