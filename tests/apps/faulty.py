"""A bare ASGI app for tests: known answers, a known share of HTTP 500s, slow paths, a counter.

- /json: the standard answer.
- /flaky: every 4th request is an HTTP 500.
- /slow: waits 50 ms without blocking (asyncio.sleep): slow, but answers many at once.
- /blocking: busy for 20 ms holding the event loop, so the server answers at most ~50 requests
  per second however many arrive: a server that cannot keep up.
- /count: how many requests this process answered (itself excluded), to check what k6 counted.
"""

import asyncio
import json
import time

_counter = {"flaky": 0, "all": 0}


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
    if path == "/count":
        body = json.dumps({"requests": _counter["all"]}).encode()
    else:
        _counter["all"] += 1
    if path == "/flaky":
        # Every 4th request fails: exactly a quarter of the requests are HTTP 500.
        _counter["flaky"] += 1
        if _counter["flaky"] % 4 == 0:
            status, body = 500, b"boom"
    elif path == "/slow":
        await asyncio.sleep(0.05)
    elif path == "/blocking":
        time.sleep(0.02)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
