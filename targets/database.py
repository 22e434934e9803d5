"""FastAPI's database layer: SQLAlchemy Core on its asyncio engine.

One query path for both databases: aiosqlite for SQLite (the runner's seeded file) and
psycopg 3 (async) for PostgreSQL. SQLAlchemy pools the connections and caches the compiled
statement; Core (not the ORM) keeps the per-row cost close to the driver's.
"""

from __future__ import annotations

import os

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from targets.payloads import DATABASE_URL_ENV, WORLD_TABLE, random_world_id, world_row

world = Table(
    WORLD_TABLE,
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("randomnumber", Integer, nullable=False),
)
ONE_ROW = select(world.c.id, world.c.randomnumber).where(world.c.id == bindparam("id"))

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def async_url(url: str) -> URL:
    """The runner's plain URL (`sqlite:///path`, `postgresql://...`) with an asyncio driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"{DATABASE_URL_ENV} names an unsupported database: {backend!r}")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def engine_from_env() -> AsyncEngine | None:
    url = os.environ.get(DATABASE_URL_ENV)
    return create_async_engine(async_url(url)) if url else None


async def random_rows(engine: AsyncEngine, count: int) -> list[dict[str, int]]:
    """`count` random rows, one query each (TechEmpower's rule), on one pooled connection."""
    rows = []
    async with engine.connect() as connection:
        for _ in range(count):
            result = await connection.execute(ONE_ROW, {"id": random_world_id()})
            row_id, random_number = result.one()
            rows.append(world_row(row_id, random_number))
    return rows
