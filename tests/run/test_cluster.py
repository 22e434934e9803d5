"""A matrix through Hydra's submitit launcher (docs/cluster.md), as a cluster would run it but on
this machine: `hydra/launcher=submitit_local` starts every job as its own Python process, at
once; the machine lock makes them measure one after the other; the launching process writes the
matrix report from what the jobs stored, and exits with the worst job's status."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from runner.run.multirun import STATUS_DIR
from tests.conftest import NEVER_INVALID, server_like_processes, start_cli

ONE_TARGET = """# @package _global_
defaults:
  - /target@targets.api: fastapi_uvicorn
name: one_target
sweep:
  concurrency:
    levels: [5]
load:
  duration: 1s
  warmup: 0s
"""


def measured_window(job_dir: Path) -> tuple[float, float]:
    """From the first server start to the end of the last step: the job's time on the machine."""
    steps = json.loads((job_dir / "results.json").read_text())["steps"]
    run = json.loads((job_dir / "run.json").read_text())
    start = min(s["started_at"] for s in steps) - sum(
        sum(times) for times in run["provenance"].get("target_start_s", {}).values()
    )
    return start, max(s["started_at"] + s["duration_s"] for s in steps)


def local_matrix(tmp_path: Path, *overrides: str) -> list[str]:
    """`-m` arguments: ONE_TARGET with workers=1,2 through submitit_local, into tmp_path/sweep."""
    experiments = tmp_path / "conf" / "experiment"
    experiments.mkdir(parents=True)
    (experiments / "one_target.yaml").write_text(ONE_TARGET)
    return [
        "-m",
        "--config-dir",
        str(tmp_path / "conf"),
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=3",
        "+experiment=one_target",
        "targets.api.workers=1,2",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *NEVER_INVALID,
        *overrides,
    ]


@pytest.mark.slow
def test_a_job_killed_outright_is_one_paragraph_and_a_failure_the_other_runs(
    tmp_path: Path,
) -> None:
    """Both jobs start at once in submitit's processes; the one that gets the machine first is
    killed with SIGKILL mid-step and leaves no result: submitit raises in the launching process,
    which says so in one paragraph (no traceback), writes the matrix report from what the other
    job stored and exits non-zero; the other job waited its turn; no server or k6 is left."""
    sweep = tmp_path / "sweep"
    launcher = start_cli(
        *local_matrix(tmp_path, "load.duration=5s"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        job = job_loading(launcher)
        assert job is not None, "no job reached its step"
        job.kill()  # its server and k6 are tied to its life
        killed_at = time.time()
        output, _ = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert launcher.returncode not in (0, None), output
    assert "A job of the matrix ended without leaving its result" in output, output
    assert "Traceback" not in output, output
    report = (sweep / "matrix.md").read_text()
    [survivor] = [d for d in (sweep / "0", sweep / "1") if (d / "results.json").is_file()]
    workers = 1 + int(survivor.name)
    host = socket.gethostname()
    assert f"- `{survivor.name}`: targets.api.workers={workers}, on {host}" in report
    machine = json.loads((survivor / "run.json").read_text())["provenance"]["machine"]
    assert machine["hostname"] == host
    assert machine["logical_cores"] == psutil.cpu_count(logical=True)
    assert machine["physical_cores"] == psutil.cpu_count(logical=False)
    assert machine["cpu_model"] and machine["memory_gib"] > 0
    # The jobs ran in processes of their own (submitit's); the survivor left its status.
    assert survivor.name in [p.name for p in (sweep / STATUS_DIR).iterdir()]
    assert (sweep / ".submitit").is_dir()
    # Started together, they took turns: the survivor measured only once the other was gone.
    assert measured_window(survivor)[0] >= killed_at - 1.0
    deadline = time.monotonic() + 15
    while server_like_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server_like_processes() == []


def job_loading(launcher: subprocess.Popen[str]) -> psutil.Process | None:
    """The job process whose k6 is running, once it has loaded for a moment."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and launcher.poll() is None:
        for process in server_like_processes():
            try:
                if process.name() == "k6":
                    time.sleep(1.5)
                    return process.parent()
            except psutil.Error:
                continue
        time.sleep(0.2)
    return None
