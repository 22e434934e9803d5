"""What the user sees while a sweep runs: a rich progress bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from runner.plan import Step


class SweepProgress:
    """Overall bar with ETA and the current step; one line per finished step when not a terminal."""

    def __init__(self, total_steps: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.total = total_steps
        self.done = 0
        self._progress: Progress | None = None
        self._task = None
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("steps"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )

    def __enter__(self) -> SweepProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("starting", total=self.total)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def target_starting(self, label: str) -> None:
        self._describe(f"starting {label}")

    def step_starting(self, label: str, step: Step) -> None:
        self._describe(f"{label} {step.level_text} rep {step.repetition}")

    def step_finished(self, summary: str) -> None:
        self.done += 1
        self.log(f"[{self.done}/{self.total}] {summary}")
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done)

    def steps_skipped(self, count: int, reason: str) -> None:
        self.done += count
        self.log(f"skipped {count} step(s): {reason}")
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done)

    def log(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def _describe(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text)
