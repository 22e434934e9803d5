"""The steal a sweep step or a capacity trial is judged against (runner.measure.recent_steal): on
this VM the hypervisor takes 2-7% of a busy core for minutes while an idle one shows under 1%."""

from __future__ import annotations

import dataclasses
import time

from runner.measure.cpu_accounting import CoreUsage, Interference
from runner.measure.judging import Judging, judged
from runner.measure.k6 import K6Metrics
from runner.measure.recent_steal import MOST_STEAL_FLOOR, recent_floor, recent_steal, steal_of
from runner.measure.validity import StepFacts, Validity, ValiditySettings, judge_step
from runner.records.results import StepResult
from runner.run.plan import Step
from runner.run.sweep import _with_previous, _with_recent_steal
from tests.factories import step


def stolen(server: float, client: float) -> StepResult:
    measured = {"server_interference": 0.01, "server_steal": server, "client_steal": client}
    return step("a", 200, 200.0, started_at=time.time() - 30).model_copy(
        update={"validity": Validity(valid=True, reasons=[], measured=measured)}
    )


def test_a_trials_steal_is_its_worst_role() -> None:
    assert steal_of(stolen(0.02, 0.068)) == 0.068
    assert steal_of(step("a", 200, 200.0)) is None  # not judged: nothing measured


def test_the_floor_follows_the_last_three_trials_and_never_drops_below_idle() -> None:
    spell = [stolen(s, s) for s in (0.068, 0.044, 0.030, 0.050)]
    assert recent_steal(spell) == 0.044  # median of the last three
    floor = recent_floor({0: 0.005, 1: 0.0}, spell, [0, 1])
    assert floor == {0: 0.044, 1: 0.044}
    quiet = recent_floor({0: 0.005, 1: 0.0}, [], [0, 1])
    assert quiet == {0: 0.005, 1: 0.0}  # the first trial: the run's idle floor


def test_the_floor_rises_only_once_three_recent_steps_met_the_steal() -> None:
    spell = [stolen(0.06, 0.06)] * 3
    assert recent_steal(spell[:2]) == 0.0  # one or two disturbed steps do not raise it
    assert recent_steal(spell) == 0.06
    # A resumed run's kept steps, measured an hour ago, say nothing of the machine now.
    assert recent_steal(spell, now=time.time() + 3_600) == 0.0
    unmeasured = [step("a", 200, 200.0, started_at=time.time())] * 3  # no validity figures
    assert recent_steal([*spell[:2], *unmeasured]) == 0.0


def test_a_machine_stolen_beyond_the_cap_keeps_its_trials_invalid() -> None:
    contended = [stolen(0.30, 0.25)] * 3
    assert recent_steal(contended) == MOST_STEAL_FLOOR


# A step's facts in a spell: 5.5% of k6's core 1, 0.4% of the server's core 0.
IN_SPELL = StepFacts(
    model="closed", level=10, requests=50_000, rps=5_000.0, error_rate=0.0,
    http_req_duration_avg_ms=2.0, server_cpu_share=0.9, client_cpu_share=0.6,
    steal={"server": 0.004, "client": 0.055},
    steal_by_core={"server": {0: 0.004}, "client": {1: 0.055}},
)  # fmt: skip


def judged_in_sweep(
    judging: Judging, before: list[StepResult], facts: StepFacts = IN_SPELL
) -> list[str]:
    sweep_judging = _with_recent_steal(judging, before)
    facts = dataclasses.replace(
        facts,
        steal_floor=sweep_judging.steal_floor,
        steal_floor_words=sweep_judging.steal_floor_words,
    )
    return [r.text for r in judge_step(facts, ValiditySettings()).reasons]


def test_a_sweep_step_is_judged_against_the_steal_its_last_steps_met() -> None:
    idle = Judging(ValiditySettings(), steal_floor={0: 0.0, 1: 0.005})
    # The spell's first step: against the idle floor, invalid (and measured again later).
    assert judged_in_sweep(idle, []) == [
        "steal took 5.5% of client core 1, 5.0% above its floor (idle, or the last 3 steps' "
        "median steal) of 0.5% (limit 2% above it)"
    ]
    # Once the last three steps met it (median 5.0%), it is the machine's state: valid.
    spell = [stolen(0.001, s) for s in (0.048, 0.061, 0.050)]
    assert judged_in_sweep(idle, spell) == []
    # Steal that rises further above the spell is still a disturbance.
    assert judged_in_sweep(idle, [stolen(0.001, 0.02)] * 3) != []


def test_a_sweep_without_an_idle_floor_keeps_the_fixed_limit() -> None:
    fixed = Judging(ValiditySettings())
    spell = [stolen(0.001, 0.05)] * 3
    assert _with_recent_steal(fixed, spell) == fixed


def test_steal_up_to_its_floor_is_not_counted_as_other_work() -> None:
    # k6's core: 5.5% steal and 6.5% of other work, 12% in all, over the 10% limit; the
    # server's: 0.4% steal and 5.6% other work.
    busy = dataclasses.replace(IN_SPELL, interference={"server": 0.06, "client": 0.12})
    idle = Judging(ValiditySettings(), steal_floor={0: 0.0, 1: 0.005})
    spell = [stolen(0.001, s) for s in (0.048, 0.061, 0.050)]
    assert judged_in_sweep(idle, spell, busy) == []  # 12% less the 5.0% floor: 7%
    quiet = judged_in_sweep(idle, [], busy)
    (other,) = [text for text in quiet if text.startswith("other work")]
    assert other.startswith("other work (steal included) took 12.0% of the client cores, ")
    assert other.endswith("beyond the steal floor (limit 10%)")


def window(role: str, core: int, steal: float) -> Interference:
    """A role's core over a 3 s window: its trees ran all its busy time; `steal` of it stolen."""
    usage = CoreUsage((core,), window_s=3.0, busy_s=1.0, steal_s=steal * 3.0,
                      steal_s_by_core={core: steal * 3.0})  # fmt: skip
    return Interference(role, usage, trees_cpu_s=1.0)


def sweep_verdict(before: list[StepResult]) -> Validity:
    """A step with 6.5% steal on k6's core, judged as the sweep's _one_step has it judged (the
    judging it builds, then runner.measure.judging.judged, which run_step calls after k6)."""
    idle = Judging(ValiditySettings(), steal_floor={0: 0.0, 1: 0.005})
    judging = _with_recent_steal(_with_previous(idle, Step("d", 10, 1), before), before)
    result = step("d", 10, 2_000.0).model_copy(update={"client_cores": 1})
    # 2,000 iterations/s of 5 ms keep the 10 users busy (Little's law holds).
    metrics = K6Metrics(10_000, 0, 10_000, latency_ms={}, errors={}, iteration_duration_avg_ms=5.0)
    verdict = judged(result, metrics, [window("server", 0, 0.004), window("client", 1, 0.065)],
                     judging).validity  # fmt: skip
    assert verdict is not None
    return verdict


def test_a_sweep_steps_verdict_is_judged_against_the_recent_steal_floor() -> None:
    spell = [stolen(0.001, s) for s in (0.058, 0.060, 0.062)]  # 30 s ago: median 6%
    in_spell = sweep_verdict(spell)
    assert in_spell.valid and in_spell.reasons == []  # 0.5% above the spell's 6%
    # No recent steps: the idle floor alone (0.5%), 6.0% above it.
    alone = sweep_verdict([])
    assert not alone.valid and [r.code for r in alone.reasons] == ["steal"]
