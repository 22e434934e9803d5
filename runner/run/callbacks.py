"""The Hydra callbacks experiments/config.yaml names: the run directory's state before Hydra
makes it, and the matrix report after a multirun."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

__all__ = ["MatrixReportCallback", "RunDirCallback"]


class MatrixReportCallback(Callback):
    """config.yaml's multirun callback. Hydra instantiates callbacks for every run, single runs
    and runs refused for bad input too; the matrix report (scipy, plotly: a second to import)
    loads only when a multirun has ended."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # A sweep directory used again: the statuses of its earlier jobs are not this sweep's.
        from runner.run.cluster_jobs import note_sweep
        from runner.run.multirun import clear_statuses

        clear_statuses(Path(config.hydra.sweep.dir))
        note_sweep(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        end_of_multirun(Path(config.hydra.sweep.dir))


def end_of_multirun(sweep_dir: Path) -> None:
    """The statuses the jobs stored (those that ran elsewhere), then the matrix report; also
    after a job lost on a cluster ended Hydra's sweep early (runner.run.cluster_jobs)."""
    from runner.report.matrix import write_matrix_report
    from runner.run.multirun import collect_statuses

    collect_statuses(sweep_dir)
    if sweep_dir.is_dir():
        for path in write_matrix_report(sweep_dir):
            print(f"matrix report: {path}")


class RunDirCallback(Callback):
    """config.yaml's callback that notes what of the run directory's path exists before Hydra
    makes it, so a job that starts no run can remove exactly what Hydra made (runner.run.directories)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from runner.run.directories import note_before_hydra

        with contextlib.suppress(OmegaConfBaseException):  # Hydra reports a bad run.dir itself
            note_before_hydra(Path(str(config.hydra.run.dir)))
