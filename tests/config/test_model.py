"""Validation of experiment configs: every mistake is named by its key path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.config.experiment import parse_duration, validate_experiment
from runner.errors import UserError

VALID: dict[str, Any] = {
    "name": "t",
    "targets": {"api": {"app": "targets.fastapi_app:app", "server": "uvicorn"}},
    "sweep": {"concurrency": {"start": 10, "stop": 30, "step": 10}},
    "load": {"duration": "2s", "warmup": "1s"},
    "scenario": {"name": "json", "requests": [{"path": "/json"}]},
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
        ("scenario.requests", [{"path": "json"}], "starting with '/'"),
        ("load.warmup", "-1s", "negative"),
        ("targets.api.port", 0, "targets.api.port"),
        ("targets.api.port", 70000, "targets.api.port"),
        ("targets.api", {"url": "http://127.0.0.1:1", "workers": 2}, "'workers' cannot apply"),
        ("targets.api", {"app": "targets.fastapi_app:app"}, "missing: 'server'"),
        ("targets.api", {"url": "127.0.0.1:8000"}, "http(s) URL"),
        ("targets.api", {"url": "http://127.0.0.1:1/?q=1"}, "without '?query'"),
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


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("targets.api.threads", 4, "apply to gunicorn only"),
        ("targets.api.worker_class", "sync", "apply to gunicorn only"),
        ("scenario.requests", [], "scenario.requests"),
        ("scenario.requests", [{"path": "/a", "weight": 0}], "scenario.requests.0.weight"),
        ("scenario.requests", [{"path": "/a", "body": "x", "json": {}}], "not both"),
        ("scenario.requests", [{"path": "/a"}, {"path": "/a?x=1"}], "distinct 'name'"),
        ("scenario.requests", [{"path": "/a", "method": "FETCH"}], "scenario.requests.0.method"),
        (
            "scenario.requests",
            [{"path": "/a", "expect": {"json_schema": {"type": "nonsense"}}}],
            "not a valid JSON Schema",
        ),
        ("load.script", "browse.py", "not a k6 script"),
        ("database", {"engine": "postgresql"}, "needs a 'dsn'"),
        ("database", {"engine": "sqlite", "dsn": "postgresql://u@h/db"}, "SQLite needs none"),
        ("database", {"engine": "postgresql", "dsn": "mysql://u@h/db"}, "postgresql://"),
    ],
)
def test_bad_scenario_and_settings_are_reported(path: str, value: Any, expected: str) -> None:
    assert expected in error_for(with_change(path, value))


def test_gunicorn_settings_must_fit_the_worker_class() -> None:
    gunicorn = {"app": "targets.django_project.wsgi:application", "server": "gunicorn"}
    threads_on_sync = with_change("targets.api", {**gunicorn, "threads": 8})
    assert "threads need worker_class 'gthread'" in error_for(threads_on_sync)
    loop_on_gunicorn = with_change("targets.api", {**gunicorn, "loop": "uvloop"})
    assert "UvicornH11Worker" in error_for(loop_on_gunicorn)
    bad_class = with_change("targets.api", {**gunicorn, "worker_class": "fast worker"})
    assert "neither a gunicorn worker class" in error_for(bad_class)
    uvicorn_worker = {**gunicorn, "worker_class": "uvicorn_worker.UvicornWorker", "keep_alive": 5}
    validate_experiment(with_change("targets.api", uvicorn_worker), "test")


def test_request_target_joins_path_and_query() -> None:
    data = with_change("scenario.requests", [{"path": "/io?x=1", "query": {"ms": 50, "y": "a b"}}])
    request = validate_experiment(data, "test").scenario.requests[0]
    assert request.target == "/io?x=1&ms=50&y=a+b"
    assert request.label == "/io"


def test_json_request_body_sets_content_type() -> None:
    data = with_change("scenario.requests", [{"path": "/a", "method": "POST", "json": {"k": 1}}])
    request = validate_experiment(data, "test").scenario.requests[0]
    assert request.body_text == '{"k": 1}'
    assert request.all_headers == {"Content-Type": "application/json"}


def test_dsn_password_never_reaches_the_dump() -> None:
    dsn = "postgresql://bench:hunter2@db.local:5432/hello"
    data = with_change("database", {"engine": "postgresql", "dsn": dsn})
    experiment = validate_experiment(data, "test")
    dumped = experiment.model_dump_json(by_alias=True)
    assert "hunter2" not in dumped and "bench:***@db.local:5432/hello" in dumped
    assert "hunter2" not in repr(experiment)
    assert experiment.database.dsn is not None
    assert experiment.database.dsn.get_secret_value() == dsn


def test_url_target_needs_no_app_or_server() -> None:
    experiment = validate_experiment(
        with_change("targets.api", {"url": "http://127.0.0.1:9/"}), "t"
    )
    target = experiment.targets["api"]
    assert target.external and target.url == "http://127.0.0.1:9" and target.app is None


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


def test_capacity_trials_preallocate_vus_for_three_times_the_objective() -> None:
    # k6 drops an iteration whenever no VU is free, whatever max_vus: a trial preallocates for
    # responses of 3x the objective (here 300 ms), so a drop is never k6 short of VUs while the
    # latency still meets the objective.
    data = copy.deepcopy(OPEN)
    data["load"] |= {"model": "capacity", "capacity": {"latency_ms": 100}}
    data["sweep"] = {}
    load = validate_experiment(data, "test").load
    assert load.open_vus(880) == (264, 880)
    assert load.open_vus(5000) == (1000, 1000)
    data["load"]["capacity"] = {"latency_ms": 20}  # 60 ms: the open model's 100 ms is the floor
    assert validate_experiment(data, "test").load.open_vus(880) == (88, 880)
