"""FastAPI target: production settings (no debug, no docs routes, no access log from the server).

Every view is `async def`: `/io` awaits asyncio.sleep and the database calls are awaited, which
is what the async-versus-workers comparison is about.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse

from targets import database
from targets.payloads import (
    DATABASE_URL_ENV,
    JSON_BODY,
    PLAINTEXT_BODY,
    cpu_body,
    cpu_n,
    io_body,
    io_ms,
    queries_count,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One engine (and connection pool) per worker process, made after the fork.
    app.state.engine = database.engine_from_env()
    yield
    if app.state.engine is not None:
        await app.state.engine.dispose()


app = FastAPI(debug=False, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)


def _engine():  # type: ignore[no-untyped-def]
    if app.state.engine is None:
        raise HTTPException(503, f"{DATABASE_URL_ENV} is not set: no database to query")
    return app.state.engine


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(PLAINTEXT_BODY)


@app.get("/json")
async def json() -> JSONResponse:
    return JSONResponse(JSON_BODY)


@app.get("/db")
async def db() -> JSONResponse:
    rows = await database.random_rows(_engine(), 1)
    return JSONResponse(rows[0])


@app.get("/queries")
async def queries(n: str | None = None) -> JSONResponse:
    # A str, parsed by the shared rule: a malformed `n` means 1, as in every target.
    return JSONResponse(await database.random_rows(_engine(), queries_count(n)))


@app.get("/io")
async def io(ms: str | None = None) -> JSONResponse:
    wait_ms = io_ms(ms)
    await asyncio.sleep(wait_ms / 1000)
    return JSONResponse(io_body(wait_ms))


@app.get("/cpu")
async def cpu(n: str | None = None) -> JSONResponse:
    return JSONResponse(cpu_body(cpu_n(n)))
