"""The launching command's view of jobs that submitit runs on SLURM (docs/cluster.md).

Two things submitit does not do well enough for a console a person reads:

- It asks `sacct` for the jobs' states at every poll (every few seconds, then every minute),
  and where SLURM's accounting is off (no slurmdbd: `AccountingStorageType=
  accounting_storage/none`, common on small clusters and on a test cluster) each poll fails
  and logs a warning of three lines. The jobs are still followed: submitit sees a job end by
  its result file. `quiet_sacct_polls` says it once, in one line, and drops the repeats.
- A job that left no result (cancelled and killed before it could stop cleanly, or its node
  lost) makes submitit raise in the launching process, and Hydra's sweep ends there, before
  the matrix report. `lost_job` recognises that error, so the command can report it in one
  paragraph, count the job as failed and still write the matrix report from what the jobs
  stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

SUBMITIT_LOGGER = "submitit"
SACCT_FAILED = "Bypassing sacct error"
SACCT_SAID_ONCE = (
    "sacct failed (is SLURM's accounting off on this cluster?): the jobs are followed by "
    "their result files instead; said once (docs/cluster.md)."
)
# submitit's error for a job that ended without its result (UncompletedJobError and its
# subclass FailedJobError), recognised by name: submitit is an optional dependency.
LOST_JOB_ERRORS = frozenset({"UncompletedJobError", "FailedJobError"})

_sweep_dir: list[Path] = []


class SacctOnce(logging.Filter):
    """Drops submitit's warning about a failed sacct poll (three lines through its two handlers
    and Hydra's), and says it once, in one line, through `say`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self.say = say
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if SACCT_FAILED not in record.getMessage():
            return True
        if not self.said:
            self.said = True
            self.say(SACCT_SAID_ONCE)
        return False


def quiet_sacct_polls(say: Callable[[str], None]) -> None:
    """Install the filter on submitit's logger (before Hydra starts the launcher; once)."""
    logger = logging.getLogger(SUBMITIT_LOGGER)
    if not any(isinstance(f, SacctOnce) for f in logger.filters):
        logger.addFilter(SacctOnce(say))


def lost_job(error: BaseException) -> bool:
    """True for submitit's error about a job that ended without leaving its result."""
    return any(
        kind.__module__.startswith(SUBMITIT_LOGGER) and kind.__name__ in LOST_JOB_ERRORS
        for kind in type(error).__mro__
    )


def lost_job_text(error: BaseException) -> str:
    """One paragraph: which job, and what submitit knew of it (its first line)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"A job of the matrix ended without leaving its result ({first}). SLURM cancelled it, "
        "its time ran out or its node was lost before it could stop cleanly; it counts as "
        "failed. Its log is in the sweep directory's .submitit/; the steps it stored are kept, "
        "and `python -m runner.report SWEEP_DIR` writes every report again."
    )


def note_sweep(sweep_dir: Path) -> None:
    """The multirun's sweep directory, for the matrix report after a lost job."""
    _sweep_dir[:] = [sweep_dir]


def noted_sweep() -> Path | None:
    return _sweep_dir[0] if _sweep_dir else None
