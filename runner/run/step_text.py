"""How the sweep names one attempt of a step: its directory (`c20-r1`, a retry `c20-r1-a2`)
and its one line in the live view and the log."""

from __future__ import annotations

from pathlib import Path

from runner.analysis.left_out import invalid_reasons, valid_for_verdicts
from runner.records.results import Failure, StepResult
from runner.run.schedule import Queued


def attempt_dir(run_dir: Path, queued: Queued) -> Path:
    step = queued.step
    name = step.model.step_dir_name(step.level, step.repetition)
    retried = f"-a{queued.attempt}" if queued.attempt > 1 else ""
    return run_dir / "steps" / step.target / f"{name}{retried}"


def one_line(label: str, queued: Queued, entry: StepResult | Failure) -> str:
    step = queued.step
    attempt = f" attempt {queued.attempt}" if queued.attempt > 1 else ""
    where = f"{label} {step.level_text} rep {step.repetition}{attempt}"
    if isinstance(entry, Failure):
        return f"{where}: FAILED: {entry.message}"
    dropped = (
        f" ({entry.dropped_iterations:,} dropped)" if entry.dropped_iterations is not None else ""
    )
    cpu = (
        f"server CPU {entry.cpu_percent.avg:.0f}% of one core"
        if entry.cpu_percent
        else "server CPU not sampled"
    )
    invalid = ""
    if not valid_for_verdicts(entry):
        invalid = f"; INVALID ({', '.join(invalid_reasons(entry)) or 'invalid'})"
    return (
        f"{where}: {entry.rps:,.0f} RPS{dropped}, p99 {entry.latency_ms.p99:.1f} ms, "
        f"errors {entry.error_rate:.2%}, {cpu}{invalid}"
    )
