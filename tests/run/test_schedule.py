"""The sweep's queue (runner.run.schedule) and the rounds of `repetitions: auto`
(runner.run.rounds), with synthetic steps and a clock of our own: no server, no k6."""

from __future__ import annotations

import pytest

from runner.config.compose import experiment_from_config
from runner.config.experiment import Experiment
from runner.errors import UserError
from runner.records.results import StepResult
from runner.run.plan import Plan, build_plan, round_seed
from runner.run.rounds import Rounds
from runner.run.schedule import Queued, Schedule, disturbance_text, finished_keys
from tests.conftest import compose_config
from tests.factories import step as stored_step


def experiment(*overrides: str) -> Experiment:
    return experiment_from_config(compose_config("quickstart", *overrides))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def result(queued: Queued, invalid: str | None = None, rps: float = 1000.0) -> StepResult:
    step = queued.step
    made = stored_step(step.target, step.level, rps, step.repetition, invalid=invalid)  # type: ignore[arg-type]
    return made.model_copy(update={"attempt": queued.attempt})


def names(schedule: Schedule) -> list[str]:
    return [
        f"{q.step.target}/{q.step.level}/{q.step.repetition}/a{q.attempt}" for q in schedule.pending
    ]


def two_reps_plan(*overrides: str) -> Plan:
    return build_plan(
        experiment(
            "repetitions=2", "~targets.django_asgi", "sweep.concurrency.levels=[10,20]", *overrides
        )
    )


def test_a_disturbed_step_is_retried_after_the_rest_of_its_round() -> None:
    clock = Clock()
    schedule = Schedule(
        two_reps_plan("retry.delay=0s"), two_reps_plan().experiment.retry, clock=clock
    )
    first, wait = schedule.take() or pytest.fail("empty")
    assert wait == 0 and first.step.repetition == 1
    retry, why_not = schedule.finished(first, result(first, "steal"), 6.0)
    assert retry is not None and retry.attempt == 2 and why_not == ""
    # Behind the other three steps of repetition 1, ahead of repetition 2.
    assert names(schedule)[3] == "fastapi/10/1/a2"
    assert [q.step.repetition for q in schedule.pending[4:]] == [2, 2, 2, 2]


def test_causes_that_do_not_pass_are_not_retried() -> None:
    schedule = Schedule(two_reps_plan(), two_reps_plan().experiment.retry, clock=Clock())
    for cause in ("client_bound", "inconsistent_load", "unexplained_ceiling", None):
        queued, _ = schedule.take() or pytest.fail("empty")
        assert schedule.finished(queued, result(queued, cause), 6.0) == (None, "")


def test_attempts_are_limited() -> None:
    plan = two_reps_plan("retry.max_attempts=2", "retry.delay=0s")
    schedule = Schedule(plan, plan.experiment.retry, clock=Clock())
    first, _ = schedule.take() or pytest.fail("empty")
    retry, _ = schedule.finished(first, result(first, "interference"), 6.0)
    assert retry is not None
    schedule.pending.remove(retry)
    again, why_not = schedule.finished(retry, result(retry, "interference"), 6.0)
    assert again is None and "2 attempts (retry.max_attempts)" in why_not


def test_the_retry_budget_is_the_run_s() -> None:
    # Steps of 5 s + 1 s warmup: a 10 s budget has room for one retry, not two.
    plan = two_reps_plan("retry.budget=10s", "retry.delay=0s")
    schedule = Schedule(plan, plan.experiment.retry, clock=Clock())
    first, _ = schedule.take() or pytest.fail("empty")
    retry, _ = schedule.finished(first, result(first, "steal"), 6.0)
    assert retry is not None
    schedule.pending.remove(retry)
    schedule.finished(retry, result(retry), 6.2)  # the retry took 6.2 s of the budget
    second, _ = schedule.take() or pytest.fail("empty")
    refused, why_not = schedule.finished(second, result(second, "steal"), 6.0)
    assert refused is None and "retry budget is spent (6 s of 10s" in why_not


def test_a_retry_waits_its_delay_while_others_go_first() -> None:
    clock = Clock()
    plan = build_plan(experiment("~targets.django_asgi", "~targets.django_wsgi", "retry.delay=30s"))
    schedule = Schedule(plan, plan.experiment.retry, clock=clock)
    first, _ = schedule.take() or pytest.fail("empty")
    schedule.finished(first, result(first, "steal"), 6.0)
    # Sequential order, one target: the retry goes after the target's other steps.
    assert names(schedule) == ["fastapi/20/1/a1", "fastapi/30/1/a1", "fastapi/10/1/a2"]
    for level in (20, 30):
        taken, wait = schedule.take() or pytest.fail("empty")
        assert (taken.step.level, wait) == (level, 0.0)
        clock.now += 6
    last, wait = schedule.take() or pytest.fail("empty")
    assert last.attempt == 2 and wait == pytest.approx(18.0)
    assert schedule.take() is None


def test_resume_keeps_every_attempt_and_knows_which_are_done() -> None:
    plan = two_reps_plan()
    retry = plan.experiment.retry
    kept = [
        stored_step("fastapi", 10, 1000, 1, invalid="steal"),
        stored_step("fastapi", 10, 1000, 1).model_copy(update={"attempt": 2}),
        stored_step("fastapi", 20, 1000, 1, invalid="steal"),  # a retry is still due
        stored_step("django_wsgi", 10, 900, 1, invalid="client_bound"),  # no retry due
    ]
    assert finished_keys(kept, retry) == {("fastapi", 10, 1), ("django_wsgi", 10, 1)}
    schedule = Schedule(plan, retry, kept, clock=Clock())
    assert names(schedule)[0] == "fastapi/20/1/a2"
    assert len(schedule.pending) == len(plan.steps) - 2


def test_disturbance_text_names_the_cause_and_its_figure() -> None:
    step = stored_step("fastapi", 10, 1000, invalid="steal")
    reason = step.validity.reasons[0].model_copy(
        update={"figures": {"server_steal": 0.041, "limit": 0.02}}
    )  # type: ignore[union-attr]
    step = step.model_copy(
        update={"validity": step.validity.model_copy(update={"reasons": [reason]})}
    )  # type: ignore[union-attr]
    assert disturbance_text(step) == "steal 4%"


def auto_experiment(*overrides: str) -> Experiment:
    return experiment(
        "repetitions=auto",
        "~targets.django_asgi",
        "sweep.concurrency.levels=[10,20]",
        "auto_repetitions.min=3",
        "auto_repetitions.max=5",
        *overrides,
    )


def test_auto_rounds_are_shuffled_per_round_from_the_seed() -> None:
    plan = build_plan(auto_experiment("order_seed=7"))
    assert plan.order == "shuffled" and len(plan.steps) == 5 * 4
    rounds = [[(s.target, s.level) for s in plan.steps if s.repetition == r] for r in range(1, 6)]
    assert all(sorted(r) == sorted(rounds[0]) for r in rounds)
    assert len({tuple(r) for r in rounds}) > 1  # a fresh order, not one order five times
    assert round_seed(plan.experiment, 2) == 9
    assert build_plan(auto_experiment("order_seed=7")).steps == plan.steps


def run_rounds(
    plan: Plan, rps: dict[str, list[float]], client_bound: str | None = None
) -> tuple[Rounds, list[StepResult]]:
    """Every step the schedule gives, fastapi/django_wsgi at the round's rps (no retries);
    the `client_bound` target's steps are k6-limited (floors)."""
    schedule = Schedule(plan, plan.experiment.retry, clock=Clock())
    rounds = Rounds(plan, schedule, clock=Clock())
    steps: list[StepResult] = []
    while (taken := schedule.take()) is not None:
        queued = taken[0]
        value = rps[queued.step.target][queued.step.repetition - 1]
        bound = "client_bound" if queued.step.target == client_bound else None
        steps.append(result(queued, bound, rps=value))
        rounds.after_step(queued.step.repetition, steps)
    return rounds, steps


def test_targets_3x_apart_settle_at_the_minimum() -> None:
    plan = build_plan(auto_experiment())
    rps = {"fastapi": [3000, 3100, 2950, 3050, 3000], "django_wsgi": [1000, 1020, 990, 1010, 1000]}
    rounds, steps = run_rounds(plan, rps)
    stopped = rounds.record(complete=True)
    assert [(s.rounds, s.stopped) for s in stopped] == [(3, "lead"), (3, "lead")]
    assert stopped[0].text.startswith("fastapi: lead +")
    assert len(steps) == 3 * 4


def test_identical_twins_stop_on_equivalence_or_at_the_maximum_never_with_a_lead() -> None:
    plan = build_plan(auto_experiment("auto_repetitions.margin=0.05"))
    rps = {"fastapi": [1000, 1010, 995, 1003, 998], "django_wsgi": [1002, 998, 1004, 997, 1001]}
    rounds, _ = run_rounds(plan, rps)
    assert {s.stopped for s in rounds.record(complete=True)} == {"equivalent"}
    noisy = {"fastapi": [1000, 1150, 900, 1080, 960], "django_wsgi": [1050, 920, 1100, 990, 940]}
    rounds, steps = run_rounds(build_plan(auto_experiment()), noisy)
    assert [(s.rounds, s.stopped) for s in rounds.record(complete=True)] == [(5, "max rounds")] * 2
    assert len(steps) == 5 * 4


def test_a_floored_leader_is_ranked_as_the_winner_column_ranks_it() -> None:
    """FastAPI only client-bound (floors at 3x Django's): the level settles on its lead as a
    floor, as the Winner column names it; a floor is never left out of the decision."""
    rps = {"fastapi": [3000, 3100, 2950, 3050, 3000], "django_wsgi": [1000, 1020, 990, 1010, 1000]}
    rounds, _ = run_rounds(build_plan(auto_experiment()), rps, client_bound="fastapi")
    stopped = rounds.record(complete=True)
    assert [(s.rounds, s.stopped) for s in stopped] == [(3, "lead"), (3, "lead")]
    assert all(s.text.startswith("fastapi: lead +") for s in stopped)
    # A floor below the leader cannot be ranked against it: no decision, to the maximum.
    below = {
        "fastapi": [1000, 1020, 990, 1010, 1000],
        "django_wsgi": [3000, 3100, 2950, 3050, 3000],
    }
    rounds, _ = run_rounds(build_plan(auto_experiment()), below, client_bound="fastapi")
    assert [(s.rounds, s.stopped) for s in rounds.record(True)] == [(5, "max rounds")] * 2


def test_the_budget_stops_rounds_that_would_not_end_in_time() -> None:
    plan = build_plan(auto_experiment("auto_repetitions.budget=20s"))
    schedule = Schedule(plan, plan.experiment.retry, clock=Clock())
    rounds = Rounds(plan, schedule, clock=Clock())  # no time passes; a round takes ~25 s
    steps = []
    while (taken := schedule.take()) is not None:
        steps.append(result(taken[0]))
        rounds.after_step(taken[0].step.repetition, steps)
    assert [(s.rounds, s.stopped) for s in rounds.record(True)] == [(1, "budget")] * 2


def test_auto_repetitions_settings_are_checked() -> None:
    with pytest.raises(
        UserError, match=r"'auto_repetitions.min' \(6\) is above 'auto_repetitions.max' \(5\)"
    ):
        experiment("repetitions=auto", "auto_repetitions.min=6", "auto_repetitions.max=5")
    with pytest.raises(UserError, match=r"'retry\.budget'"):
        experiment("retry.budget=soon")
    assert experiment("repetitions=4").most_repetitions == 4
