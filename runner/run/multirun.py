"""A multirun's jobs in other processes or on other hosts (Hydra launchers such as submitit).

Hydra's basic launcher runs each job in the launching process, which then knows every job's
exit status. A launcher that runs jobs elsewhere (hydra/launcher=submitit_local, submitit_slurm)
gives the launching process nothing back but the jobs' files, so each such job writes its exit
status into the sweep directory (shared by every host, docs/cluster.md), and the launching
process reads them when the multirun ends: its exit status is still the worst job's.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import psutil

# Names the launching process (host and pid); a job that sees another value runs elsewhere.
LAUNCHER_ENV = "SWEEPBENCH_LAUNCHER"
# In the sweep directory: one file per job, named by its number, holding its exit status.
STATUS_DIR = ".job_status"


# What submitit_local runs per job: a controller process, which starts the job's own process.
LOCAL_CONTROLLER = "submitit.local._local"
# Seconds a job stopped by a signal gets to stop its server and k6 and write a partial report.
STOP_GRACE_S = 15

# Exit statuses of the jobs that ran elsewhere, read when the multirun ended.
_collected: list[int] = []


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def mark_launcher() -> None:
    """Called by the command line before Hydra starts: jobs inherit this environment."""
    os.environ[LAUNCHER_ENV] = _this_process()


def in_launcher() -> bool:
    """True when this job runs in the process that launched the multirun (basic launcher)."""
    return os.environ.get(LAUNCHER_ENV) == _this_process()


def store_status(sweep_dir: Path, job_num: int, status: int) -> None:
    """A job run elsewhere leaves its exit status for the launching process (written whole)."""
    directory = sweep_dir / STATUS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{job_num}.{_this_process()}"
    partial.write_text(f"{status}\n")
    partial.replace(directory / str(job_num))


def clear_statuses(sweep_dir: Path) -> None:
    directory = sweep_dir / STATUS_DIR
    if directory.is_dir():
        for path in directory.iterdir():
            path.unlink(missing_ok=True)


def collect_statuses(sweep_dir: Path) -> list[int]:
    """The stored statuses of the sweep's jobs, kept for the launching process's exit status."""
    directory = sweep_dir / STATUS_DIR
    found = []
    if directory.is_dir():
        for path in directory.iterdir():
            if path.name.isdigit():
                found.append(int(path.read_text().strip() or "0"))
    _collected[:] = found
    return found


def collected_statuses() -> list[int]:
    return list(_collected)


def stop_local_jobs() -> list[int]:
    """Local jobs still running when the launching process ends (a signal stopped its wait):
    SIGTERM to their controllers, which pass it on to the jobs; SIGKILL after the grace time.
    Returns the controllers' pids. (Jobs on a cluster are the cluster's: scancel them.)"""
    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if LOCAL_CONTROLLER in child.cmdline():
                child.terminate()
                found.append(child)
    _gone, alive = psutil.wait_procs(found, timeout=STOP_GRACE_S)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    return [child.pid for child in found]
