"""runner.ab's sequential decision on simulated pair sequences (no server, no k6)."""

from __future__ import annotations

import numpy as np
import pytest

from runner.ab.decision import EXIT_STATUS, Pair, decide
from runner.ab.load import BlockFigures
from runner.ab.settings import AbSettings, parse_budget, parse_margin
from runner.errors import UserError

SETTINGS = AbSettings(baseline="a:app", candidate="b:app")  # 5 min budget: 60 pairs, 57 looks


def block(rps: float, latency_ms: float) -> BlockFigures:
    percentiles = {"p50": latency_ms, "p95": latency_ms * 1.5, "p99": latency_ms * 2.0}
    return BlockFigures(2.0, round(rps * 2), 0, latency_ms, percentiles)  # type: ignore[arg-type]


def pair(index: int, slowdown: float, rng: np.random.Generator, spread: float) -> Pair:
    """A pair whose candidate does `slowdown` more work: throughput / (1 + slowdown), latencies
    x (1 + slowdown), each metric with its own noise (the drift shared by both halves)."""
    drift = rng.uniform(0.6, 1.0)  # the CPU's speed, the same for both halves
    noise = rng.normal(0, spread, 4)
    base = block(1000 * drift, 10 / drift)
    factor = 1 + slowdown
    cand = BlockFigures(
        2.0,
        round(2000 * drift / factor * np.exp(noise[0])),
        0,
        10 / drift * factor,
        {
            name: value * factor * float(np.exp(noise[i + 1]))
            for i, (name, value) in enumerate(base.percentiles.items())
            if value is not None
        },
    )
    return Pair(index, "baseline", base, cand)


def run_to_decision(slowdown: float, seed: int, spread: float = 0.005) -> tuple[str, int]:
    rng = np.random.default_rng(seed)
    pairs: list[Pair] = []
    for index in range(SETTINGS.max_pairs):
        pairs.append(pair(index, slowdown, rng, spread))
        verdict = decide(pairs, SETTINGS).verdict
        if verdict != "continue":
            return verdict, len(pairs)
    return "inconclusive", len(pairs)


def test_the_same_app_twice_is_never_called_slower_and_is_called_the_same() -> None:
    verdicts = [run_to_decision(0.0, seed)[0] for seed in range(60)]
    assert "slower" not in verdicts
    assert verdicts.count("same") >= 55


def test_a_false_alarm_needs_more_than_noisy_pairs() -> None:
    # Tails 4x noisier than throughput (2%, a p99 from 2 s blocks): still no false alarm.
    verdicts = [run_to_decision(0.0, seed, spread=0.02)[0] for seed in range(40)]
    assert verdicts.count("slower") + verdicts.count("faster") <= 2


def test_ten_percent_more_work_is_called_slower_within_a_dozen_pairs() -> None:
    for seed in range(10):
        verdict, pairs = run_to_decision(0.10, seed)
        assert verdict == "slower"
        assert pairs <= 12


def test_a_change_inside_the_margin_is_never_called_slower() -> None:
    verdicts = [run_to_decision(0.005, seed)[0] for seed in range(20)]
    assert "slower" not in verdicts


def test_two_stray_pairs_do_not_carry_the_estimate() -> None:
    rng = np.random.default_rng(7)
    pairs = [pair(i, 0.10, rng, 0.005) for i in range(10)]
    # A hog on the servers' core that starts and ends inside a pair: that half is 1.65x slower.
    for index in (3, 7):
        stray = pairs[index]
        slow = block(stray.baseline.ok_rps / 1.65, stray.baseline.avg_ms * 1.65)
        pairs[index] = Pair(index, "baseline", slow, stray.candidate)
    decision = decide(pairs, SETTINGS)
    assert decision.verdict == "slower"
    assert 0.88 < decision.metrics["ok_rps"].ratio < 0.93


def test_no_decision_before_four_pairs() -> None:
    rng = np.random.default_rng(1)
    pairs = [pair(i, 0.5, rng, 0.005) for i in range(3)]
    assert decide(pairs, SETTINGS).verdict == "continue"


def test_exit_statuses_are_the_compare_gates() -> None:
    assert [EXIT_STATUS[v] for v in ("same", "faster", "slower", "inconclusive", "refused")] == [
        0,
        0,
        1,
        3,
        2,
    ]


def test_the_looks_split_alpha() -> None:
    assert SETTINGS.looks == 57
    assert SETTINGS.rule.alpha == pytest.approx(0.05 / 4 / 57)


@pytest.mark.parametrize(("text", "seconds"), [("5m", 300), ("90s", 90), ("45", 45), ("1h", 3600)])
def test_budgets(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "-1m", "0"])
def test_bad_budgets_are_refused(text: str) -> None:
    with pytest.raises(UserError):
        parse_budget(text)


def test_margins() -> None:
    assert parse_margin("2%") == pytest.approx(0.02)
    assert parse_margin("0.01") == pytest.approx(0.01)
    with pytest.raises(UserError):
        parse_margin("80%")


def test_the_settings_wait_for_as_many_pairs_as_the_rule() -> None:
    from runner.ab import settings
    from runner.analysis import settling

    assert settings.MIN_PAIRS == settling.MIN_PAIRS
