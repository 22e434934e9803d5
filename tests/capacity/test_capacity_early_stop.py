"""The early-stop rule: a trial ends only once its objective is clearly broken."""

from __future__ import annotations

from runner.capacity.early_stop import EarlyStopRule, LiveReading, clearly_broken
from runner.capacity.objective import Objective

OBJECTIVE = Objective("p99", 50.0, 0.01)
RULE = EarlyStopRule(grace_s=2.0, latency_factor=3.0, consecutive=2, error_factor=5.0)


def readings(*percentiles: float | None, errors: int = 0, requests: int = 0) -> list[LiveReading]:
    """One reading a second from t=1 s, the last with `errors` of `requests`."""
    return [
        LiveReading(float(second), value, errors, requests)
        for second, value in enumerate(percentiles, start=1)
    ]


def test_nothing_read_yet_stops_nothing() -> None:
    assert clearly_broken(OBJECTIVE, []) is None


def test_readings_in_the_grace_period_are_ignored() -> None:
    assert clearly_broken(OBJECTIVE, readings(900.0), RULE) is None
    assert clearly_broken(OBJECTIVE, readings(900.0, 900.0), RULE) is None  # t=1 in grace


def test_two_readings_in_a_row_at_three_times_the_objective_stop_the_trial() -> None:
    why = clearly_broken(OBJECTIVE, readings(10.0, 150.0, 160.0), RULE)
    assert why is not None
    assert "p99 150, 160 ms in 2 readings in a row" in why and "3x the objective (50 ms)" in why


def test_one_spike_or_a_gap_does_not_stop_the_trial() -> None:
    assert clearly_broken(OBJECTIVE, readings(10.0, 10.0, 900.0), RULE) is None
    assert clearly_broken(OBJECTIVE, readings(10.0, 900.0, None, 900.0), RULE) is None
    assert clearly_broken(OBJECTIVE, readings(10.0, 900.0, 149.0), RULE) is None  # just below 3x


def test_errors_stop_the_trial_only_with_enough_requests() -> None:
    few = readings(10.0, 10.0, 10.0, errors=30, requests=99)
    assert clearly_broken(OBJECTIVE, few, RULE) is None
    enough = readings(10.0, 10.0, 10.0, errors=30, requests=500)
    why = clearly_broken(OBJECTIVE, enough, RULE)
    assert why is not None and "error rate 6.00% over 500 requests, above 5.00%" in why
    under = readings(10.0, 10.0, 10.0, errors=25, requests=500)  # exactly 5x: not above
    assert clearly_broken(OBJECTIVE, under, RULE) is None


def test_a_zero_error_limit_stops_at_the_first_error_once_enough_requests_came() -> None:
    strict = Objective("p99", 50.0, 0.0)
    assert clearly_broken(strict, readings(10.0, 10.0, errors=0, requests=500), RULE) is None
    assert clearly_broken(strict, readings(10.0, 10.0, errors=1, requests=500), RULE) is not None


def test_the_rule_text_states_its_thresholds() -> None:
    text = RULE.text(OBJECTIVE)
    assert "grace of 2 s" in text and "p99" in text and "3x the objective (150 ms)" in text
    assert "2 readings in a row" in text and "5x the limit (5.00%)" in text
