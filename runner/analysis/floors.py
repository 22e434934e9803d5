"""Floors: what a client-bound step still says about the server.

A step invalid only because it was client-bound (k6, not the server, was the limit: the
validity's client-bound rule, and no other invalidating reason) measured the load generator.
Its throughput is not the server's, but the server did serve it: the server's throughput is at
least that, a floor (censored data). Such a cell is kept apart from the cells of valid steps:
its throughput may rank targets (runner.analysis.verdicts) and is shown as "≥ N" with its
reason, but no latency, efficiency, knee or breaking point is drawn from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell, make_cell
from runner.records.results import StepResult

# How a floor reads beside its figure: what limited the step.
FLOOR_REASON = "k6's limit"
# What would lift it, for the report (the keys are the experiment's).
LIFT_LIMIT = (
    "run k6 on another host (`load.k6_host`, docs/remote.md) or give it more cores "
    "(`pinning.client_cpus`, or `load.k6_instances` to split a step's load over them)"
)


def is_floor_step(step: StepResult) -> bool:
    """Invalid only because client-bound: its throughput is a floor for the server's."""
    if step.validity is None or step.validity.valid:
        return False
    codes = {reason.code for reason in step.validity.reasons if reason.invalidates}
    return codes == {"client_bound"}


def _reason(steps: list[StepResult]) -> str:
    """The client-bound reason of the first step, as its validity states it."""
    for step in steps:
        for reason in step.validity.reasons if step.validity else []:
            if reason.code == "client_bound":
                return reason.text
    return FLOOR_REASON


def floor_cells(
    steps: list[StepResult], cells: dict[tuple[str, int], Cell], confidence: float
) -> dict[tuple[str, int], Cell]:
    """(target, level) -> a floor cell, where no valid step gives a cell but floor steps do."""
    grouped: dict[tuple[str, int], list[StepResult]] = {}
    for step in filter(is_floor_step, steps):
        if (step.target, step.level) not in cells:
            grouped.setdefault((step.target, step.level), []).append(step)
    return {
        key: replace(make_cell(found, confidence), floor=True, floor_reason=_reason(found))
        for key, found in grouped.items()
    }


def floor_text(cell: Cell) -> str:
    """'FastAPI ≥ 10,118 RPS (k6's limit)'."""
    return f"{cell.label} ≥ {fmt.rps(cell.ok_rps.median)} RPS ({FLOOR_REASON})"


def figure_text(cell: Cell) -> str:
    """A cell's successful throughput in a verdict: 'Django 11,000 RPS' or a floor."""
    return floor_text(cell) if cell.floor else f"{cell.label} {fmt.rps(cell.ok_rps.median)} RPS"


def floor_findings(floors: dict[tuple[str, int], Cell], unit: str) -> list[str]:
    """One sentence naming the floors and what would lift the limit; [] without floors."""
    if not floors:
        return []
    where = ", ".join(
        f"{cell.label} at {fmt.count(cell.level)} {unit} (≥ {fmt.rps(cell.ok_rps.median)} RPS)"
        for cell in sorted(floors.values(), key=lambda c: (c.label, c.level))
    )
    return [
        f"k6 was the limit, not the server, in {where}: those figures are floors (the server "
        "served at least that), ranked as such but not used for latency, efficiency, knees or "
        f"breaking points. To measure the server there, {LIFT_LIMIT}."
    ]


def exceeding_floors(
    figure: float, target: str, floors: Mapping[tuple[str, int], Cell]
) -> list[Cell]:
    """Other targets' floors above `figure`: no target with that figure ranks above them."""
    return [c for c in floors.values() if c.target != target and c.ok_rps.median > figure]
