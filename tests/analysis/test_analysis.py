"""Verdicts follow the data and their stated rules (stored results built in memory)."""

from __future__ import annotations

import re

from runner.analysis import analyze, spread
from tests.factories import record, step

NOISY = [1000.0, 1030.0, 985.0]


def test_identical_targets_have_no_significant_difference() -> None:
    steps = [step(t, 10, rps, rep) for t in ("a", "b") for rep, rps in enumerate(NOISY, 1)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target is None
    assert winner.text.startswith("no significant difference")


def test_clear_lead_with_repetitions_names_a_winner_with_its_p_value() -> None:
    steps = [step("a", 10, rps, rep) for rep, rps in enumerate(NOISY, 1)]
    steps += [step("b", 10, rps * 2, rep) for rep, rps in enumerate(NOISY, 1)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target == "b"
    assert re.search(r"\(p[=<]0\.\d{3}\)$", winner.text) and "provisional" not in winner.text


def test_single_run_winner_is_provisional() -> None:
    winner = analyze(record([step("a", 10, 1000), step("b", 10, 1500)])).winners[10]
    assert winner.target == "b" and "provisional" in winner.text


def test_small_lead_with_single_runs_is_no_clear_difference() -> None:
    winner = analyze(record([step("a", 10, 1000), step("b", 10, 1020)])).winners[10]
    assert winner.target is None and winner.text.startswith("no clear difference")


def test_errors_past_threshold_make_the_breaking_point() -> None:
    steps = [
        step("a", 10, 1000),
        step("a", 20, 1000, error_rate=0.005),
        step("a", 30, 1000, error_rate=0.05),
    ]
    verdict = analyze(record(steps)).breaking_points["a"]
    assert verdict.level == 30
    assert "error rate 5.00% > 1.00%" in verdict.text


def test_nothing_breaks_says_not_reached() -> None:
    steps = [step("a", level, 1000 + level) for level in (10, 20, 30)]
    analysis = analyze(record(steps))
    assert analysis.breaking_points["a"].level is None
    assert analysis.breaking_points["a"].text == "not reached within the sweep (up to 30)"


def test_latency_objective_breaks_when_set() -> None:
    steps = [step("a", 10, 1000, p95=50), step("a", 20, 1000, p95=150)]
    verdict = analyze(record(steps, report={"latency_slo_ms": 100})).breaking_points["a"]
    assert verdict.level == 20 and "objective 100 ms" in verdict.text


def test_throughput_drop_within_noise_is_not_a_break() -> None:
    steps = [step("a", 10, rps, rep) for rep, rps in enumerate([1000, 1300, 800], 1)]
    steps += [step("a", 20, rps, rep) for rep, rps in enumerate([850, 1200, 700], 1)]
    assert analyze(record(steps)).breaking_points["a"].level is None


def test_saturation_is_where_throughput_flattens_and_latency_rises() -> None:
    steps = [step("a", 10, 1000, p95=5), step("a", 20, 1900, p95=6), step("a", 30, 1950, p95=12)]
    verdict = analyze(record(steps)).saturation["a"]
    assert verdict.level == 20


def test_spread_has_an_interval_only_from_three_runs() -> None:
    assert spread([1.0, 2.0], 0.95).ci_low is None
    three = spread([10.0, 12.0, 11.0], 0.95)
    assert three.ci_low is not None and three.ci_high is not None
    assert three.ci_low < three.mean < three.ci_high
    assert (three.median, three.min, three.max) == (11.0, 10.0, 12.0)


def test_every_finding_carries_a_number() -> None:
    steps = [
        step(t, level, rps * level) for t, rps in (("a", 100), ("b", 50)) for level in (10, 20)
    ]
    analysis = analyze(record(steps))
    for sentence in analysis.findings + analysis.recommendations:
        assert any(ch.isdigit() for ch in sentence), sentence
    assert any(
        line.startswith("For peak successful throughput, prefer a")
        for line in analysis.recommendations
    )


def test_failed_requests_do_not_count_towards_a_win() -> None:
    # b answers faster, but half of its answers are errors: a's successful throughput is higher.
    steps = [step("a", 10, 1000), step("b", 10, 1500, error_rate=0.5)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target == "a"


def test_open_model_winner_is_the_lower_latency() -> None:
    steps = [step("a", 100, 100, p95=20.0), step("b", 100, 100, p95=5.0)]
    analysis = analyze(record(steps, load_model="open"))
    assert analysis.winners[100].target == "b"
    assert "lowest median p95 latency" in analysis.rules["winner"]
