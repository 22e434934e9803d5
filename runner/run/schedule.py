"""The sweep's queue: the plan's steps in order, and disturbed steps measured again later.

A step judged invalid for a passing cause (PASSING_CAUSES: the machine was busy with other
work, or the hypervisor stole its cores), whatever else its verdict says, is queued again, up to `retry.max_attempts` attempts,
while the run's retries stay within `retry.budget`. The retry goes after the rest of its turn
(the same repetition, or the same target in a sequential order) and no sooner than
`retry.delay` after the disturbed attempt, so a disturbance lasting a minute does not take every
attempt of the step. A step invalid only for causes that will not pass by themselves
(client-bound, inconsistent load, an unexplained ceiling) is not measured again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from runner.analysis.left_out import disturbed
from runner.config.experiment import Retry
from runner.measure.validity.facts import PASSING_CAUSES
from runner.records.results import Failure, StepKey, StepResult
from runner.run.plan import STEP_OVERHEAD_S, Plan, Step


@dataclass(frozen=True)
class Queued:
    """A step waiting in the queue: its attempt (1-based) and when it may run (monotonic s)."""

    step: Step
    attempt: int = 1
    not_before: float = 0.0


NOT_SHARES = frozenset({"limit", "floor", "core"})


def disturbance_text(entry: StepResult) -> str:
    """'steal 4%': the passing causes that invalidated the step, each with its worst figure."""
    parts = []
    for reason in entry.validity.reasons if entry.validity else []:
        if reason.invalidates and reason.code in PASSING_CAUSES:
            # The shares measured, not the limit, the floor or the core's number.
            shares = [v for name, v in reason.figures.items() if name not in NOT_SHARES]
            worst = f" {max(shares):.0%}" if shares else ""
            parts.append(f"{reason.code}{worst}")
    return ", ".join(dict.fromkeys(parts))


def finished_keys(kept: Iterable[StepResult], retry: Retry) -> set[StepKey]:
    """Keys a resumed run need not measure again: one attempt valid, or no retry due (a cause
    that does not pass, or its attempts used)."""
    last: dict[StepKey, StepResult] = {}
    valid: set[StepKey] = set()
    for step in kept:
        if step.validity is None or step.validity.valid:
            valid.add(step.key)
        if step.key not in last or step.attempt > last[step.key].attempt:
            last[step.key] = step
    spent = {
        key
        for key, step in last.items()
        if not disturbed(step) or step.attempt >= retry.max_attempts
    }
    return valid | spent


class Schedule:
    """The steps still to run, in order; `take` the next due one, report it `finished`."""

    def __init__(
        self,
        plan: Plan,
        retry: Retry,
        kept: Sequence[StepResult] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.retry = retry
        self.clock = clock
        self.retry_seconds = 0.0  # spent on retries so far
        tried: dict[StepKey, int] = {}
        for step in kept:
            tried[step.key] = max(tried.get(step.key, 0), step.attempt)
        done = finished_keys(kept, retry)
        self.pending = [
            Queued(step, tried.get(step.key, 0) + 1) for step in plan.steps if step.key not in done
        ]

    def take(self) -> tuple[Queued, float] | None:
        """The first due step and the seconds to wait for it (0 when due); None when done.
        A retry not yet due lets the steps behind it go first."""
        if not self.pending:
            return None
        now = self.clock()
        due = next((q for q in self.pending if q.not_before <= now), None)
        chosen = due or min(self.pending, key=lambda q: q.not_before)
        self.pending.remove(chosen)
        return chosen, max(chosen.not_before - now, 0.0)

    def finished(
        self, queued: Queued, entry: StepResult | Failure, seconds: float
    ) -> tuple[Queued | None, str]:
        """The retry queued for a disturbed step, or None and why not ('' when none was due)."""
        if queued.attempt > 1:
            self.retry_seconds += seconds
        if not isinstance(entry, StepResult) or not disturbed(entry):
            return None, ""
        if queued.attempt >= self.retry.max_attempts:
            return None, f"its {self.retry.max_attempts} attempts (retry.max_attempts) are used"
        estimate = self.plan.seconds_per_step + STEP_OVERHEAD_S
        if self.retry_seconds + estimate > self.retry.budget_s:
            spent = f"{self.retry_seconds:.0f} s of {self.retry.budget}"
            return None, f"the run's retry budget is spent ({spent}, retry.budget)"
        retry = Queued(queued.step, queued.attempt + 1, self.clock() + self.retry.delay_s)
        self.pending.insert(self._after_turn(queued.step), retry)
        return retry, ""

    def _after_turn(self, step: Step) -> int:
        """The position after the last pending step of the step's turn (0: none is pending)."""
        positions = [i for i, q in enumerate(self.pending) if self.plan.same_turn(q.step, step)]
        return positions[-1] + 1 if positions else 0

    def drop(self, unwanted: Callable[[Step], bool]) -> list[Step]:
        """Remove the pending steps `unwanted` picks; returns them."""
        dropped = [q.step for q in self.pending if unwanted(q.step)]
        self.pending = [q for q in self.pending if not unwanted(q.step)]
        return dropped

    def pending_for(self, target: str) -> list[Step]:
        return [q.step for q in self.pending if q.step.target == target]

    def round_pending(self, repetition: int) -> bool:
        return any(q.step.repetition == repetition for q in self.pending)
