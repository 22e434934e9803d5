"""What every target answers, in one place, so FastAPI and Django behave identically.

The runner verifies these bodies before load (see the scenarios in experiments/scenario/).
Query parameters follow TechEmpower's rules: a missing or malformed value falls back to the
default instead of failing, and numbers are clamped into their range.
"""

from __future__ import annotations

import random

PLAINTEXT_BODY = "Hello, World!"
PLAINTEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
JSON_BODY = {"message": "Hello, World!"}

# The `world` table: TechEmpower's shape (id, randomNumber), ids 1..WORLD_ROWS.
WORLD_TABLE = "world"
WORLD_ROWS = 10_000
# The environment variable through which the runner tells a target where its database is.
DATABASE_URL_ENV = "SWEEPBENCH_DATABASE_URL"

QUERIES_RANGE = (1, 500)
IO_MS_RANGE = (0, 60_000)
IO_MS_DEFAULT = 50
CPU_N_RANGE = (1, 10_000_000)
CPU_N_DEFAULT = 10_000


def clamped_int(raw: str | None, default: int, bounds: tuple[int, int]) -> int:
    """`raw` as an int within `bounds`; `default` when it is missing or not an integer."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    low, high = bounds
    return min(max(value, low), high)


def queries_count(raw: str | None) -> int:
    return clamped_int(raw, QUERIES_RANGE[0], QUERIES_RANGE)


def io_ms(raw: str | None) -> int:
    return clamped_int(raw, IO_MS_DEFAULT, IO_MS_RANGE)


def cpu_n(raw: str | None) -> int:
    return clamped_int(raw, CPU_N_DEFAULT, CPU_N_RANGE)


def random_world_id() -> int:
    return random.randint(1, WORLD_ROWS)


def world_row(row_id: int, random_number: int) -> dict[str, int]:
    return {"id": row_id, "randomNumber": random_number}


def io_body(ms: int) -> dict[str, int]:
    return {"slept_ms": ms}


def cpu_work(n: int) -> int:
    """A fixed amount of pure-Python work, linear in `n`, with a result that can be checked."""
    total = 0
    for i in range(n):
        total = (total + i * i) % 1_000_003
    return total


def cpu_body(n: int) -> dict[str, int]:
    return {"n": n, "result": cpu_work(n)}
