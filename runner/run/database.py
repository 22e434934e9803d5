"""The database the `db` and `queries` endpoints read, prepared before any target starts.

Only a run whose scenario requests one of them (or that uses a custom script, which might) gets
a database; the others start their targets without one.

SQLite (default): a fresh file in the run directory, seeded with WORLD_ROWS rows.
PostgreSQL: the experiment's DSN; the `world` table is created and seeded when it is missing or
does not hold exactly WORLD_ROWS rows. Targets learn where the database is from one environment
variable (`SWEEPBENCH_DATABASE_URL`), never from the command line, so the DSN stays out of
process listings and of the recorded server commands.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from runner.config.experiment import Database, Experiment
from runner.config.secrets import redact_text
from runner.errors import UserError
from targets.payloads import DATABASE_URL_ENV, WORLD_ROWS, WORLD_TABLE

SQLITE_FILE = "world.sqlite3"
# Seeded, so every run reads the same table.
SEED = 20_000
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {WORLD_TABLE} "
    "(id integer NOT NULL PRIMARY KEY, randomnumber integer NOT NULL)"
)


def world_rows() -> list[tuple[int, int]]:
    rng = random.Random(SEED)
    return [(row_id, rng.randint(1, WORLD_ROWS)) for row_id in range(1, WORLD_ROWS + 1)]


def seed_sqlite(path: Path) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute(_CREATE)
        connection.executemany(f"INSERT INTO {WORLD_TABLE} VALUES (?, ?)", world_rows())
    connection.close()


def seed_postgresql(dsn: str) -> None:
    import psycopg  # only needed for PostgreSQL runs

    try:
        with psycopg.connect(dsn, connect_timeout=10) as connection:
            connection.execute(_CREATE)
            count = connection.execute(f"SELECT count(*) FROM {WORLD_TABLE}").fetchone()
            if count is None or count[0] != WORLD_ROWS:
                connection.execute(f"TRUNCATE {WORLD_TABLE}")
                with connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {WORLD_TABLE} VALUES (%s, %s)", world_rows())
    except psycopg.Error as error:
        # psycopg's messages name host and user, never the password.
        raise UserError(
            f"The PostgreSQL database {redact_text(dsn)} could not be prepared: "
            f"{str(error).strip()}."
        ) from None


def prepare(database: Database, run_dir: Path) -> dict[str, str]:
    """Create and seed the database; return the environment that tells targets where it is."""
    if database.engine == "postgresql":
        assert database.dsn is not None  # the model requires it
        dsn = database.dsn.get_secret_value()
        seed_postgresql(dsn)
        return {DATABASE_URL_ENV: dsn}
    path = (run_dir / SQLITE_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    seed_sqlite(path)
    return {DATABASE_URL_ENV: f"sqlite:///{path}"}


def check_dsn(database: Database) -> None:
    """The PostgreSQL DSN must parse (connecting is left to `prepare`, which seeds too)."""
    if database.dsn is None:
        return
    from psycopg.conninfo import conninfo_to_dict

    dsn = database.dsn.get_secret_value()
    try:
        port = conninfo_to_dict(dsn).get("port")
    except Exception as error:  # psycopg.ProgrammingError, or the URL's own ValueError
        raise UserError(f"'database.dsn' ({redact_text(dsn)}) is malformed: {error}") from None
    if port is not None and not (str(port).isdigit() and 0 < int(str(port)) < 65536):
        raise UserError(f"'database.dsn' ({redact_text(dsn)}) has no valid port: {port!r}")


# The scenario paths whose views read the database.
DATABASE_PATHS = frozenset({"/db", "/queries"})


def needed(experiment: Experiment) -> bool:
    """A scenario request touches the database; a custom script might, so it gets one too."""
    if experiment.load.script is not None:
        return True
    return any(urlsplit(r.path).path in DATABASE_PATHS for r in experiment.scenario.requests)
