"""The step validity rules, one by one, on the figures of steps as k6 and the sampler report them."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pydantic
import pytest

from runner.measure.validity import (
    RULES,
    ReasonCode,
    StepFacts,
    ValiditySettings,
    ceiling_share,
    judge_step,
    percentile_allowed,
    requests_needed,
    rule_texts,
    withheld_percentiles,
)

SETTINGS = ValiditySettings()
# A sound closed-model step: 10 users, 5,000 RPS at 2 ms (Little's law: 5,000 x 0.002 = 10),
# the server at 95% of its core, k6 at 60% of its, nothing else on the cores.
SOUND = StepFacts(
    model="closed",
    level=10,
    requests=50_000,
    rps=5_000.0,
    error_rate=0.0,
    http_req_duration_avg_ms=2.0,
    server_cpu_share=0.95,
    client_cpu_share=0.60,
    interference={"server": 0.01, "client": 0.03},
    steal={"server": 0.0, "client": 0.001},
)


def codes(facts: StepFacts, previous: StepFacts | None = None) -> list[str]:
    return [reason.code for reason in judge_step(facts, SETTINGS, previous).reasons]


def test_every_reason_code_has_one_rule() -> None:
    """judge_step applies RULES in order, so a code missing there would never be judged."""
    assert list(RULES) == list(get_args(ReasonCode))


def test_a_sound_step_is_valid_with_no_reasons() -> None:
    verdict = judge_step(SOUND)
    assert verdict.valid
    assert verdict.reasons == []


def test_a_valid_step_still_records_its_other_work_and_steal() -> None:
    """So the run can be judged again with other limits, and the machine's noise is visible."""
    assert judge_step(SOUND).measured == {
        "server_interference": 0.01,
        "client_interference": 0.03,
        "server_steal": 0.0,
        "client_steal": 0.001,
    }


def test_interference_on_either_core_set_invalidates_with_its_share() -> None:
    verdict = judge_step(dataclasses.replace(SOUND, interference={"server": 0.45, "client": 0.02}))
    assert not verdict.valid
    [reason] = verdict.reasons
    assert reason.code == "interference"
    assert reason.figures["server_interference"] == pytest.approx(0.45)
    assert "45.0% of the server cores" in reason.text
    assert codes(dataclasses.replace(SOUND, interference={"server": 0.10})) == []


def test_steal_above_its_own_limit_invalidates() -> None:
    assert codes(dataclasses.replace(SOUND, steal={"client": 0.05})) == ["steal"]
    assert codes(dataclasses.replace(SOUND, steal={"client": 0.02})) == []


def test_client_bound_by_k6_cpu_or_by_the_measured_ceiling() -> None:
    by_cpu = judge_step(dataclasses.replace(SOUND, client_cpu_share=0.93))
    assert [r.code for r in by_cpu.reasons] == ["client_bound"]
    assert "k6 used 93% of its cores" in by_cpu.reasons[0].text
    near_ceiling = dataclasses.replace(SOUND, client_ceiling_rps=5_200.0)
    assert ceiling_share(near_ceiling) == pytest.approx(5_000 / 5_200)
    [reason] = judge_step(near_ceiling).reasons
    assert reason.figures["ceiling_share"] == pytest.approx(0.9615, abs=1e-4)
    far_from_ceiling = dataclasses.replace(SOUND, client_ceiling_rps=20_000.0)
    assert ceiling_share(far_from_ceiling) == pytest.approx(0.25)
    assert codes(far_from_ceiling) == []
    assert ceiling_share(SOUND) is None


def test_littles_law_closed_model() -> None:
    # 10 users but only 2,500/s x 2 ms = 5 busy: k6 left half its users idle.
    idle_users = judge_step(dataclasses.replace(SOUND, rps=2_500.0))
    [reason] = idle_users.reasons
    assert reason.code == "inconsistent_load"
    assert reason.figures["implied_vus"] == pytest.approx(5.0)
    assert reason.figures["off_by"] == pytest.approx(-0.5)
    assert codes(dataclasses.replace(SOUND, rps=5_450.0)) == []  # +9%: within tolerance


def test_littles_law_prefers_iteration_figures_when_k6_gives_them() -> None:
    # Two requests per iteration: 2,500 iterations/s x 4 ms = 10 users, consistent.
    two_requests = dataclasses.replace(
        SOUND, iteration_duration_avg_ms=4.0, iterations_per_s=2_500.0
    )
    assert codes(two_requests) == []
    # The same request figures without the iteration rate would count 5,000/s x 4 ms = 20.
    assert codes(dataclasses.replace(two_requests, iterations_per_s=None)) == ["inconsistent_load"]


def test_open_model_must_hold_its_rate_and_drop_nothing() -> None:
    open_step = dataclasses.replace(
        SOUND, model="open", level=1_000, target_rps=1_000.0, rps=995.0, dropped_iterations=0
    )
    assert codes(open_step) == []
    behind = judge_step(dataclasses.replace(open_step, rps=900.0, dropped_iterations=420))
    assert [r.code for r in behind.reasons] == ["inconsistent_load", "inconsistent_load"]
    assert "90.0%" in behind.reasons[0].text
    assert "dropped 420 iterations" in behind.reasons[1].text


def test_a_ceiling_with_idle_server_and_client_is_unexplained_and_says_where_time_went() -> None:
    # The slow quickstart of the issue: about 5,240 RPS at 10 and 20 users, both at ~50%.
    at_10 = dataclasses.replace(SOUND, rps=5_240.0, http_req_duration_avg_ms=1.908)
    at_20 = dataclasses.replace(
        at_10,
        level=20,
        rps=5_300.0,
        http_req_duration_avg_ms=3.77,
        server_cpu_share=0.50,
        client_cpu_share=0.48,
        interference={"server": 0.45, "client": 0.40},
    )
    verdict = judge_step(at_20, SETTINGS, previous=at_10)
    reason = next(r for r in verdict.reasons if r.code == "unexplained_ceiling")
    assert reason.figures["gain"] == pytest.approx(5_300 / 5_240 - 1)
    assert "server used 50% of its cores and k6 48%" in reason.text
    assert "other work: 45%" in reason.text
    assert not verdict.valid


def test_a_ceiling_is_explained_by_a_saturated_server_or_a_small_level_step() -> None:
    at_20 = dataclasses.replace(SOUND, level=20, rps=5_100.0, http_req_duration_avg_ms=3.92)
    assert "unexplained_ceiling" not in codes(at_20, previous=SOUND)  # server at 95%
    idle = dataclasses.replace(at_20, server_cpu_share=0.5)
    assert "unexplained_ceiling" in codes(idle, previous=SOUND)
    # 20 -> 21 users (+5%) is too small a step to expect +5% throughput.
    assert "unexplained_ceiling" not in codes(
        dataclasses.replace(idle, level=21), previous=dataclasses.replace(SOUND, level=20)
    )
    # Rising throughput is no ceiling; a url target (server not sampled) cannot be judged.
    assert "unexplained_ceiling" not in codes(
        dataclasses.replace(idle, rps=6_000.0), previous=SOUND
    )
    assert "unexplained_ceiling" not in codes(
        dataclasses.replace(idle, server_cpu_share=None), previous=SOUND
    )


@pytest.mark.parametrize(
    ("p", "needed"), [(0.5, 20), (0.95, 200), (0.99, 1_000), (0.999, 10_000), (0.9999, 100_000)]
)
def test_requests_needed_per_percentile(p: float, needed: int) -> None:
    assert requests_needed(p) == needed
    assert percentile_allowed(p, needed) is None
    assert percentile_allowed(p, needed - 1) is not None


def test_a_step_of_a_hundred_requests_withholds_its_tail_but_stays_valid() -> None:
    verdict = judge_step(dataclasses.replace(SOUND, requests=100, rps=5_000.0))
    assert verdict.valid
    withheld = withheld_percentiles(verdict)
    assert sorted(withheld) == [0.95, 0.99, 0.999]
    assert withheld[0.999] == "p99.9 needs 10,000 requests; the step has 100"
    assert percentile_allowed(0.99, 999) == "p99 needs 1,000 requests; the step has 999"


def test_rule_texts_carry_the_thresholds_in_force() -> None:
    texts = rule_texts(ValiditySettings(max_interference=0.2, samples_per_tail=20))
    assert set(texts) == {
        "interference",
        "steal",
        "client_bound",
        "inconsistent_load",
        "rate_not_held",
        "unexplained_ceiling",
        "explained_ceiling",
        "too_few_samples",
        "stalls",
    }
    assert "more than 20% of the server's or k6's cores" in texts["interference"]
    assert "p99 from 2,000, p99.9 from 20,000" in texts["too_few_samples"]
    assert all("{" not in text for text in texts.values())


def test_settings_reject_unknown_keys_and_impossible_shares() -> None:
    with pytest.raises(pydantic.ValidationError):
        ValiditySettings.model_validate({"max_interferance": 0.1})
    with pytest.raises(pydantic.ValidationError):
        ValiditySettings(max_steal=1.5)
    described = ValiditySettings.model_json_schema()["properties"]
    assert all(entry.get("description") for entry in described.values())
