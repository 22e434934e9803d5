"""A matrix through a real SLURM scheduler: a one-node cluster on this machine (munged,
slurmctld and slurmd from Debian's munge and slurm-wlm, tests/slurm_cluster.py) and
`hydra/launcher=submitit_slurm`, as docs/cluster.md tells a user to run it.

SLURM runs each job as a batch job that its slurmd starts (not a child of this test), so what
is checked is what a user on a cluster sees: the jobs' ids and hosts in the record, the matrix
report written once by the launching command, the worst job's exit status, a readable console,
and nothing left running after `scancel`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from runner.run.multirun import STATUS_DIR
from tests.conftest import NEVER_INVALID, cli_command, cli_env, server_like_processes
from tests.run.test_cluster import ONE_TARGET
from tests.slurm_cluster import SlurmCluster, slurm_cluster, why_not_available

_why_not = why_not_available()
# CI installs SLURM (.ci/run sets SWEEPBENCH_CI): there a missing SLURM fails, never skips.
_in_ci = bool(os.environ.get("SWEEPBENCH_CI") or os.environ.get("CI"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_why_not is not None and not _in_ci, reason=str(_why_not)),
]

RUN_TIMEOUT_S = 150
GONE_WITHIN_S = 15


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """One cluster for the module's tests, stopped after them (failures included)."""
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as made:
        yield made


def matrix_command(cluster: SlurmCluster, tmp_path: Path, *overrides: str) -> list[str]:
    experiments = tmp_path / "conf" / "experiment"
    experiments.mkdir(parents=True)
    (experiments / "one_target.yaml").write_text(ONE_TARGET)
    return cli_command(
        "-m",
        "--config-dir",
        str(tmp_path / "conf"),
        "hydra/launcher=submitit_slurm",
        f"hydra.launcher.partition={cluster.partition}",
        "hydra.launcher.timeout_min=5",
        "+experiment=one_target",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "runner.stop_grace=2",
        *NEVER_INVALID,
        *overrides,
    )


def start(cluster: SlurmCluster, command: list[str], output: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        env=cli_env(cluster.env),
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str], output: Path, cluster: SlurmCluster) -> str:
    try:
        process.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"{output.read_text()}\n{cluster.logs()}") from None
    return output.read_text()


def test_a_two_by_one_matrix_scheduled_by_slurm(cluster: SlurmCluster, tmp_path: Path) -> None:
    command = matrix_command(cluster, tmp_path, "targets.api.workers=1,2")
    output = tmp_path / "console.txt"
    text = finished(start(cluster, command, output), output, cluster)
    assert "Traceback" not in text, text
    sweep = tmp_path / "sweep"
    report = (sweep / "matrix.md").read_text()
    host = socket.gethostname()
    jobs = {}
    for job, workers in (("0", 1), ("1", 2)):
        machine = json.loads((sweep / job / "run.json").read_text())["provenance"]["machine"]
        assert machine["hostname"] == host
        jobs[job] = machine["slurm_job"]
        assert f"- `{job}`: targets.api.workers={workers}, on {host} (SLURM job {jobs[job]})" in (
            report
        )
    # One job array: ARRAY_TASK, its tasks numbered as Hydra numbered the jobs.
    array = {job_id.split("_")[0] for job_id in jobs.values()}
    assert len(array) == 1 and {job_id.split("_")[1] for job_id in jobs.values()} == {"0", "1"}
    # Run by SLURM: each job's own log says so, under the array's id.
    for job_id in jobs.values():
        log = (sweep / ".submitit" / job_id / f"{job_id}_0_log.out").read_text()
        assert f"JobEnvironment(job_id={job_id}," in log
    assert sorted(p.name for p in (sweep / STATUS_DIR).iterdir()) == ["0", "1"]
    # The matrix report, once, by the launching command; the console says sacct's failure once.
    assert text.count("matrix.md") == 1, text
    # (sacct's own "Slurm accounting storage is disabled" stays: it prints it itself.)
    assert text.count("sacct failed") == 1 and "Bypassing sacct error" not in text, text
    assert server_like_processes() == []


def test_a_failed_job_and_a_cancelled_one(cluster: SlurmCluster, tmp_path: Path) -> None:
    """Job 0 loads for 30 s and is cancelled mid-step (`scancel`); job 1's app does not import.
    The command ends with the worst status, the matrix report written from what was stored, no
    traceback, and no server or k6 left."""
    command = matrix_command(
        cluster,
        tmp_path,
        "targets.api.app=targets.fastapi_app:app,tests.apps.no_such_module:app",
        "load.duration=30s",
    )
    output = tmp_path / "console.txt"
    launcher = start(cluster, command, output)
    try:
        k6 = wait_for_k6(launcher)
        assert k6 is not None, output.read_text()
        job = f"{k6['SLURM_ARRAY_JOB_ID']}_{k6['SLURM_ARRAY_TASK_ID']}"
        cancelled = cluster.run("scancel", job)
        assert cancelled.returncode == 0, cancelled.stderr
        text = finished(launcher, output, cluster)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert launcher.returncode != 0, text
    assert "Traceback" not in text, text
    sweep = tmp_path / "sweep"
    statuses = {p.name: int(p.read_text()) for p in (sweep / STATUS_DIR).iterdir()}
    assert statuses["1"] == 2  # refused: the app does not import
    assert statuses.get("0", 143) == 143  # stopped by SLURM's SIGTERM (or killed before)
    assert (sweep / "matrix.md").is_file()
    deadline = time.monotonic() + GONE_WITHIN_S
    while server_like_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server_like_processes() == []
    assert cluster.jobs() == [] or wait_until_no_jobs(cluster)


def wait_for_k6(launcher: subprocess.Popen[str]) -> dict[str, str] | None:
    """The environment of a k6 a job started (its SLURM job), once it has loaded for a moment."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and launcher.poll() is None:
        for process in server_like_processes():
            try:
                if process.name() == "k6":
                    time.sleep(1.5)  # into the step
                    return dict(process.environ())
            except psutil.Error:
                continue
        time.sleep(0.2)
    return None


def wait_until_no_jobs(cluster: SlurmCluster) -> bool:
    deadline = time.monotonic() + GONE_WITHIN_S
    while cluster.jobs() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not cluster.jobs()
