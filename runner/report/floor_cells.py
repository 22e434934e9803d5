"""How the reports show a floor (runner.analysis.floors): '≥ 10,118 (k6's limit)' where a
level's steps were client-bound only, and the note that says what that means and what would
lift the limit."""

from __future__ import annotations

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.analysis.floors import FLOOR_REASON, LIFT_LIMIT

# A floor's latency cell: the latency there is k6's, not the server's.
NOT_THE_SERVERS = FLOOR_REASON


def floor_figure(value: float) -> str:
    """'≥ 10,118 (k6's limit)'."""
    return f"≥ {fmt.rps(value)} ({FLOOR_REASON})"


def absent_cells(analysis: Analysis, target: str, level: int) -> list[str]:
    """A Summary row's cells for a target without a valid cell at `level`: its floor, or why
    nothing is shown ('no valid step', 'n/a': not measured)."""
    width = 4 if analysis.model.fixed_rate else 3
    floor = analysis.floor(target, level)
    if floor is None:
        absent = "no valid step" if (target, level) in analysis.measured else "n/a"
        return [absent] * width
    cells = [floor_figure(floor.rps.median), NOT_THE_SERVERS, fmt.percent(floor.error_rate)]
    if analysis.model.fixed_rate:
        dropped = floor.dropped_iterations
        cells.append("n/a" if dropped is None else fmt.count(dropped))
    return cells


def floor_note(analysis: Analysis) -> str:
    """What '≥ N' means and what would lift the limit; '' when the run has no floor."""
    if not analysis.floors:
        return ""
    return (
        f" ≥ N ({FLOOR_REASON}): every step there was client-bound (k6, not the server, was "
        "the limit; Step validity gives each reason), so the server served at least N: a floor, "
        f"ranked as one, with no latency of the server's. To measure past it, {LIFT_LIMIT}."
    )
