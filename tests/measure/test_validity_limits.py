"""The rules that explain before they blank: a ceiling the server's own concurrency explains, and
an open-model rate the server (not k6) could not hold, keep the step valid with the limit named."""

from __future__ import annotations

import dataclasses

import pytest

from runner.config.experiment import Target
from runner.measure.validity import (
    StepFacts,
    ValiditySettings,
    inconsistent_load_reasons,
    judge_step,
)

SETTINGS = ValiditySettings()
# One gunicorn sync worker on /io?ms=50 as measured here: 19 RPS at every level, each request
# waiting behind the others (5 users: 263 ms), the worker asleep (2% of its core).
SYNC_AT_5 = StepFacts(
    model="closed",
    level=5,
    requests=20_000,  # enough for every percentile (the rule is not the subject here)
    rps=19.0,
    error_rate=0.0,
    http_req_duration_avg_ms=263.0,
    server_cpu_share=0.02,
    client_cpu_share=0.02,
    concurrency=1,
    concurrency_words="the one sync worker",
)
SYNC_AT_10 = dataclasses.replace(SYNC_AT_5, level=10, rps=18.7, http_req_duration_avg_ms=535.0)


def reason_of(facts: StepFacts, previous: StepFacts | None, code: str) -> str | None:
    verdict = judge_step(facts, SETTINGS, previous)
    return next((r.text for r in verdict.reasons if r.code == code), None)


def test_a_sync_worker_ceiling_is_explained_by_its_concurrency_and_stays_valid() -> None:
    verdict = judge_step(SYNC_AT_10, SETTINGS, previous=SYNC_AT_5)
    assert verdict.valid
    [reason] = [r for r in verdict.reasons if r.code == "explained_ceiling"]
    assert not reason.invalidates
    assert reason.text.startswith(
        "1.0 request in service (Little's law: 18.7 RPS x 53.5 ms): the limit of the one sync worker"
    )
    assert "10.0 requests at the server (18.7 RPS x 535.0 ms)" in reason.text
    assert reason.figures["in_service"] == 1.0
    assert reason.figures["held_ms"] == pytest.approx(1000 / 18.7)


def test_without_a_declared_bound_or_flat_requests_the_ceiling_stays_unexplained() -> None:
    # An async server (no bound) whose requests at the server grew with the users.
    unbounded = dataclasses.replace(SYNC_AT_10, concurrency=None, concurrency_words="")
    previous = dataclasses.replace(SYNC_AT_5, concurrency=None)
    verdict = judge_step(unbounded, SETTINGS, previous)
    assert not verdict.valid
    assert [r.code for r in verdict.reasons] == ["unexplained_ceiling"]
    # Workers waiting for requests (fewer at the server than workers) are not the limit either.
    idle_workers = dataclasses.replace(SYNC_AT_10, concurrency=16)
    assert reason_of(idle_workers, SYNC_AT_5, "unexplained_ceiling") is not None


def test_requests_in_service_that_stop_growing_explain_the_ceiling() -> None:
    # A server that holds 8 requests however many users wait: the others wait to connect,
    # inside k6's iterations (Little's law over iterations holds: 805/s x 24.8 ms = 20 users).
    at_10 = dataclasses.replace(
        SYNC_AT_5,
        level=10,
        rps=800.0,
        http_req_duration_avg_ms=10.0,
        iteration_duration_avg_ms=12.5,
        iterations_per_s=800.0,
        concurrency=None,
    )
    at_20 = dataclasses.replace(
        at_10, level=20, rps=805.0, http_req_duration_avg_ms=10.1, iteration_duration_avg_ms=24.8
    )
    text = reason_of(at_20, at_10, "explained_ceiling")
    assert text is not None
    assert text.startswith("8.1 requests in service (Little's law: 805.0 RPS x 10.1 ms), 8.0 at")
    assert judge_step(at_20, SETTINGS, at_10).valid


def test_the_busy_time_of_the_server_cores_counts_towards_near_the_limit() -> None:
    """Django WSGI on /json: the tree at 79% of its core, the core busier (kernel work)."""
    at_10 = dataclasses.replace(SYNC_AT_5, level=10, rps=3_342.0, http_req_duration_avg_ms=3.0)
    at_20 = dataclasses.replace(
        at_10, level=20, rps=3_219.0, http_req_duration_avg_ms=6.2, concurrency=None
    )
    tree_only = dataclasses.replace(at_20, server_cpu_share=0.79)
    assert reason_of(tree_only, at_10, "unexplained_ceiling") is not None
    busy_core = dataclasses.replace(tree_only, server_core_busy_share=0.93)
    assert judge_step(busy_core, SETTINGS, at_10).reasons == []
    assert judge_step(busy_core).measured["server_cores_busy"] == 0.93


OPEN_2000 = StepFacts(
    model="open",
    level=2_000,
    requests=20_000,
    rps=1_510.0,
    error_rate=0.0,
    http_req_duration_avg_ms=660.0,  # 1,510/s x 0.66 s = 997 users waiting
    target_rps=2_000.0,
    dropped_iterations=980,
    max_vus=1_000,
    p99_ms=1_900.0,
    server_cpu_share=0.98,
    client_cpu_share=0.55,
)


def test_an_open_rate_the_server_could_not_hold_is_its_result() -> None:
    verdict = judge_step(OPEN_2000)
    assert verdict.valid
    [reason] = verdict.reasons
    assert reason.code == "rate_not_held"
    assert not reason.invalidates
    assert reason.text == (
        "could not hold the rate: achieved 1,510.0 of 2,000 RPS, p99 1,900.0 ms; "
        "980 iterations dropped: all 1,000 allowed virtual users were waiting for the server"
    )


# FastAPI at 3,000 RPS in a 2 s step as measured here (quickstart_open): the queue grew through
# the window (p50 0.6 ms, p99 209 ms), so on average only 82 of 1,000 users were busy, yet k6
# ran out of its 600 preallocated users (warmup and window) and started 17 more.
GROWING_QUEUE = dataclasses.replace(
    OPEN_2000,
    level=3_000,
    requests=5_332,
    rps=2_666.0,
    http_req_duration_avg_ms=30.9,
    target_rps=3_000.0,
    dropped_iterations=665,
    vus_preallocated=600,
    vus_initialised=617,
    p99_ms=209.2,
    server_cpu_share=0.68,
    client_cpu_share=0.76,
)


def test_a_queue_that_grew_through_a_short_step_is_the_servers_limit() -> None:
    verdict = judge_step(GROWING_QUEUE)
    assert verdict.valid
    [rate] = [r for r in verdict.reasons if r.code == "rate_not_held"]
    assert rate.text.endswith(
        "665 iterations dropped: all 600 preallocated virtual users were waiting for the "
        "server and k6 started 17 more"
    )
    # Without k6's word on its users the mean alone cannot show them busy: k6's shortfall.
    unknown = dataclasses.replace(GROWING_QUEUE, vus_initialised=None)
    [drop] = [r.text for r in judge_step(unknown).reasons if "dropped" in r.text]
    assert drop == (
        "k6 dropped 665 iterations while its virtual users were free (82.4 of 1,000 busy on "
        "average, none started beyond those preallocated): k6 could not keep the rate"
    )
    assert not judge_step(unknown).valid


def test_an_open_rate_k6_could_not_keep_stays_an_inconsistent_load() -> None:
    k6_at_limit = dataclasses.replace(OPEN_2000, client_cpu_share=0.95)
    reasons = [r for r in judge_step(k6_at_limit).reasons if r.invalidates]
    assert "inconsistent_load" in {r.code for r in reasons}
    assert (
        "k6 dropped 980 iterations while k6 used 95% of its cores (limit 90%): k6 could not "
        "keep the rate" in [r.text for r in reasons]
    )
    # Iterations dropped while most users sat free: k6 did not start them, not the server.
    users_free = dataclasses.replace(OPEN_2000, http_req_duration_avg_ms=20.0)
    assert not judge_step(users_free).valid
    # A missed rate without drops, k6 with CPU to spare: the server's (no cap to check).
    slow = dataclasses.replace(OPEN_2000, dropped_iterations=0, max_vus=None)
    assert [r.code for r in judge_step(slow).reasons] == ["rate_not_held"]


@pytest.mark.parametrize(
    ("settings", "bound"),
    [
        ({"server": "gunicorn"}, (1, "the one sync worker")),
        ({"server": "gunicorn", "workers": 2, "worker_class": "sync"}, (2, "2 sync workers")),
        (
            {"server": "gunicorn", "workers": 2, "worker_class": "gthread", "threads": 4},
            (8, "2 gthread workers x 4 threads"),
        ),
        ({"server": "gunicorn", "worker_class": "uvicorn_worker.UvicornWorker"}, None),
        ({"server": "uvicorn"}, None),
    ],
)
def test_a_target_declares_its_concurrency_bound(
    settings: dict[str, object], bound: tuple[int, str] | None
) -> None:
    target = Target.model_validate({"app": "targets.fastapi_app:app", **settings})
    assert target.concurrency_bound == bound


def test_the_warmups_carry_over_is_not_an_inconsistent_load() -> None:
    """A sync worker at 20 users: the window's mean duration reads 18% high because the warmup's
    users finish their requests inside it (19.3/s x 1,220 ms = 23.6 busy); within mean
    duration / window (1.22 s / 3 s) that is the carry-over, not k6 failing its users."""
    settings = ValiditySettings()
    carried = StepFacts(
        model="closed", level=20, requests=58, rps=19.3, error_rate=0.0,
        http_req_duration_avg_ms=1220.0, window_s=3.0,
    )  # fmt: skip
    assert inconsistent_load_reasons(carried, settings) == []
    # The same excess over a window ten times longer is more than a carry-over.
    longer = dataclasses.replace(carried, window_s=30.0)
    [reason] = inconsistent_load_reasons(longer, settings)
    assert "beyond the warmup's carry-over" in reason.text
    # Too few busy users stays inconsistent, whatever the window.
    idle = dataclasses.replace(carried, http_req_duration_avg_ms=800.0)
    [reason] = inconsistent_load_reasons(idle, settings)
    assert "k6 did not keep its users busy" in reason.text
