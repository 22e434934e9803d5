"""A bare ASGI app for tests: known answers, a known share of HTTP 500s, and a slow path."""

import asyncio
import json

_counter = {"flaky": 0}


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    status, body = 200, json.dumps({"message": "Hello, World!"}).encode()
    if path == "/flaky":
        # Every 4th request fails: exactly a quarter of the requests are HTTP 500.
        _counter["flaky"] += 1
        if _counter["flaky"] % 4 == 0:
            status, body = 500, b"boom"
    elif path == "/slow":
        await asyncio.sleep(0.05)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
