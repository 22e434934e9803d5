"""What the user sees while a sweep runs.

On a terminal: a rich live view with the sweep's bar and ETA, the current step's bar, and live
numbers (k6 throughput, p95, errors; server and k6 CPU and memory from the sampler). Elsewhere
(CI logs, pipes): one plain line per finished step. Both end with a summary table. Output goes
to stderr, so it never mixes with Hydra's logging on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from runner.analysis import formatting as fmt
from runner.analysis.floors import FLOOR_REASON, is_floor_step
from runner.analysis.left_out import invalid_reasons
from runner.config.experiment.experiment import used_hosts
from runner.config.experiment.servers import SERVER_SETTINGS
from runner.records.redact import redact_text
from runner.records.results import Failure, StepResult
from runner.remote.describe import plan_hosts
from runner.run import database
from runner.run.plan import Plan, Step
from runner.run.terminal import make_console

if TYPE_CHECKING:
    from runner.measure.k6.live import LiveView


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class SweepProgress:
    """Progress of one run's plan; `live` receives the running step's numbers."""

    def __init__(
        self, plan: Plan, console: Console | None = None, kept: Sequence[StepResult] = ()
    ) -> None:
        """`kept`: the steps a resumed run measured before, listed in the closing table too."""
        self.console = console or make_console()
        self.plan = plan
        self.remaining = list(plan.steps)
        self.total = len(plan.steps)  # grows with each retry, shrinks as settled levels stop
        self.kept = len(kept)
        self.results: list[StepResult] = list(kept)
        self.started = time.monotonic()
        self.step_started = time.monotonic()
        self.live_text = Text("")
        self._live: Live | None = None
        self._overall = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            console=self.console,
        )
        self._step = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[phase]}"),
            console=self.console,
        )
        self._overall_task: TaskID = self._overall.add_task("sweep", total=len(plan.steps), eta="")
        self._step_task: TaskID = self._step.add_task(
            "starting", total=plan.seconds_per_step, phase=""
        )

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal

    def __enter__(self) -> SweepProgress:
        if self.interactive:
            self._live = Live(
                Group(self._overall, self._step, self.live_text),
                console=self.console,
                refresh_per_second=4,
                transient=False,
            )
            self._live.start()
            self._refresh_eta()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            # The sweep's bar stays; the step's bar and its live numbers end with the last step.
            self._live.update(self._overall, refresh=True)
            self._live.stop()
        if self.results:
            self.console.print(self.summary_table())

    # --- events from the sweep -------------------------------------------------------------

    def target_starting(self, label: str) -> None:
        self._step.update(
            self._step_task, description=f"starting {escape(label)}", completed=0, phase=""
        )

    def step_starting(self, label: str, step: Step) -> None:
        self.step_started = time.monotonic()
        self.live_text.plain = ""
        self._step.update(
            self._step_task,
            description=f"{escape(label)} {step.level_text}, rep {step.repetition}",
            completed=0,
            phase="warmup" if self.plan.experiment.load.warmup_s > 0 else "measuring",
        )
        self._refresh_eta()

    def live(self, view: LiveView) -> None:
        elapsed = time.monotonic() - self.step_started
        phase = "measuring" if view.k6 is not None and view.k6.measuring else "warmup"
        self._step.update(
            self._step_task, completed=min(elapsed, self.plan.seconds_per_step), phase=phase
        )
        self.live_text.plain = live_line(view)
        self._refresh_eta()

    def step_finished(self, line: str, entry: StepResult | Failure) -> None:
        # Its live numbers and phase end with it (the server may take a moment to stop next).
        self.live_text.plain = ""
        self._step.update(self._step_task, phase="stored")
        self._drop(entry.target, entry.level, entry.repetition)
        if isinstance(entry, StepResult):
            self.results.append(entry)
        self._advance()
        self.log(f"[{self.total - len(self.remaining)}/{self.total}] {line}")

    def steps_skipped(self, steps: list[Step], reason: str) -> None:
        """`steps` will not run; with an interleaved order they are not the next ones."""
        self.log(f"skipped {len(steps)} step(s): {reason}")
        skipped = {step.key for step in steps}
        self.remaining = [step for step in self.remaining if step.key not in skipped]
        self._advance()

    def retry_queued(self, step: Step, line: str) -> None:
        """A disturbed step will be measured again: one more step to go."""
        self.remaining.append(step)
        self.total += 1
        self._overall.update(self._overall_task, total=self.total)
        self.log(line)
        self._advance()

    def steps_dropped(self, steps: list[Step], reason: str) -> None:
        """`steps` are no longer needed (a settled level's later rounds): fewer steps to go."""
        self.log(f"{reason} ({len(steps)} step(s) dropped)")
        for step in steps:
            self._drop(step.target, step.level, step.repetition)
        self.total -= len(steps)
        self._overall.update(self._overall_task, total=self.total)
        self._advance()

    def log(self, message: str) -> None:
        self.console.print(redact_text(message), markup=False, highlight=False, soft_wrap=True)

    # --- rendering -------------------------------------------------------------------------

    def _drop(self, target: str, level: int | None, repetition: int | None) -> None:
        """One of the step's entries: a retried step is in the list once per attempt to go."""
        for index, step in enumerate(self.remaining):
            if step.key == (target, level, repetition):
                del self.remaining[index]
                return

    def _advance(self) -> None:
        self._overall.update(self._overall_task, completed=self.total - len(self.remaining))
        self._refresh_eta()

    def _refresh_eta(self) -> None:
        if not self.remaining:
            self._overall.update(self._overall_task, eta="done")
            return
        left = Plan(self.plan.experiment, tuple(self.remaining)).estimated_seconds()
        left -= min(time.monotonic() - self.step_started, self.plan.seconds_per_step)
        self._overall.update(self._overall_task, eta=f"ETA {_duration(max(left, 0))}")

    def summary_table(self) -> Table:
        kept = f" ({self.kept} kept from the interrupted run)" if self.kept else ""
        table = Table(title=f"Measured steps: {len(self.results)}{kept}")
        for column in (
            "target",
            "level",
            "rep",
            "RPS",
            "p95 ms",
            "p99 ms",
            "errors",
            "server CPU",
            "memory",
            "valid",
        ):
            table.add_column(column, justify="left" if column in ("target", "valid") else "right")
        for s in self.results:
            table.add_row(
                escape(s.label),
                str(s.level),
                fmt.repetition(s.repetition, s.attempt),
                ("≥ " if is_floor_step(s) else "") + f"{s.rps:,.0f}",
                f"{s.latency_ms.p95:.2f}",
                f"{s.latency_ms.p99:.2f}",
                f"{s.error_rate:.2%}",
                f"{s.cpu_percent.avg:.0f}% of one core" if s.cpu_percent else "not sampled",
                f"{s.memory_mib.max:.0f} MiB" if s.memory_mib else "not sampled",
                validity_mark(s),
            )
        return table


def validity_mark(step: StepResult) -> str:
    """As the report marks a step: 'yes', 'floor (k6's limit)', or 'no (interference)'."""
    if is_floor_step(step):
        return f"floor ({FLOOR_REASON})"
    if step.validity is None or step.validity.valid:
        return "yes"
    return f"no ({', '.join(invalid_reasons(step))})"


def live_line(view: LiveView) -> str:
    parts = []
    if view.k6 is not None:
        rps = "... RPS" if view.k6.rps is None else f"{view.k6.rps:,.0f} RPS"
        parts.append(f"live: {rps}, p95 {view.k6.p95_ms:.2f} ms, errors {view.k6.error_rate:.2%}")
    if view.server is not None:
        memory = f", {view.server.rss_mib:.0f} MiB" if view.server.rss_mib is not None else ""
        parts.append(f"server {view.server.cpu_percent:.0f}% of one core{memory}")
    if view.client is not None:
        parts.append(f"k6 {view.client.cpu_percent:.0f}% of one core")
    return " | ".join(parts)


def plan_table(plan: Plan) -> Table:
    """The targets and their settings, as a dry run shows them."""
    experiment = plan.experiment
    table = Table(title=f"Plan of experiment '{experiment.name}'")
    for column in ("target", "app or url", "server", "workers", "settings", "steps"):
        table.add_column(column)
    for name, target in experiment.targets.items():
        settings = [f"{key}={getattr(target, key)}" for key in SERVER_SETTINGS]
        table.add_row(
            escape(experiment.label(name)),
            target.app or redact_text(target.url or ""),
            target.server or "already running",
            str(target.workers) if target.server else "-",
            ", ".join(s for s in settings if not s.endswith("=None")) or "-",
            str(len(plan.for_target(name))),
        )
    return table


def print_plan(console: Console, plan: Plan) -> None:
    experiment = plan.experiment
    load = experiment.load
    console.print(plan_table(plan))
    levels = ", ".join(str(v) for v in experiment.levels())
    console.print(
        f"Levels ({experiment.load.kind.unit}): {levels}; repetitions: {experiment.repetitions}; "
        f"{load.warmup} warmup + {load.duration} measured per step; scenario "
        f"{experiment.scenario.name}: {experiment.scenario.describe()}.",
        highlight=False,
    )
    stored = (
        f"{experiment.database.engine}, prepared before the first target"
        if database.needed(experiment)
        else "none (the scenario does not read it)"
    )
    console.print(f"Database: {stored}.", highlight=False)
    if used_hosts(experiment):
        console.print(f"Hosts: {plan_hosts(experiment)}.", highlight=False)
    console.print(
        f"{len(plan.steps)} step(s), estimated duration {_duration(plan.estimated_seconds())} "
        "(steps plus k6 and server start-up). Dry run: nothing was started.",
        highlight=False,
    )
