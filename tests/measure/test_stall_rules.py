"""The platform's stalls and steal floor in a step's verdict, on synthetic figures (no load)."""

from __future__ import annotations

import dataclasses

from runner.measure.cpu_accounting import CoreUsage, Interference
from runner.measure.judging import Judging, judged, stall_facts, step_facts
from runner.measure.k6 import K6Metrics
from runner.measure.stalls import CoreStalls, StallFigures
from runner.measure.steal_floor import measure_steal_floor
from runner.measure.validity import (
    StepFacts,
    StepStalls,
    ValiditySettings,
    judge_step,
    rule_texts,
    withheld_percentiles,
)
from tests.factories import step

SETTINGS = ValiditySettings()
# A sound step: 10 users, 5,000 RPS at 2 ms, p99 8 ms, nothing else on the cores.
SOUND = StepFacts(
    model="closed",
    level=10,
    requests=50_000,
    rps=5_000.0,
    error_rate=0.0,
    http_req_duration_avg_ms=2.0,
    server_cpu_share=0.95,
    client_cpu_share=0.60,
    p99_ms=8.0,
)


def stalls(
    max_ms: float, late_ms: float, late_wakes: int = 1, core: int = 0, window_s: float = 3.0
) -> StepStalls:
    """Core `core` (the server's) stalled as given; core 1 (k6's) quiet."""
    return StepStalls(
        interval_ms=10.0,
        window_s=window_s,
        max_ms={core: max_ms, 1: 0.3},
        total_late_ms={core: late_ms, 1: 0.0},
        late_wakes={core: late_wakes, 1: 0},
        server_cores=frozenset({core}),
    )


def reasons(facts: StepFacts, settings: ValiditySettings = SETTINGS) -> list[tuple[str, bool]]:
    return [(r.code, r.invalidates) for r in judge_step(facts, settings).reasons]


def test_a_stall_half_the_p99_marks_the_tail_but_keeps_the_step() -> None:
    facts = dataclasses.replace(SOUND, p99_ms=45.2, stalls=stalls(max_ms=61.0, late_ms=61.0))
    verdict = judge_step(facts, SETTINGS)
    assert verdict.valid
    (reason,) = verdict.reasons
    assert (reason.code, reason.invalidates) == ("stalls", False)
    assert reason.text.startswith("p99 45.2 ms: the platform stalled up to 61.0 ms on core 0")
    assert reason.figures["stall_max_ms"] == 61.0 and reason.figures["core"] == 0.0
    # p99 and beyond are withheld, p95 is not: the report and the gate leave them out.
    assert sorted(withheld_percentiles(verdict)) == [0.99, 0.999, 0.9999]


def test_a_short_stall_or_one_that_reaches_too_few_requests_leaves_the_tail() -> None:
    short = dataclasses.replace(SOUND, p99_ms=45.2, stalls=stalls(max_ms=20.0, late_ms=20.0))
    assert reasons(short) == []
    # 30 ms late in a 10 s window at 2 ms a request: 0.3% of the window, not the 1% tail.
    rare = stalls(max_ms=30.0, late_ms=30.0, window_s=10.0)
    assert reasons(dataclasses.replace(SOUND, p99_ms=45.2, stalls=rare)) == []
    # The same stall on k6's core says nothing of the server's tail.
    on_k6 = dataclasses.replace(stalls(61.0, 61.0), server_cores=frozenset({1}))
    assert reasons(dataclasses.replace(SOUND, p99_ms=45.2, stalls=on_k6)) == []


def test_stalls_over_a_share_of_the_window_invalidate_the_step() -> None:
    facts = dataclasses.replace(
        SOUND, p99_ms=400.0, stalls=stalls(max_ms=60.0, late_ms=180.0, late_wakes=3)
    )
    verdict = judge_step(facts, SETTINGS)
    assert not verdict.valid
    (reason,) = verdict.reasons
    assert reason.code == "stalls" and reason.invalidates
    assert reason.text == (
        "the platform stalled core 0 for 180 ms in all, 6.0% of the window (limit 5%)"
    )
    assert withheld_percentiles(verdict) == {}
    loose = SETTINGS.model_copy(update={"max_stall_share": 0.1})
    assert reasons(facts, loose) == []


def test_steal_is_judged_above_the_machines_idle_floor() -> None:
    steal = {"server": {0: 0.045}, "client": {1: 0.03}}
    facts = dataclasses.replace(SOUND, steal={"server": 0.045, "client": 0.03}, steal_by_core=steal)
    # Without a floor (older runs, re-judging): a fixed 2% of any core, as before.
    assert reasons(facts) == [("steal", True), ("steal", True)]
    floored = dataclasses.replace(facts, steal_floor={0: 0.031, 1: 0.027})
    assert reasons(floored) == []  # 1.4% and 0.3% above the floor
    (reason,) = judge_step(
        dataclasses.replace(floored, steal_floor={0: 0.02, 1: 0.027}), SETTINGS
    ).reasons
    assert reason.text == (
        "steal took 4.5% of server core 0, 2.5% above its idle floor of 2.0% (limit 2% above it)"
    )
    assert reason.figures == {"server_steal": 0.045, "core": 0.0, "floor": 0.02, "limit": 0.02}


def test_the_rule_texts_name_the_floor_and_the_stall_thresholds() -> None:
    texts = rule_texts(SETTINGS, steal_floor={0: 0.031, 1: 0.025})
    assert texts["steal"] == (
        "Steal: invalid when the hypervisor took more than 2% of a core above its floor: this "
        "machine's idle steal (measured at the run's start: 3.1% on core 0, 2.5% on core 1), or "
        "the median steal of the last 3 steps when higher, at most 10% (steal every recent step "
        "met is the machine's state; the report names the steps measured in it)."
    )
    assert "more than 2% of any core" in rule_texts(SETTINGS)["steal"]
    assert "more than 5% of the window" in texts["stalls"]
    assert "at least 50% of the step's p99" in texts["stalls"]


def figures(max_ms: float, late_ms: float) -> StallFigures:
    cores = [
        CoreStalls(core=0, wakes=300, p99_ms=2.0, max_ms=max_ms, late_wakes=1,
                   total_late_ms=late_ms),
        CoreStalls(core=1, wakes=300, p99_ms=0.3, max_ms=0.4, late_wakes=0, total_late_ms=0.0),
    ]  # fmt: skip
    return StallFigures(interval_ms=10.0, late_threshold_ms=1.0, span_start=100.0,
                        span_end=103.0, cores=cores, missing_cores=[])  # fmt: skip


def interference(role: str, core: int, steal_s: float) -> Interference:
    usage = CoreUsage((core,), window_s=3.0, busy_s=1.0, steal_s=steal_s,
                      steal_s_by_core={core: steal_s})  # fmt: skip
    return Interference(role, usage, trees_cpu_s=1.0)


def test_a_judged_step_reads_its_stall_figures_and_the_floor() -> None:
    measured = step("app", 10, rps=1000.0, p95=30.0).model_copy(
        update={"stalls": figures(max_ms=61.0, late_ms=61.0), "client_cores": 1}
    )
    found = [interference("server", 0, steal_s=0.12), interference("client", 1, 0.01)]
    # 1,000 iterations/s of 10 ms keep the 10 users busy (Little's law holds).
    metrics = K6Metrics(5000, 0, 5000, latency_ms={}, errors={}, iteration_duration_avg_ms=10.0)
    judging = Judging(SETTINGS, steal_floor={0: 0.035})
    verdict = judged(measured, metrics, found, judging).validity
    assert verdict is not None and verdict.valid  # 4% steal is 0.5% above core 0's floor
    (stalled,) = [r for r in verdict.reasons if r.code in ("stalls", "steal")]
    assert "stalled up to 61.0 ms on core 0" in stalled.text and not stalled.invalidates
    facts = step_facts(measured, found=found)
    assert facts.stalls is not None and facts.stalls.server_cores == {0}
    assert facts.stalls.window_s == 3.0
    assert stall_facts(None, frozenset()) is None


def test_the_steal_floor_is_each_cores_share_over_a_short_quiet_span() -> None:
    floor = measure_steal_floor([0, 999], seconds=0.05)
    assert list(floor.shares) == [0]  # a core the machine lacks is left out
    assert 0.0 <= floor.shares[0] <= 1.0 and 0.04 <= floor.seconds < 1.0
