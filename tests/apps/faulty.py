"""A bare ASGI app for tests: known answers, a known share of HTTP 500s, slow paths, a counter.

- /json: the standard answer.
- /flaky: every 4th request is an HTTP 500.
- /slow: waits 50 ms without blocking (asyncio.sleep): slow, but answers many at once.
- /blocking: busy for 20 ms holding the event loop, so the server answers at most ~50 requests
  per second however many arrive: a server that cannot keep up.
- /count: how many requests this process answered (itself excluded), to check what k6 counted.
- /echo: answers 200 with what it received, only for the request the tests send.

Start-up faults, by environment variable:
- FAULTY_STARTUP_HANG=1: start-up never completes, so the server never answers;
- FAULTY_LOG_LINE=text: printed to the server log at start-up (a secret, in the redaction test).
"""

import asyncio
import json
import os
import sys
import time

_counter = {"flaky": 0, "all": 0}


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if os.environ.get("FAULTY_LOG_LINE"):
                    print(os.environ["FAULTY_LOG_LINE"], file=sys.stderr, flush=True)
                if os.environ.get("FAULTY_STARTUP_HANG"):
                    await asyncio.Event().wait()
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
    elif path == "/echo":
        status, body = await _echo(scope, receive)
    elif path == "/blocking":
        time.sleep(0.02)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _echo(scope, receive):  # type: ignore[no-untyped-def]
    """200 and what arrived, for POST with header x-test and a body; 400 for anything else."""
    received = b""
    while True:
        message = await receive()
        received += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    seen = {
        "method": scope["method"],
        "query": scope["query_string"].decode(),
        "x_test": headers.get(b"x-test", b"").decode(),
        "content_type": headers.get(b"content-type", b"").decode(),
        "body": received.decode(),
    }
    ok = seen["method"] == "POST" and seen["x_test"] == "yes" and received
    return (200 if ok else 400), json.dumps(seen).encode()
