"""A multirun's jobs in other processes or on other hosts (Hydra launchers such as submitit).

Hydra's basic launcher runs each job in the launching process, which then knows every job's
exit status. A launcher that runs jobs elsewhere (hydra/launcher=submitit_local, submitit_slurm)
gives the launching process nothing back but the jobs' files, so each such job writes its exit
status into the sweep directory (shared by every host, docs/cluster.md), and the launching
process reads them when the multirun ends: its exit status is still the worst job's.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

# Names the launching process (host and pid); a job that sees another value runs elsewhere.
LAUNCHER_ENV = "SWEEPBENCH_LAUNCHER"
# In the sweep directory: one file per job, named by its number, holding its exit status.
STATUS_DIR = ".job_status"


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
