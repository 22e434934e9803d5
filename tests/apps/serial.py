"""A bare ASGI app with a known capacity, for the capacity-search tests.

- /work?ms=N (default 5): served one at a time behind an asyncio.Lock, each request holding it
  N ms (asyncio.sleep inside the lock), so the app answers at most 1000/N requests per second
  however many arrive, and latency climbs steeply as the arrival rate nears that.
- /json: the standard answer, for the pre-flight check; not behind the lock.

The lock is per process: run it with one worker for the capacity to hold.
"""

import asyncio
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_HOLD_MS = 5.0
MAX_HOLD_MS = 1000.0

# One lock per event loop: a lock is bound to the loop that first waits on it, and in-process
# tests run several loops one after the other.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
_served = {"work": 0}


def _lock() -> asyncio.Lock:
    return _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/json":
        await _answer(send, 200, {"message": "Hello, World!"})
    elif path == "/work":
        hold_ms = _hold_ms(scope["query_string"])
        if hold_ms is None:
            await _answer(send, 400, {"error": f"ms must be a number from 0 to {MAX_HOLD_MS:g}"})
            return
        async with _lock():
            await asyncio.sleep(hold_ms / 1000)
            _served["work"] += 1
            served = _served["work"]
        await _answer(send, 200, {"served": served, "ms": hold_ms})
    else:
        await _answer(send, 404, {"error": f"no route {path}"})


def _hold_ms(query_string: bytes) -> float | None:
    """The `ms` query parameter; None when it is not a number in range."""
    values = parse_qs(query_string.decode()).get("ms")
    if not values:
        return DEFAULT_HOLD_MS
    try:
        hold_ms = float(values[0])
    except ValueError:
        return None
    return hold_ms if 0 <= hold_ms <= MAX_HOLD_MS else None


async def _answer(send: Send, status: int, payload: dict[str, Any]) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
