"""The steal a capacity trial is judged against (runner.capacity.steal): on this VM the
hypervisor takes 2-7% of a busy core for minutes while an idle one shows under 1%."""

from __future__ import annotations

from runner.capacity.steal import MOST_STEAL_FLOOR, recent_steal, steal_of, trial_steal_floor
from runner.measure.validity import Validity
from runner.records.results import StepResult
from tests.factories import step


def stolen(server: float, client: float) -> StepResult:
    measured = {"server_interference": 0.01, "server_steal": server, "client_steal": client}
    return step("a", 200, 200.0).model_copy(
        update={"validity": Validity(valid=True, reasons=[], measured=measured)}
    )


def test_a_trials_steal_is_its_worst_role() -> None:
    assert steal_of(stolen(0.02, 0.068)) == 0.068
    assert steal_of(step("a", 200, 200.0)) is None  # not judged: nothing measured


def test_the_floor_follows_the_last_three_trials_and_never_drops_below_idle() -> None:
    spell = [stolen(s, s) for s in (0.068, 0.044, 0.030, 0.050)]
    assert recent_steal(spell) == 0.044  # median of the last three
    floor = trial_steal_floor({0: 0.005, 1: 0.0}, spell, [0, 1])
    assert floor == {0: 0.044, 1: 0.044}
    quiet = trial_steal_floor({0: 0.005, 1: 0.0}, [], [0, 1])
    assert quiet == {0: 0.005, 1: 0.0}  # the first trial: the run's idle floor


def test_a_machine_stolen_beyond_the_cap_keeps_its_trials_invalid() -> None:
    contended = [stolen(0.30, 0.25)] * 3
    assert recent_steal(contended) == MOST_STEAL_FLOOR
