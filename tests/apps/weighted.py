"""A bare ASGI app whose every answer costs a known CPU time, for the schedule's tests.

Each request busy-loops for WEIGHTED_BUSY_MS milliseconds (default 1) before the standard
/json answer, so two targets of this app 3x apart in that time are about 3x apart in
throughput on one core, and two with the same time are identical twins.
"""

import json
import os
import time

BUSY_S = float(os.environ.get("WEIGHTED_BUSY_MS", "1")) / 1000
BODY = json.dumps({"message": "Hello, World!"}).encode()


def make_app(busy_s):  # type: ignore[no-untyped-def]
    """The app with `busy_s` seconds of CPU per answer (tests/apps/ab_work.py makes several)."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] != "/count":
            until = time.perf_counter() + busy_s
            while time.perf_counter() < until:
                pass
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})

    return app


app = make_app(BUSY_S)
