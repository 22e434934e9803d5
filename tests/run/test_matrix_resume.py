"""Multirun matrices, resume after a crash, dry run and plain output, through the real CLI."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import NEVER_INVALID, run_cli, server_like_processes, start_cli

SHORT = ["load.duration=1s", "load.warmup=0s"]
TWO_TARGETS = """# @package _global_
defaults:
  - /target@targets.fastapi: fastapi_uvicorn
  - /target@targets.django_wsgi: django_gunicorn
name: two_targets
sweep:
  concurrency:
    levels: [10]
load:
  duration: 1s
  warmup: 0s
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    experiments = tmp_path / "conf" / "experiment"
    experiments.mkdir(parents=True)
    (experiments / "two_targets.yaml").write_text(TWO_TARGETS)
    return tmp_path / "conf"


def test_dry_run_prints_the_plan_and_starts_nothing(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "runner.dry_run=true", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    # The plan is the command's output: standard output, not the progress stream.
    assert "9 step(s), estimated duration" in result.stdout
    assert "Dry run: nothing was started" in result.stdout
    assert "Plan of experiment 'quickstart'" in result.stdout
    assert not (tmp_path / "results.jsonl").exists() and not (tmp_path / "logs").exists()
    assert server_like_processes() == []


@pytest.mark.slow
def test_two_by_two_multirun_writes_one_matrix_report(config_dir: Path, tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "-m",
        "--config-dir",
        str(config_dir),
        "+experiment=two_targets",
        "targets.fastapi.workers=1,2",
        "targets.django_wsgi.workers=1,2",
        f"hydra.sweep.dir={sweep_dir}",
        *NEVER_INVALID,
    )
    assert result.returncode == 0, result.stderr
    report = (sweep_dir / "matrix.md").read_text()
    assert "4 job(s)" in report
    for fastapi in (1, 2):
        for django in (1, 2):
            assert (
                f"targets.fastapi.workers={fastapi}, targets.django_wsgi.workers={django}" in report
            )
    with (sweep_dir / "matrix.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 8  # 4 jobs x 2 targets x 1 level
    assert {r["job"] for r in rows} == {"0", "1", "2", "3"}
    assert (sweep_dir / "matrix.html").is_file()
    # Workers really changed: a job with 2 fastapi workers ran 2 worker processes plus the master.
    job_steps = [json.loads((sweep_dir / j / "results.json").read_text())["steps"] for j in "0123"]
    fastapi_processes = [
        next(s for s in steps if s["target"] == "fastapi")["server_processes"]
        for steps in job_steps
    ]
    assert fastapi_processes[0] < fastapi_processes[2]


@pytest.mark.slow
def test_plain_output_when_not_a_terminal(quickstart_run: Path) -> None:
    # The session's quickstart ran with pipes, as CI does: its log must be plain text.
    result = run_cli("+experiment=quickstart", "runner.dry_run=true")
    assert "\x1b[" not in result.stderr + result.stdout


def wait_for_lines(path: Path, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} did not reach {count} lines in {timeout_s} s")


@pytest.mark.slow
def test_resume_after_sigkill_measures_every_step_exactly_once(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = [
        "+experiment=quickstart",
        "~targets.django_asgi",
        "sweep.concurrency.levels=[10,20]",
        *SHORT,
        # One attempt a step, so "exactly once" counts steps, not retries of disturbed ones.
        "retry.max_attempts=1",
        f"hydra.run.dir={run_dir}",
        *NEVER_INVALID,  # validity is not the subject: no floor or ceiling to wait for
    ]
    runner = start_cli(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_lines(run_dir / "results.jsonl", 2, timeout_s=120)
        children = psutil.Process(runner.pid).children(recursive=True)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"survived the runner: {alive}"
    kept = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]

    result = run_cli(*args, f"runner.resume={run_dir}")
    assert result.returncode == 0, result.stderr
    assert "Resuming" in result.stderr
    steps = json.loads((run_dir / "results.json").read_text())["steps"]
    keys = [(s["target"], s["level"], s["repetition"]) for s in steps]
    assert len(keys) == len(set(keys)) == 4
    # The closing table lists every step of the run, as the closing line counts them.
    assert "Run complete: 4 step(s) measured" in result.stderr
    assert f"Measured steps: 4 ({len(kept)} kept from the interrupted run)" in result.stderr
    assert len(re.findall(r"^│ FastAPI|^│ Django", result.stderr, re.M)) == 4
    for entry in kept[:2]:
        assert entry in steps  # the steps measured before the kill are kept as they were
    assert "Partial report" not in (run_dir / "report.md").read_text()


@pytest.mark.slow
def test_resume_with_a_changed_config_is_refused(quickstart_run: Path, tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=quickstart",
        "load.duration=2s",
        "load.warmup=1s",
        f"runner.resume={quickstart_run}",
        f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 2, result.stderr
    assert "Cannot resume" in result.stderr
    assert "load.duration: stored '1s', now '2s'" in result.stderr
    assert "Traceback" not in result.stderr


def test_resume_of_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=quickstart", f"runner.resume={tmp_path}", f"hydra.run.dir={tmp_path}"
    )
    assert result.returncode == 2 and "not a sweepbench run directory" in result.stderr
    assert os.listdir(tmp_path) == [".hydra"] or "results.jsonl" not in os.listdir(tmp_path)
