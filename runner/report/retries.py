"""The report's account of how the sweep spent its time: steps measured again after a
disturbance (`retry:`) and, under `repetitions: auto`, each level's rounds and why it stopped.
Read from the stored steps and `provenance.rounds` only."""

from __future__ import annotations

from collections import defaultdict

from runner.analysis import formatting as fmt
from runner.analysis.left_out import (
    describe_step,
    disturbed,
    one_attempt_per_key,
    valid_for_verdicts,
)
from runner.measure.validity.facts import PASSING_CAUSES
from runner.records.results import RunRecord, StepKey, StepResult
from runner.report.tables import CellValue, Table

ROUNDS_HEADER = ["Rounds", "Stopped because"]
# How each stored reason for stopping reads in the table.
STOPPED_WORDS = {
    "lead": "settled: a significant lead",
    "equivalent": "settled: equivalent",
    "one target": "one target: nothing to decide",
    "max rounds": "the most rounds (auto_repetitions.max)",
    "budget": "the time budget (auto_repetitions.budget)",
    "interrupted": "the run ended first",
}


def retries_text(record: RunRecord) -> str:
    """'2 steps needed a retry (3 attempts in all); 1 was valid on a later attempt; 1 stayed
    invalid: ...'; '' when no step was retried (runs before retries, `retry.max_attempts: 1`:
    the verdicts already name the invalid steps they left out)."""
    attempts: dict[StepKey, list[StepResult]] = defaultdict(list)
    for step in record.steps:
        attempts[step.key].append(step)
    retried = {key: tried for key, tried in attempts.items() if len(tried) > 1}
    stayed = [s for s in one_attempt_per_key(record.steps) if disturbed(s)]
    if not retried:
        return ""
    model = record.experiment.load.kind
    recovered = sum(any(valid_for_verdicts(s) for s in tried) for tried in retried.values())
    retry = record.experiment.retry
    causes = ", ".join(sorted(PASSING_CAUSES))
    parts = [
        f"Retries: {_steps(len(retried))} disturbed by passing causes ({causes}) "
        f"needed a retry ({fmt.count(sum(map(len, retried.values())))} attempts in all; at most "
        f"{retry.max_attempts} per step, {retry.budget} of retries per run); "
        f"{fmt.count(recovered)} valid on a later attempt"
    ]
    if stayed:
        listing = ", ".join(
            f"{describe_step(s, model)} after {_attempts(len(attempts[s.key]))}"
            for s in sorted(stayed, key=lambda s: s.key)
        )
        parts.append(f"{_steps(len(stayed))} stayed invalid: {listing}")
    else:
        parts.append("none stayed invalid")
    return "; ".join(parts) + ". Every attempt is in the step tables; cells use the valid one."


def rounds_rows(record: RunRecord) -> list[list[CellValue]]:
    """Per level of a `repetitions: auto` run: its level, rounds and why it stopped."""
    rows: list[list[CellValue]] = []
    for stop in record.provenance.rounds:
        why = STOPPED_WORDS[stop.stopped]
        if stop.text != stop.stopped:
            why += f" ({stop.text})"
        rows.append([fmt.count(stop.level), fmt.count(stop.rounds), why])
    return rows


def rounds_table(record: RunRecord, level_name: str) -> Table | None:
    """The Rounds table of a `repetitions: auto` run; None for any other run."""
    rows = rounds_rows(record)
    return Table([level_name, *ROUNDS_HEADER], rows) if rows else None


def rounds_note(record: RunRecord) -> str:
    auto = record.experiment.auto_repetitions
    return (
        f"Repetitions: auto. Each round measured every target at each open level in a fresh "
        f"order; from round {auto.min} on, a level stopped once its best target's lead over the "
        f"runner-up was significant (the Winner rule), or the interval of their ratio lay within "
        f"±{fmt.setting_percent(auto.margin)}, or at {auto.max} rounds, or when the next round "
        f"would not have ended within {auto.budget}."
    )


def _steps(count: int) -> str:
    return f"{fmt.count(count)} step{'s' if count != 1 else ''}"


def _attempts(count: int) -> str:
    return f"{fmt.count(count)} attempt{'s' if count != 1 else ''}"
