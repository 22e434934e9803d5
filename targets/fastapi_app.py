"""FastAPI target: production settings (no debug, no docs routes, no access log from the server)."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from targets.payloads import JSON_BODY, PLAINTEXT_BODY

app = FastAPI(debug=False, docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(PLAINTEXT_BODY)


@app.get("/json")
async def json() -> JSONResponse:
    return JSONResponse(JSON_BODY)
