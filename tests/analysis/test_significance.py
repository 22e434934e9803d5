"""Regression decisions from repetitions: false alarms held at alpha, real slowdowns found."""

from __future__ import annotations

import numpy as np
import pytest

from runner.analysis.significance import (
    Comparison,
    Key,
    SignificanceSettings,
    compare_repetitions,
    confidence_text,
    exit_status,
    holm_adjust,
    overall_decision,
    welch_estimate,
)

Values = dict[Key, list[float]]
BASE = {"successful_rps": 5_000.0, "p95_ms": 5.0, "p99_ms": 9.0}


def simulated_runs(
    rng: np.random.Generator,
    noise: float,
    slowdown: float = 1.0,
    repetitions: int = 3,
    targets: int = 3,
    levels: int = 4,
) -> tuple[Values, Values]:
    """Two runs of the same experiment with multiplicative (log-normal) noise per repetition;
    the candidate's work per request is `slowdown` times the baseline's."""
    baseline: Values = {}
    candidate: Values = {}
    for target in (f"target{t}" for t in range(targets)):
        for level in range(1, levels + 1):
            for metric, value in BASE.items():
                factor = 1 / slowdown if metric == "successful_rps" else slowdown
                key = (target, level * 10, metric)
                baseline[key] = list(value * np.exp(rng.normal(0, noise, repetitions)))
                candidate[key] = list(value * factor * np.exp(rng.normal(0, noise, repetitions)))
            baseline[(target, level * 10, "error_rate")] = [0.0] * repetitions
            candidate[(target, level * 10, "error_rate")] = [0.0] * repetitions
    return baseline, candidate


def decisions(comparisons: list[Comparison]) -> set[str]:
    return {c.decision for c in comparisons}


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []


def test_welch_on_logs_estimates_the_ratio() -> None:
    estimate = welch_estimate([100.0, 102.0, 98.0], [130.0, 132.6, 127.4], True, 0.05)
    assert estimate.change == pytest.approx(0.30, abs=0.002)
    assert estimate.low < 0.30 < estimate.high
    assert estimate.p_value < 0.001


@pytest.mark.parametrize(
    ("a", "b"), [([1.0, 2.0, 4.0], [3.0, 5.0, 4.5, 6.0]), ([7.0, 7.5], [1.0, 9.0])]
)
def test_welch_is_scipys_welch_t_test(a: list[float], b: list[float]) -> None:
    """The p-value and interval are those of scipy.stats' Welch test (computed from the t
    distribution's functions directly, which loads in a tenth of the time)."""
    from scipy import stats

    reference = stats.ttest_ind(b, a, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    estimate = welch_estimate(a, b, False, 0.05)
    assert estimate.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert (estimate.low, estimate.high) == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize("threshold", [0.05, 1e-9])
def test_identical_runs_almost_never_give_a_regression(threshold: float) -> None:
    """200 A/A compares of 3 targets x 4 levels x 4 metrics at 3% noise. With a negligible
    threshold only Holm stands between 48 tests and a false alarm in most compares."""
    rng = np.random.default_rng(12)
    settings = SignificanceSettings(threshold=threshold)
    families = 200
    false_alarms = sum(
        bool(
            decisions(compare_repetitions(*simulated_runs(rng, 0.03), settings))
            & {"regression", "improvement"}
        )
        for _ in range(families)
    )
    assert false_alarms / families <= settings.alpha + 0.03


@pytest.mark.parametrize(("noise", "cells_found"), [(0.02, 0.95), (0.05, 0.5)])
def test_a_thirty_percent_slowdown_is_a_regression_with_three_repetitions(
    noise: float, cells_found: float
) -> None:
    """One target at two levels, 3 repetitions a side: the compare flags the slowdown nearly
    always; at 2% noise nearly every throughput and latency cell on its own."""
    rng = np.random.default_rng(30)
    runs, flagged, cells, found = 50, 0, 0, 0
    for _ in range(runs):
        comparisons = compare_repetitions(*simulated_runs(rng, noise, 1.3, targets=1, levels=2))
        flagged += overall_decision(comparisons) == "regression"
        assert "improvement" not in decisions(comparisons)
        measured = [c for c in comparisons if c.metric != "error_rate"]
        cells += len(measured)
        found += sum(c.decision == "regression" for c in measured)
    assert flagged / runs >= 0.95
    assert found / cells >= cells_found


def test_two_repetitions_are_inconclusive_however_large_the_change() -> None:
    comparisons = compare_repetitions(
        *simulated_runs(np.random.default_rng(2), 0.02, 1.5, repetitions=2)
    )
    assert decisions(comparisons) == {"inconclusive"}
    assert "2 and 2 repetitions; a decision needs 3 a side" in comparisons[0].reason
    assert comparisons[0].estimate is None
    assert exit_status(comparisons) == 3


def test_quiet_identical_runs_with_many_repetitions_are_no_change() -> None:
    comparisons = compare_repetitions(
        *simulated_runs(np.random.default_rng(3), 0.01, repetitions=10, targets=1, levels=1)
    )
    assert decisions(comparisons) == {"no change"}
    assert exit_status(comparisons) == 0
    assert "within +-5.0%" in comparisons[-1].reason


def test_noise_wider_than_the_threshold_is_inconclusive_not_a_pass() -> None:
    baseline: Values = {("t", 10, "p95_ms"): [5.0, 5.6, 4.6]}
    candidate: Values = {("t", 10, "p95_ms"): [5.3, 4.7, 5.9]}
    [comparison] = compare_repetitions(baseline, candidate)
    assert comparison.decision == "inconclusive"
    assert "noise wider than the threshold" in comparison.reason
    assert exit_status([comparison]) == 3


def test_error_rate_is_compared_as_a_difference_and_can_regress_from_zero() -> None:
    baseline: Values = {("t", 10, "error_rate"): [0.0, 0.0, 0.0]}
    candidate: Values = {("t", 10, "error_rate"): [0.04, 0.05, 0.06]}
    [comparison] = compare_repetitions(baseline, candidate)
    assert comparison.decision == "regression"
    assert comparison.ratio_of_medians is None
    assert comparison.estimate is not None
    assert comparison.estimate.change == pytest.approx(0.05)
    assert "+5.00 pt" in comparison.reason


def test_throughput_up_is_an_improvement_and_ratio_of_medians_is_reported() -> None:
    baseline: Values = {("t", 10, "successful_rps"): [1_000.0, 1_010.0, 990.0]}
    candidate: Values = {("t", 10, "successful_rps"): [1_200.0, 1_212.0, 1_188.0]}
    [comparison] = compare_repetitions(baseline, candidate)
    assert comparison.decision == "improvement"
    assert comparison.ratio_of_medians == pytest.approx(1.2)
    assert exit_status([comparison]) == 0


def test_missing_cells_and_unknown_metrics_are_refused() -> None:
    baseline: Values = {("t", 10, "p95_ms"): [1.0, 1.0, 1.0], ("t", 20, "p95_ms"): [1.0] * 3}
    with pytest.raises(ValueError, match="lacks 1 comparison"):
        compare_repetitions(baseline, {("t", 10, "p95_ms"): [1.0] * 3})
    with pytest.raises(ValueError, match="unknown metric"):
        compare_repetitions({("t", 10, "p50"): [1.0] * 3}, {("t", 10, "p50"): [1.0] * 3})


def test_a_regression_anywhere_decides_the_whole_compare() -> None:
    baseline: Values = {
        ("t", 10, "p95_ms"): [5.0, 5.05, 4.95],
        ("t", 20, "p95_ms"): [5.0, 5.6, 4.6],
    }
    candidate: Values = {
        ("t", 10, "p95_ms"): [6.5, 6.55, 6.45],
        ("t", 20, "p95_ms"): [5.3, 4.7, 5.9],
    }
    comparisons = compare_repetitions(baseline, candidate)
    assert [c.decision for c in comparisons] == ["regression", "inconclusive"]
    assert overall_decision(comparisons) == "regression"
    assert exit_status(comparisons) == 1


def test_the_confidence_level_is_never_rounded_up_to_certainty() -> None:
    assert [confidence_text(a) for a in (0.05, 0.01, 0.001)] == ["95%", "99%", "99.9%"]
