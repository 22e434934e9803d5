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
        from runner.run.multirun import clear_statuses

        clear_statuses(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from runner.report.matrix import MatrixReportCallback as MatrixReport
        from runner.run.multirun import collect_statuses

        # Jobs that ran in other processes or on other hosts have stored their statuses.
        collect_statuses(Path(config.hydra.sweep.dir))
        MatrixReport().on_multirun_end(config, **kwargs)


class RunDirCallback(Callback):
    """config.yaml's callback that notes what of the run directory's path exists before Hydra
    makes it, so a job that starts no run can remove exactly what Hydra made (runner.run.directories)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from runner.run.directories import note_before_hydra

        with contextlib.suppress(OmegaConfBaseException):  # Hydra reports a bad run.dir itself
            note_before_hydra(Path(str(config.hydra.run.dir)))
