"""Sampler cost: CPU used by the sampling thread itself, in % of one core.

    python bench/sampler_cost.py [--seconds 10] [--interval 0.1]

Starts a real server (Django on gunicorn, 2 workers: a tree of 3 processes) under light k6 load
and samples it, and k6, as a step does, reading the sampling thread's own CPU time from
/proc (psutil). Prints the cost with USS/PSS at the default 1 s interval and /proc/stat's per-core
counters on every tick, as a step samples (budget: < 1% of one core at 10 Hz); without the
counters, so the cost of step validity shows (budget: < 1% of one core); and, to show why USS/PSS
are read less often, with them off and at every sample.
Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _shared import bench_parser, machine_lock, print_figure

from runner.config.experiment import Expect, Request, Target
from runner.config.load_model import CLOSED
from runner.measure import k6
from runner.measure.sampler import TreeSampler
from runner.measure.server import running_server

SERVER = Target(app="targets.django_project.wsgi:application", server="gunicorn", workers=2)
CHECK = Request(path="/json", expect=Expect(status=200, json={"message": "Hello, World!"}))
SERVER_CPUS, CLIENT_CPUS = [0], [1]
DEFAULT = "defaults: CPU and per-core counters every interval, memory (RSS, USS, PSS) every 1 s"
NO_COUNTERS = "the same without /proc/stat's per-core counters (no step validity)"


def thread_cpu_seconds(native_id: int | None) -> float:
    """CPU time of one of our threads, from the first field of its schedstat (nanoseconds)."""
    schedstat = Path(f"/proc/self/task/{native_id}/schedstat").read_text()
    return int(schedstat.split()[0]) / 1e9


def sampler_cost(
    server_pid: int, k6_pid: int, seconds: float, settings: dict[str, float | bool]
) -> tuple[float, int]:
    """(% of one core used by the sampling thread, CPU samples taken) over `seconds`."""
    with TreeSampler(
        {"server": server_pid},
        float(settings["interval_s"]),
        float(settings["memory_interval_s"]),
        bool(settings["uss"]),
        cpu_counters=bool(settings.get("counters", True)),
    ) as sampler:
        sampler.track("k6", k6_pid)
        thread_id = sampler.native_thread_id
        began, cpu_before = time.monotonic(), thread_cpu_seconds(thread_id)
        time.sleep(seconds)
        cpu_used = thread_cpu_seconds(thread_id) - cpu_before
        wall = time.monotonic() - began
    return 100 * cpu_used / wall, len(sampler.samples["server"])


def start_light_load(base_url: str, seconds: float, work: Path) -> subprocess.Popen[bytes]:
    options = k6.step_options(CLOSED.executor(2), f"{seconds:g}s", 0)
    (work / "options.json").write_text(json.dumps(options))
    command = ["taskset", "-c", ",".join(map(str, CLIENT_CPUS)), str(k6.find_k6()), "run"]
    command += ["--quiet", "--config", str(work / "options.json"), str(k6.STANDARD_SCRIPT)]
    env = {**os.environ, "SWEEPBENCH_BASE_URL": base_url, "SWEEPBENCH_PATH": "/json"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = bench_parser(__file__, __doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="per variant (10)")
    parser.add_argument("--interval", type=float, default=0.1, help="CPU sampling, s (0.1)")
    args = parser.parse_args()
    every = args.interval
    variants: dict[str, dict[str, float | bool]] = {
        DEFAULT: {"interval_s": every, "memory_interval_s": 1.0, "uss": True},
        NO_COUNTERS: {
            "interval_s": every,
            "memory_interval_s": 1.0,
            "uss": True,
            "counters": False,
        },
        "memory every 1 s without USS/PSS": {
            "interval_s": every,
            "memory_interval_s": 1.0,
            "uss": False,
        },
        "memory with USS/PSS on every sample": {
            "interval_s": every,
            "memory_interval_s": every,
            "uss": True,
        },
    }
    results: dict[str, tuple[float, int]] = {}
    with machine_lock(), tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        os.sched_setaffinity(0, set(CLIENT_CPUS))  # where a sweep's runner (and sampler) runs
        with running_server("django", SERVER, work, SERVER_CPUS, [CHECK], 30, 5) as server:
            load = start_light_load(server.base_url, len(variants) * (args.seconds + 1) + 2, work)
            try:
                time.sleep(1)  # k6 up and sending
                for name, settings in variants.items():
                    results[name] = sampler_cost(server.pid, load.pid, args.seconds, settings)
            finally:
                load.terminate()
                load.wait(timeout=30)
    print(
        f"sampling a 3-process gunicorn tree and k6, CPU every {every:g} s, {args.seconds:g} s each"
    )
    for name, (percent, samples) in results.items():
        print_figure(name, percent, "% of one core", spec=".3f", note=f"{samples} CPU samples")
    cost = results[DEFAULT][0]
    print_figure(
        f"sampler cost ({DEFAULT})",
        cost,
        "% of one core",
        spec=".3f",
        budget="< 1%",
        within=cost < 1,
    )
    validity = cost - results[NO_COUNTERS][0]
    print_figure(
        "step validity's share of it (the counters)",
        validity,
        "% of one core",
        spec=".3f",
        budget="< 1%",
        within=validity < 1,
    )


if __name__ == "__main__":
    main()
