"""What the step rules named as the server's own limit, for the verdicts and findings.

Open model: a cell whose steps could not hold the offered rate (the step rule `rate_not_held`)
is where the target broke; it may not win on latency against a target that held the rate. Any
model: a valid step whose ceiling the server's concurrency explains (`explained_ceiling`) says
what limited it, and the Analysis says so beside the figures.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell
from runner.analysis.left_out import valid_for_verdicts
from runner.records.results import RunRecord, StepResult

# The step reasons (runner.measure.validity) that name the server's limit on a valid step.
LIMIT_CODES = ("explained_ceiling", "rate_not_held")


def could_not_hold_text(cell: Cell) -> str:
    """'could not hold the rate: achieved 1,510 of 2,000 RPS, p99 1,900.0 ms' (medians)."""
    return (
        f"could not hold the rate: achieved {fmt.rps(cell.rps.median)} of "
        f"{fmt.rps(cell.level)} RPS, p99 {fmt.ms(cell.p99.median)} ms"
    )


def split_by_held_rate(cells: Iterable[Cell]) -> tuple[list[Cell], list[Cell]]:
    """The cells that held their rate, and those that could not (open model)."""
    cells = list(cells)
    return [c for c in cells if not c.rate_not_held], [c for c in cells if c.rate_not_held]


def not_held_note(broke: list[Cell]) -> str:
    """'Django ASGI (uvicorn) could not hold the rate: achieved ...' for each such cell."""
    return "; ".join(f"{c.label} {could_not_hold_text(c)}" for c in broke)


def limit_findings(record: RunRecord) -> list[str]:
    """One sentence per target and level whose valid steps name what limited the server (the
    first repetition's words, and how many repetitions named it)."""
    unit = record.experiment.load.kind.unit
    named: dict[tuple[str, int], list[tuple[StepResult, str]]] = {}
    for step in record.steps:
        for text in _limits(step):
            named.setdefault((step.label, step.level), []).append((step, text))
    sentences = []
    for (label, level), found in named.items():
        first, text = found[0]
        repetitions = len({step.repetition for step, _ in found})
        where = f"rep {first.repetition}" if repetitions == 1 else f"{repetitions} repetitions"
        sentences.append(f"{label} at {fmt.count(level)} {unit} ({where}): {text}.")
    return sentences


def _limits(step: StepResult) -> list[str]:
    if step.validity is None or not valid_for_verdicts(step):
        return []
    return [r.text for r in step.validity.reasons if r.code in LIMIT_CODES]
