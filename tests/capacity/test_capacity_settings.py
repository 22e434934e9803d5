"""`CapacitySettings`: defaults, and every mistake refused with its reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from runner.capacity.early_stop import EarlyStopRule
from runner.capacity.objective import Objective
from runner.capacity.settings import early_stop_rule_of, objective_of, search_config_of
from runner.config.experiment.capacity import CapacitySettings


def test_only_the_latency_objective_is_required_and_the_defaults_fit_together() -> None:
    settings = CapacitySettings.model_validate({"latency_ms": 50})
    assert objective_of(settings) == Objective("p99", 50.0, 0.01)
    assert early_stop_rule_of(settings) == EarlyStopRule()
    config = search_config_of(settings, trial_overhead_s=2.0)
    assert (config.budget_s, config.short_s, config.long_s, config.confirmation_s) == (
        300,
        10,
        20,
        60,
    )
    assert (config.start_rate, config.min_rate, config.max_rate) == (50, 1, 5000)
    assert config.precision == 0.05 and config.trial_overhead_s == 2.0


def test_every_field_is_described() -> None:
    assert all(field.description for field in CapacitySettings.model_fields.values())


def test_early_stop_can_be_turned_off() -> None:
    settings = CapacitySettings.model_validate({"latency_ms": 50, "early_stop": False})
    assert early_stop_rule_of(settings) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "latency_ms\n  Field required"),
        ({"latency_ms": 50, "lattency": 1}, "Extra inputs are not permitted"),
        ({"latency_ms": 50, "percentile": "p98"}, "percentile"),
        ({"latency_ms": 0}, "greater than 0"),
        ({"latency_ms": 50, "budget": 300}, "has no unit"),
        ({"latency_ms": 50, "short_trial": "500ms"}, "shorter than k6 allows"),
        ({"latency_ms": 50, "start_rate": 10, "min_rate": 20}, "min_rate (20) <= start_rate"),
        ({"latency_ms": 50, "start_rate": 900, "max_rate": 500}, "<= max_rate (500)"),
        ({"latency_ms": 50, "short_trial": "40s"}, "is longer than long_trial"),
        ({"latency_ms": 50, "budget": "1m"}, "leaves no room"),
        ({"latency_ms": 50, "precision": 0.9}, "less than or equal to 0.5"),
    ],
)
def test_mistakes_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CapacitySettings.model_validate(change)
    assert message in str(caught.value)
