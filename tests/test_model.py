"""Validation of experiment configs: every mistake is named by its key path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.errors import UserError
from runner.model import parse_duration, validate_experiment

VALID: dict[str, Any] = {
    "name": "t",
    "targets": {"api": {"app": "targets.fastapi_app:app", "server": "uvicorn"}},
    "sweep": {"concurrency": {"start": 10, "stop": 30, "step": 10}},
    "load": {"duration": "2s", "warmup": "1s", "endpoint": "/json"},
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


def error_for(data: dict[str, Any]) -> str:
    with pytest.raises(UserError) as caught:
        validate_experiment(data, "test")
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_valid_experiment_expands_levels() -> None:
    experiment = validate_experiment(VALID, "test")
    assert experiment.sweep.concurrency.values() == [10, 20, 30]
    assert experiment.load.duration_s == 2.0


def test_unknown_key_is_named_by_path() -> None:
    message = error_for(with_change("load.duratoin", "3s"))
    assert "'load.duratoin' is not a known key" in message


def test_unknown_target_key_is_named_by_path() -> None:
    message = error_for(with_change("targets.api.wokers", 2))
    assert "'targets.api.wokers' is not a known key" in message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("load.duration", "-5s", "load.duration"),
        ("load.duration", "0s", "longer than zero"),
        ("load.duration", "soon", "not a duration"),
        ("load.duration", 30, "has no unit"),
        ("load.duration", "500ms", "shorter than k6 allows"),
        ("load.warmup", "500ms", "shorter than k6 allows"),
        ("sweep.concurrency", {"start": 30, "stop": 10, "step": 10}, "must not be below start"),
        ("sweep.concurrency", {"start": 10, "stop": 30, "step": 0}, "sweep.concurrency.step"),
        ("sweep.concurrency", {"levels": []}, "at least one level"),
        ("targets", {}, "at least one target"),
        ("targets.api.app", "not an import path", "import path"),
        ("targets.api.server", "apache", "targets.api.server"),
        ("targets.api.workers", 0, "targets.api.workers"),
        ("repetitions", 0, "repetitions"),
        ("load.endpoint", "json", "starting with '/'"),
        ("load.model", "poisson", "load.model"),
        ("load.model", "open", "give 'sweep.rate' instead"),
        ("load.max_vus", 50, "'load.max_vus' applies to the open load model only"),
        ("sweep", {"rate": {"levels": [100]}}, "'sweep.rate' is for the open load model"),
        ("sweep", {}, "'sweep.concurrency' is required"),
        ("sampler", {"memory_interval": 0}, "sampler.memory_interval"),
    ],
)
def test_bad_values_are_reported(path: str, value: Any, expected: str) -> None:
    assert expected in error_for(with_change(path, value))


def test_several_problems_in_one_message() -> None:
    data = with_change("load.duration", "0s")
    data["repetitions"] = -1
    message = error_for(data)
    assert "load.duration" in message and "repetitions" in message


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


OPEN: dict[str, Any] = {
    **VALID,
    "sweep": {"rate": {"levels": [5, 100, 5000]}},
    "load": {**VALID["load"], "model": "open"},
}


def test_open_model_levels_are_rates_with_vu_defaults() -> None:
    experiment = validate_experiment(OPEN, "test")
    assert experiment.levels() == [5, 100, 5000]
    # (preallocated, maximum): one VU per request per second, between 10 and 1000.
    assert experiment.load.open_vus(5) == (10, 10)
    assert experiment.load.open_vus(100) == (10, 100)
    assert experiment.load.open_vus(5000) == (500, 1000)


def test_open_model_vu_settings() -> None:
    data = copy.deepcopy(OPEN)
    data["load"] |= {"max_vus": 20}
    assert validate_experiment(data, "test").load.open_vus(5000) == (20, 20)
    data["load"] |= {"preallocated_vus": 30}
    assert "must not exceed 'load.max_vus' (20)" in error_for(data)


def test_open_model_with_concurrency_levels_says_how_to_fix() -> None:
    data = copy.deepcopy(OPEN)
    data["sweep"] = {"concurrency": {"levels": [10]}}
    message = error_for(data)
    assert "'sweep.concurrency' is for the closed load model" in message
    assert "'~sweep.concurrency' '+sweep.rate.levels=[..]'" in message
    assert "(top level)" not in message
