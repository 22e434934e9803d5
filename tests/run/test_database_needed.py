"""The database is created and seeded only for a run whose scenario reads it (or might)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.config.compose import experiment_from_config
from runner.run import database
from tests.conftest import compose_config, run_cli, shipped_experiments

# Shipped experiments whose scenario requests /db or /queries, or that run a custom script.
READS_DATABASE = {"db", "queries", "mix", "custom_script"}


@pytest.mark.parametrize("name", shipped_experiments())
def test_database_only_for_scenarios_that_read_it(name: str) -> None:
    experiment = experiment_from_config(compose_config(name))
    assert database.needed(experiment) == (name in READS_DATABASE)


def test_another_scenario_on_the_same_targets_needs_it() -> None:
    assert database.needed(experiment_from_config(compose_config("quickstart", "scenario=queries")))
    assert not database.needed(experiment_from_config(compose_config("db", "scenario=plaintext")))


@pytest.mark.slow
def test_no_database_file_for_a_json_run(quickstart_run: Path) -> None:
    assert not (quickstart_run / database.SQLITE_FILE).exists()
    assert json.loads((quickstart_run / "results.json").read_text())["failures"] == []


@pytest.mark.slow
def test_database_file_for_a_db_run(tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=quickstart",
        "scenario=db",
        "~targets.django_wsgi",
        "~targets.django_asgi",
        "sweep.concurrency.levels=[2]",
        "load.duration=1s",
        "load.warmup=0s",
        # One attempt: the subject is the database file, not measuring a disturbed step again.
        "retry.max_attempts=1",
        f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / database.SQLITE_FILE).stat().st_size > 0
    (step,) = json.loads((tmp_path / "results.json").read_text())["steps"]
    assert step["error_rate"] == 0
