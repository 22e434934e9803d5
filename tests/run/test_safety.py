"""Safety helpers: secrets masked, load destinations decided before anything starts.

No network: every host here is an IP literal or `localhost`, resolved from the hosts file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from runner.config.experiment import validate_experiment
from runner.errors import UserError
from runner.records.redact import redact_data, redact_file, redact_text
from runner.records.store import ResultStore, check_run_dir
from runner.run import safety

DSN = "postgresql://bench:pw12@127.0.0.1:5432/bench"
BASE: dict[str, Any] = {
    "name": "t",
    "targets": {"api": {"app": "targets.fastapi_app:app", "server": "uvicorn"}},
    "sweep": {"concurrency": {"levels": [1]}},
    "load": {"duration": "1s"},
    "scenario": {"name": "json", "requests": [{"path": "/json"}]},
}


def experiment_with(targets: dict[str, Any], **top: Any):  # type: ignore[no-untyped-def]
    data = copy.deepcopy(BASE)
    data["targets"].update(targets)
    data.update(top)
    return validate_experiment(data, "test")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://bench:pw1@db:5432/x", "postgresql://bench:***@db:5432/x"),
        ("mysql+pymysql://u:p@ss@h/db", "mysql+pymysql://u:***@h/db"),
        ("redis://:pw2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("host=db user=u password=pw3 dbname=x", "host=db user=u password=*** dbname=x"),
        ("DB_PASSWORD=pw4 next", "DB_PASSWORD=*** next"),
        ("password: 'pw 5'", "password: ***"),
        ("GET /x?token=pw6&page=2", "GET /x?token=***&page=2"),
    ],
)
def test_passwords_are_masked(text: str, masked: str) -> None:
    assert redact_text(text) == masked
    assert redact_text(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:8000/json",
        "mysql://user@host/db",
        "mail me at bench@example.org",
        "p99 12.5 ms at c=10: 1,234 RPS",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_data_is_masked_by_value_and_by_key_name() -> None:
    data = {
        "env": {"DATABASE_URL": "postgres://a:pw7@h/d", "SECRET_KEY": "pw8", "WORKERS": "2"},
        "overrides": ["+db.dsn=postgres://a:pw9@h/d"],
        "n": 3,
    }
    masked = redact_data(data)
    assert masked["env"] == {
        "DATABASE_URL": "postgres://a:***@h/d",
        "SECRET_KEY": "***",
        "WORKERS": "2",
    }
    assert masked["overrides"] == ["+db.dsn=postgres://a:***@h/d"] and masked["n"] == 3
    assert data["env"]["SECRET_KEY"] == "pw8"  # the input is not changed


def test_file_is_masked_in_place(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("start\nconnecting to postgresql://u:pw10@db/x\n")
    redact_file(log)
    assert log.read_text() == "start\nconnecting to postgresql://u:***@db/x\n"


def test_started_targets_always_load_loopback() -> None:
    (destination,) = safety.load_destinations(experiment_with({}))
    assert destination["loopback"] and destination["started_by_runner"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:80"]
)
def test_loopback_url_targets_are_accepted(url: str) -> None:
    destinations = safety.load_destinations(experiment_with({"ext": {"url": url}}))
    external = destinations[-1]
    assert external["loopback"] and not external["started_by_runner"]


def test_remote_url_target_is_refused_by_default() -> None:
    experiment = experiment_with({"ext": {"url": "http://user:pw11@192.0.2.10:8000"}})
    with pytest.raises(UserError) as caught:
        safety.load_destinations(experiment)
    message = str(caught.value)
    assert "'targets.ext.url'" in message and "allow_remote: true" in message
    assert "pw11" not in message


def test_remote_url_target_is_recorded_when_allowed() -> None:
    experiment = experiment_with({"ext": {"url": "http://192.0.2.10:8000"}}, allow_remote=True)
    external = safety.load_destinations(experiment)[-1]
    assert external["loopback"] is False and external["addresses"] == ["192.0.2.10"]


def test_run_directory_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UserError, match="cannot be written"):
        check_run_dir(tmp_path / "a-file" / "run", min_free_mib=0)


def test_run_directory_without_enough_space(tmp_path: Path) -> None:
    check_run_dir(tmp_path, min_free_mib=1)
    with pytest.raises(UserError, match=r"at least 1,000,000,000 MiB \(runner.min_free_mib\)"):
        check_run_dir(tmp_path, min_free_mib=10**9)


def test_a_run_with_a_secret_in_its_config_can_be_resumed(tmp_path: Path) -> None:
    """run.json holds the masked config; resuming compares it with the masked current one."""
    experiment = experiment_with(
        {"api": {"app": "targets.fastapi_app:app", "server": "uvicorn", "env": {"DSN": DSN}}}
    )
    composed = experiment.model_dump(mode="json", by_alias=True)
    store = ResultStore(tmp_path)
    store.start(composed, {"overrides": []})
    assert "pw12" not in (tmp_path / "run.json").read_text()
    assert store.resume(composed) == set()
