"""The settling rule (runner.analysis.settling) on synthetic samples."""

from __future__ import annotations

import random

import pytest

from runner.analysis.settling import SettlingRule, settle

RULE = SettlingRule(min_effect=0.05, confidence=0.95, margin=0.05)
AUTO = SettlingRule(min_effect=0.05, confidence=0.95, margin=0.05, looks=8)  # rounds 3 to 10


def noisy(centre: float, n: int, rng: random.Random, spread: float = 0.03) -> list[float]:
    return [centre * rng.lognormvariate(0, spread) for _ in range(n)]


def test_3x_apart_settles_on_a_lead_at_three_rounds() -> None:
    rng = random.Random(1)
    decided = settle(noisy(3000, 3, rng), noisy(1000, 3, rng), AUTO)
    assert decided.state == "lead" and decided.settled
    assert decided.text.startswith("lead +") and "p" in decided.text
    assert decided.ratio == pytest.approx(3, rel=0.1)


def test_lower_is_better_turns_the_ratio_round() -> None:
    decided = settle([10.0, 10.2, 9.9], [30.0, 29.0, 31.0], RULE, higher_is_better=False)
    assert decided.state == "lead" and decided.ratio > 2.5


def how_twins_stop(spread: float, pairs: int = 1000) -> dict[str, int]:
    """Twins checked after rounds 3 to 10 as `repetitions: auto` does: how each pair stopped."""
    rng = random.Random(2)
    stopped = {"lead": 0, "equivalent": 0, "open": 0}
    for _ in range(pairs):
        a, b = noisy(1000, 10, rng, spread), noisy(1000, 10, rng, spread)
        for rounds in range(3, 11):
            decided = settle(a[:rounds], b[:rounds], AUTO)
            if decided.settled:
                break
        stopped[decided.state] += 1
    return stopped


def test_identical_twins_almost_never_lead() -> None:
    """Twins, 1,000 pairs: with 3% noise 3 of them passed for a lead (0.3%; 2% with one test
    per round at 0.05: the looks' split matters), and nine in ten settled as equivalent."""
    stopped = how_twins_stop(0.03)
    assert stopped["lead"] <= 5
    assert stopped["equivalent"] >= 850


def test_equivalence_needs_the_interval_inside_the_margin() -> None:
    decided = settle([1000, 1004, 998, 1001], [1001, 999, 1003, 1000], RULE)
    assert decided.state == "equivalent"
    assert decided.text.startswith("equivalent within ±5%: ratio 1.00 [")
    wide = settle([1000, 1200, 850], [1010, 880, 1150], RULE)
    assert wide.state == "open" and wide.text.startswith("open: lead")


def test_one_value_a_side_is_refused() -> None:
    with pytest.raises(ValueError, match="two or more"):
        settle([1.0], [1.0, 2.0], RULE)
