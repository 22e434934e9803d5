"""A run directory exists only once a run has started.

Hydra makes the job's directory, with its config copies (`.hydra/`) and its log, before our code
runs. When the job then starts no run (bad input, a dry run, a stop before the first step), what
Hydra wrote is removed, and so is every directory Hydra made for it that is left empty: after a
week of refused commands `outputs/<experiment>/` still holds only real runs. A directory that
existed before the command (`hydra.run.dir=` an existing one) is kept, and so is anything in it
that Hydra did not write.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from runner.records.run_files import RUN_FILE

# Run directory -> its nearest ancestor (or itself) that existed before Hydra made anything,
# noted by the run callback (runner.run.callbacks.RunDirCallback.on_run_start).
_EXISTING_ANCESTOR: dict[Path, Path] = {}


def note_before_hydra(run_dir: Path) -> None:
    """Remember which part of `run_dir`'s path exists before Hydra creates the rest."""
    run_dir = run_dir.resolve()
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    _EXISTING_ANCESTOR[run_dir] = existing


def started(run_dir: Path) -> bool:
    """A run has started in `run_dir` (it is recorded there), now or by an earlier command."""
    return (run_dir / RUN_FILE).is_file()


def discard_unstarted(run_dir: Path, hydra_subdir: str | None, job_name: str) -> None:
    """Remove Hydra's files from a run directory where no run started, then the empty dirs."""
    run_dir = run_dir.resolve()
    if started(run_dir):
        return
    with contextlib.suppress(OSError):  # best effort: a refused run must not fail on its way out
        if hydra_subdir:
            shutil.rmtree(run_dir / hydra_subdir, ignore_errors=True)
        (run_dir / f"{job_name}.log").unlink(missing_ok=True)
        keep = _EXISTING_ANCESTOR.get(run_dir, run_dir.parent)
        directory = run_dir
        while directory != keep and directory.is_relative_to(keep) and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent
