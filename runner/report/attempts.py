"""A resumed run's story: how many attempts measured it and which steps came from which.

The store records when each resume began (`provenance.resumed_at`); every step carries the
start of its measured window (`started_at`), so a step belongs to the last attempt that began
before it.
"""

from __future__ import annotations

import bisect

from runner.analysis import formatting as fmt
from runner.records.results import RunRecord, StepResult


def attempt_of(step: StepResult, resumed_at: list[float]) -> int:
    """1 for the first attempt, 2 for the steps measured after the first resume, and so on."""
    return 1 + bisect.bisect_right(sorted(resumed_at), step.started_at)


def _steps_text(steps: list[StepResult], record: RunRecord) -> str:
    model = record.experiment.load.kind
    by_target: dict[str, list[str]] = {}
    for s in sorted(steps, key=lambda s: s.key):
        by_target.setdefault(s.label, []).append(f"{model.level_text(s.level)} rep {s.repetition}")
    return "; ".join(f"{label}: {', '.join(where)}" for label, where in by_target.items())


def attempts_text(record: RunRecord) -> str | None:
    """None for a run measured in one go; otherwise each attempt, when it began, its steps."""
    resumed = sorted(record.provenance.resumed_at)
    if not resumed:
        return None
    starts = [record.provenance.started_at, *resumed]
    parts = []
    for number, start in enumerate(starts, 1):
        steps = [s for s in record.steps if attempt_of(s, resumed) == number]
        began = "started" if number == 1 else "resumed"
        listing = _steps_text(steps, record) if steps else "no step"
        plural = "" if len(steps) == 1 else "s"
        parts.append(
            f"Attempt {number} ({began} {fmt.timestamp(start)}): {len(steps)} step{plural}, "
            f"{listing}."
        )
    return f"resumed {len(resumed)} time(s), {len(starts)} attempts. " + " ".join(parts)
