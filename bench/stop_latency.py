"""How fast a run stops when told to, and how fast its processes go when the runner is killed.

Usage: python bench/stop_latency.py [--runs N]

For each signal it starts `python -m runner` on the fault suite's interrupt experiment (gunicorn,
2 workers, 1 s steps), waits until the first step is stored, sends the signal, and measures:
- SIGINT / SIGTERM: signal to runner exit (k6 and the server stopped, partial report written);
- SIGKILL: signal to the moment no server or k6 process of the run is left (parent-death signal).
Also prints the cost of the pre-flight module check for the quickstart's three targets.
Load goes to 127.0.0.1 only. Holds the machine-wide load lock while it runs; the runs it starts
take turns under it.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _shared import PROJECT_ROOT, bench_parser, machine_lock, print_figure

FAULT_EXPERIMENTS = PROJECT_ROOT / "tests" / "experiments"
LIMIT_S = 120  # every wait here is bounded
LOCK_WAIT_S = 1800  # the first step may wait for the machine lock (taken before, here)


def is_server_or_k6(proc: psutil.Process) -> bool:
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return False
    server = len(cmd) > 2 and cmd[1] == "-m" and cmd[2] in ("uvicorn", "gunicorn")
    return server or (bool(cmd) and Path(cmd[0]).name == "k6" and "run" in cmd)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stored_lines(run_dir: Path) -> int:
    path = run_dir / "results.jsonl"
    return len(path.read_text().splitlines()) if path.is_file() else 0


def wait_for(condition, what: str, limit_s: float = LIMIT_S) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.01)


def one_run(signum: int, base: Path) -> float:
    run_dir = base / f"{signal.Signals(signum).name}-{time.time_ns()}"
    command = [sys.executable, "-m", "runner", "--config-dir", str(FAULT_EXPERIMENTS)]
    command += ["+experiment=faults_interrupt", f"hydra.run.dir={run_dir}"]
    runner = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return _measure(runner, run_dir, signum)
    finally:
        if runner.poll() is None:  # the bench itself failed: stop the run cleanly
            runner.send_signal(signal.SIGINT)
            runner.wait(timeout=LIMIT_S)


def _measure(runner: subprocess.Popen[bytes], run_dir: Path, signum: int) -> float:
    wait_for(lambda: stored_lines(run_dir) >= 1, "the first stored step", LOCK_WAIT_S)
    children = [
        p for p in psutil.Process(runner.pid).children(recursive=True) if is_server_or_k6(p)
    ]
    sent = time.perf_counter()
    runner.send_signal(signum)
    runner.wait(timeout=LIMIT_S)
    if signum != signal.SIGKILL:
        elapsed = time.perf_counter() - sent
        results = json.loads((run_dir / "results.json").read_text())
        assert results["complete"] is False and (run_dir / "report.md").is_file()
        return elapsed

    def all_gone() -> bool:
        return not [p for p in children if alive(p)]

    wait_for(all_gone, "the run's processes to go")
    return time.perf_counter() - sent


def preflight_cost() -> float:
    from runner.config.experiment import validate_experiment
    from runner.measure.server import check_importable

    targets = {
        "fastapi": ("targets.fastapi_app:app", "uvicorn"),
        "django_wsgi": ("targets.django_project.wsgi:application", "gunicorn"),
        "django_asgi": ("targets.django_project.asgi:application", "uvicorn"),
    }
    experiment = validate_experiment(
        {
            "name": "bench",
            "targets": {n: {"app": a, "server": s} for n, (a, s) in targets.items()},
            "sweep": {"concurrency": {"levels": [1]}},
            "load": {"duration": "1s"},
            "scenario": {"name": "json", "requests": [{"path": "/json"}]},
        },
        "bench",
    )
    started = time.perf_counter()
    check_importable(experiment)
    return time.perf_counter() - started


def main() -> None:
    parser = bench_parser(__file__, __doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per signal (3)")
    args = parser.parse_args()
    with machine_lock(), tempfile.TemporaryDirectory() as tmp:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            times = [one_run(signum, Path(tmp)) for _ in range(args.runs)]
            what = "until no server/k6 is left" if signum == signal.SIGKILL else "until exit"
            print_figure(
                f"{signal.Signals(signum).name}: {what}, median",
                statistics.median(times),
                "s",
                spec=".2f",
                note=f"min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs",
            )
        preflight_ms = preflight_cost() * 1000
    print_figure("pre-flight module check, 3 targets", preflight_ms, "ms", spec=".0f")


if __name__ == "__main__":
    main()
