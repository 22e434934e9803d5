"""Time to render every report format for a stored result set of 1,000 steps (target: < 3 s).

Usage: python bench/render.py

The result set is 5 targets x 20 levels x 10 repetitions of plausible, noisy step records.
Holds the machine-wide load lock while it renders (a timing is a measurement); exits 1 over budget.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

# The writers and the analysis (scipy.stats, imported on first use) are imported when a report
# is written; import them here so the timing below is rendering, not imports.
import scipy.stats  # noqa: F401
from _shared import bench_parser, machine_lock, print_figure

import runner.analysis
import runner.report.csv_writer
import runner.report.html
import runner.report.markdown  # noqa: F401
from runner.records.results import LatencyMs, RunRecord, Stat, StepResult
from runner.records.store import ResultStore, load_run
from runner.report import write_reports

TARGETS = 5
LEVELS = list(range(10, 210, 10))
REPETITIONS = 10


def synthetic_steps(rng: random.Random) -> list[StepResult]:
    steps = []
    for t in range(TARGETS):
        for level in LEVELS:
            for rep in range(1, REPETITIONS + 1):
                rps = 1000 * (t + 1) * min(1.0, level / 80) * rng.uniform(0.95, 1.05)
                p95 = level / rps * 1000 * 1.8
                steps.append(
                    StepResult(
                        target=f"target{t}",
                        label=f"Target {t}",
                        level=level,
                        repetition=rep,
                        started_at=1.7e9,
                        duration_s=30.0,
                        requests=int(rps * 30),
                        rps=round(rps, 2),
                        failed_requests=0,
                        error_rate=0.0,
                        errors={},
                        latency_ms=LatencyMs(
                            avg=p95 / 2,
                            min=0.3,
                            p50=p95 / 2,
                            p90=p95 * 0.9,
                            p95=p95,
                            p99=p95 * 1.4,
                            p99_9=p95 * 2,
                            max=p95 * 3,
                        ),
                        cpu_percent=Stat(avg=95.0, max=100.0),
                        memory_mib=Stat(avg=60.0, max=64.0),
                        server_processes=1,
                        client_cpu_percent=Stat(avg=50.0, max=60.0),
                        k6_exit_code=0,
                    )
                )
    return steps


BUDGET_S = 3.0


def main() -> int:
    bench_parser(__file__, __doc__).parse_args()
    steps = synthetic_steps(random.Random(1))
    experiment = {
        "name": "render_bench",
        "targets": {
            f"target{t}": {
                "app": "m:app",
                "server": "uvicorn",
                "label": f"Target {t}",
                "workers": 1,
            }
            for t in range(TARGETS)
        },
        "sweep": {"concurrency": {"levels": LEVELS}},
        "load": {"duration": "30s", "warmup": "5s"},
        "scenario": {"name": "json", "requests": [{"path": "/json"}]},
        "database": {"engine": "sqlite"},
        "repetitions": REPETITIONS,
        "pinning": {"enabled": True, "server_cpus": [0], "client_cpus": [1]},
        "report": {},
    }
    with machine_lock(), tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder)
        store = ResultStore(run_dir)
        store.start(experiment, {"started_at": 1.7e9, "ended_at": 1.7e9 + 3600})
        for step in steps:
            store.append(step)
        store.finish(True, {})
        started = time.perf_counter()
        record: RunRecord = load_run(run_dir)
        write_reports(run_dir, record)
        elapsed = time.perf_counter() - started
    print_figure(
        f"render {len(steps)} steps into md, html, csv x2",
        elapsed,
        "s",
        spec=".2f",
        budget=f"< {BUDGET_S:g} s",
        within=elapsed < BUDGET_S,
    )
    return 0 if elapsed < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
