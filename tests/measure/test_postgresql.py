"""The db and queries endpoints against a real PostgreSQL server, started for this module.

A throwaway cluster (initdb in a temporary directory, trust authentication, loopback only) is
started with the server binaries of Debian's `postgresql` package, which .ci/run installs.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from runner.config.experiment import Database, Request, Target
from runner.measure import launch
from runner.measure.ports import free_port
from runner.measure.server import running_server, send, verify_response
from runner.run import database
from targets.payloads import WORLD_ROWS
from tests.measure.test_endpoints import shipped_scenarios

# Every test here starts servers and k6 (or a database): see tests/conftest.py.
pytestmark = pytest.mark.slow

TARGETS = {
    "fastapi": Target(app="targets.fastapi_app:app", server="uvicorn"),
    "django_wsgi": Target(app="targets.django_project.wsgi:application", server="gunicorn"),
    "django_asgi": Target(app="targets.django_project.asgi:application", server="uvicorn"),
}


# A superuser `bench`, no password on loopback: a throwaway cluster only the tests use.
INITDB_OPTIONS = ["-U", "bench", "--auth=trust", "--no-sync"]


def server_binaries() -> Path | None:
    found = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None
    )
    return Path(found).resolve().parent if found else None


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the package's `postgres` user.

    setpriv sets the parent-death signal again after the user change (which clears it), so the
    server still cannot outlive the tests.
    """
    if os.geteuid() != 0:
        return []
    switch = ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--pdeathsig=INT"]
    return ["setpriv", *switch, "--"]


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="sweepbench-pg-"))
    try:
        yield from running_cluster(binaries, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def running_cluster(binaries: Path, base: Path) -> Iterator[str]:
    """initdb in `base`, then a server on a free loopback port; stopped when the caller ends."""
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    subprocess.run(
        [*as_postgres_user(), str(binaries / "initdb"), "-D", str(data), *INITDB_OPTIONS],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=base,
    )
    port = free_port()
    command = [*as_postgres_user(), str(binaries / "postgres"), "-D", str(data)]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    command += ["-k", str(base), "-c", "fsync=off", "-c", "max_connections=200"]
    with (base / "server.log").open("ab") as log:
        process = launch.spawn(command, cpus=None, stdout=log, stderr=subprocess.STDOUT, cwd=base)
    dsn = f"postgresql://bench@127.0.0.1:{port}/postgres"
    try:
        wait_for(dsn, process)
        yield dsn
    finally:
        process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
        launch.wait_or_kill(process, 15)


def wait_for(dsn: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def seeded(postgres_dsn: str) -> dict[str, str]:
    return database.prepare(Database(engine="postgresql", dsn=SecretStr(postgres_dsn)), Path())


def table_value(dsn: str, row_id: int) -> int:
    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT randomnumber FROM world WHERE id = %s", (row_id,))
        return int(row.fetchone()[0])  # type: ignore[index]


def test_runner_seeds_the_table_once(postgres_dsn: str, seeded: dict[str, str]) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        assert connection.execute("SELECT count(*) FROM world").fetchone() == (WORLD_ROWS,)
        connection.execute("UPDATE world SET randomnumber = -1 WHERE id = 1")
    # A complete table is left as it is: an existing benchmark database is not rewritten.
    database.prepare(Database(engine="postgresql", dsn=SecretStr(postgres_dsn)), Path())
    assert table_value(postgres_dsn, 1) == -1
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute("UPDATE world SET randomnumber = 7 WHERE id = 1")


@pytest.mark.parametrize("name", list(TARGETS))
def test_db_and_queries_read_postgresql(
    name: str, postgres_dsn: str, seeded: dict[str, str], tmp_path: Path
) -> None:
    scenarios = shipped_scenarios()
    checks = [*scenarios["db"].requests, *scenarios["queries"].requests]
    with running_server(name, TARGETS[name], tmp_path, [0], checks, 30, 5, env=seeded) as server:
        for check in checks:
            verify_response(server, check)
        for path in ("/db", "/queries?n=5"):
            answer = send(server.port, Request(path=path), timeout_s=10)
            assert answer.status == 200, answer.body

            parsed = json.loads(answer.body)
            for row in parsed if isinstance(parsed, list) else [parsed]:
                assert row["randomNumber"] == table_value(postgres_dsn, row["id"])
