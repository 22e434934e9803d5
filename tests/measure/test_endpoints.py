"""Every endpoint on every target, on real servers, against the database the runner seeds.

One server per target for the whole module. The checks are the scenario files' own (the ones
the runner verifies before load), plus what they cannot say: the rows really come from the
seeded file, query parameters are clamped alike, and deterministic bodies are byte-identical.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from runner.config.compose import EXPERIMENTS_DIR
from runner.config.experiment import Database, Request, Scenario, Target
from runner.measure.server import RunningServer, running_server, send, verify_response
from runner.run import database
from targets.payloads import DATABASE_URL_ENV, WORLD_ROWS

TARGETS = {
    "fastapi": Target(app="targets.fastapi_app:app", server="uvicorn"),
    "django_wsgi": Target(app="targets.django_project.wsgi:application", server="gunicorn"),
    "django_asgi": Target(app="targets.django_project.asgi:application", server="uvicorn"),
    "django_asgi_gunicorn": Target(
        app="targets.django_project.asgi:application",
        server="gunicorn",
        worker_class="uvicorn_worker.UvicornWorker",
    ),
}


def shipped_scenarios() -> dict[str, Scenario]:
    files = sorted((EXPERIMENTS_DIR / "scenario").glob("*.yaml"))
    return {
        path.stem: Scenario.model_validate(
            OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        )
        for path in files
    }


SCENARIO_REQUESTS = [
    pytest.param(request, id=f"{name}-{request.label}")
    for name, scenario in shipped_scenarios().items()
    for request in scenario.requests
]


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    run_dir = tmp_path_factory.mktemp("run")
    env = database.prepare(Database(), run_dir)
    return run_dir / database.SQLITE_FILE, env


@pytest.fixture(scope="module", params=list(TARGETS))
def server(
    request: pytest.FixtureRequest,
    world_db: tuple[Path, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    name = request.param
    logs = tmp_path_factory.mktemp(f"logs-{name}")
    checks = [Request(path="/json")]
    with running_server(name, TARGETS[name], logs, [0], checks, 30, 5, env=world_db[1]) as up:
        yield up


def get_json(server: RunningServer, path: str) -> object:
    answer = send(server.port, Request(path=path), timeout_s=10)
    assert answer.status == 200, answer.body
    assert answer.content_type == "application/json"
    return json.loads(answer.body)


def file_value(db_file: Path, row_id: int) -> int:
    with sqlite3.connect(db_file) as connection:
        row = connection.execute("SELECT randomnumber FROM world WHERE id = ?", (row_id,))
        return int(row.fetchone()[0])


def test_seeded_file_holds_the_world_table(world_db: tuple[Path, dict[str, str]]) -> None:
    db_file, env = world_db
    assert env == {DATABASE_URL_ENV: f"sqlite:///{db_file}"}
    with sqlite3.connect(db_file) as connection:
        count, low, high = connection.execute(
            "SELECT count(*), min(id), max(id) FROM world"
        ).fetchone()
    assert (count, low, high) == (WORLD_ROWS, 1, WORLD_ROWS)


@pytest.mark.parametrize("check", SCENARIO_REQUESTS)
@pytest.mark.slow
def test_scenario_check_passes(server: RunningServer, check: Request) -> None:
    """The runner's own pre-load check of every shipped scenario request."""
    verify_response(server, check)


@pytest.mark.slow
def test_db_row_is_the_one_in_the_seeded_file(
    server: RunningServer, world_db: tuple[Path, dict[str, str]]
) -> None:
    rows = [get_json(server, "/db") for _ in range(20)]
    for row in rows:
        assert isinstance(row, dict) and set(row) == {"id", "randomNumber"}
        assert row["randomNumber"] == file_value(world_db[0], row["id"])
    assert len({row["id"] for row in rows}) > 1  # random rows, not one fixed row


@pytest.mark.parametrize(
    ("query", "count"), [("n=3", 3), ("n=0", 1), ("n=-4", 1), ("n=foo", 1), ("", 1), ("n=900", 500)]
)
@pytest.mark.slow
def test_queries_are_clamped_and_come_from_the_file(
    server: RunningServer, world_db: tuple[Path, dict[str, str]], query: str, count: int
) -> None:
    rows = get_json(server, f"/queries?{query}")
    assert isinstance(rows, list) and len(rows) == count
    for row in rows[:25]:
        assert row["randomNumber"] == file_value(world_db[0], row["id"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/plaintext", b"Hello, World!"),
        ("/json", b'{"message":"Hello, World!"}'),
        ("/io?ms=1", b'{"slept_ms":1}'),
        ("/io?ms=-3", b'{"slept_ms":0}'),
        ("/cpu?n=10", b'{"n":10,"result":285}'),
        ("/cpu?n=0", b'{"n":1,"result":0}'),
    ],
)
@pytest.mark.slow
def test_deterministic_bodies_are_byte_identical(
    server: RunningServer, path: str, body: bytes
) -> None:
    """Each target sends exactly these bytes, so no target pays for a longer response."""
    answer = send(server.port, Request(path=path), timeout_s=10)
    assert (answer.status, answer.body) == (200, body)
    expected_type = "text/plain; charset=utf-8" if path == "/plaintext" else "application/json"
    assert answer.content_type == expected_type


@pytest.mark.slow
def test_io_waits_at_least_what_it_was_asked(server: RunningServer) -> None:
    # A lower bound only: a slow machine can never break it, a view that skips the wait does.
    started = time.monotonic()
    assert get_json(server, "/io?ms=200") == {"slept_ms": 200}
    assert time.monotonic() - started >= 0.2


@pytest.mark.slow
def test_cpu_result_is_the_sum_of_squares(server: RunningServer) -> None:
    n = 12_345
    answer = get_json(server, f"/cpu?n={n}")
    # The loop adds i*i modulo a prime; the closed form of the sum says what it must give.
    assert answer == {"n": n, "result": (n - 1) * n * (2 * n - 1) // 6 % 1_000_003}


@pytest.mark.slow
def test_unknown_path_is_404(server: RunningServer) -> None:
    assert send(server.port, Request(path="/nope"), timeout_s=10).status == 404
