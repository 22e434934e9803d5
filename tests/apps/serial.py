"""A bare ASGI app with a known capacity, for the capacity-search tests.

- /work?ms=N (default 5, or SERIAL_HOLD_MS): served one at a time behind an asyncio.Lock, each request holding it
  N ms (asyncio.sleep inside the lock), so the app answers at most 1000/N requests per second
  however many arrive, and latency climbs steeply as the arrival rate nears that.
- /json: the standard answer, for the pre-flight check; not behind the lock.
- /stats: what the app measured of itself: its true service rate (`saturated_rps`: answers per
  second while others waited for the lock, so the lock, not the arrivals, set the pace).

By environment variable:
- SERIAL_SLOW_FROM=N, SERIAL_SLOW_COUNT=M, SERIAL_SLOW_MS=X: the /work requests numbered N to
  N+M-1 (from 1, in order of arrival) first wait X ms outside the lock: a slow spell that does
  not change the capacity, at a point of the run a test can pick;
- SERIAL_STATS_FILE=path: /stats written there when the server shuts down.

The lock is per process: run it with one worker for the capacity to hold.
"""

import asyncio
import json
import os
import time
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
# Requests arrived at /work, and those in the serialized section (holding or waiting for the
# lock). A request that was already waiting when the previous one left was served back to back:
# the time from that leave to its own is one service (the hold and the hand-over), with the
# lock, not the arrivals, setting the pace. Their sum and count give the true service rate.
_stats: dict[str, float] = {
    "arrived": 0,
    "inside": 0,
    "saturated_s": 0.0,
    "saturated_answers": 0,
    "handed_over_at": -1.0,  # when the last leave handed the lock to a waiter; -1: it did not
}


def _slow_ms(number: int) -> float:
    first = int(os.environ.get("SERIAL_SLOW_FROM", "0"))
    count = int(os.environ.get("SERIAL_SLOW_COUNT", "0"))
    return float(os.environ.get("SERIAL_SLOW_MS", "0")) if first <= number < first + count else 0.0


def _leave() -> None:
    now = time.monotonic()
    if _stats["handed_over_at"] >= 0:
        _stats["saturated_s"] += now - _stats["handed_over_at"]
        _stats["saturated_answers"] += 1
    _stats["inside"] -= 1
    _stats["handed_over_at"] = now if _stats["inside"] > 0 else -1.0


def stats() -> dict[str, float]:
    """Answers served, and the service rate while the lock was the bottleneck."""
    seconds = _stats["saturated_s"]
    rate = _stats["saturated_answers"] / seconds if seconds > 0 else 0.0
    return {
        "served": _served["work"],
        "saturated_s": round(seconds, 3),
        "saturated_answers": _stats["saturated_answers"],
        "saturated_rps": round(rate, 1),
    }


def _lock() -> asyncio.Lock:
    return _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/json":
        await _answer(send, 200, {"message": "Hello, World!"})
    elif path == "/stats":
        await _answer(send, 200, stats())
    elif path == "/work":
        hold_ms = _hold_ms(scope["query_string"])
        if hold_ms is None:
            await _answer(send, 400, {"error": f"ms must be a number from 0 to {MAX_HOLD_MS:g}"})
            return
        _stats["arrived"] += 1
        slow_ms = _slow_ms(int(_stats["arrived"]))
        if slow_ms:
            await asyncio.sleep(slow_ms / 1000)
        _stats["inside"] += 1
        async with _lock():
            await asyncio.sleep(hold_ms / 1000)
            _served["work"] += 1
            served = _served["work"]
            _leave()
        await _answer(send, 200, {"served": served, "ms": hold_ms})
    else:
        await _answer(send, 404, {"error": f"no route {path}"})


def _hold_ms(query_string: bytes) -> float | None:
    """The `ms` query parameter; None when it is not a number in range."""
    values = parse_qs(query_string.decode()).get("ms")
    if not values:
        return float(os.environ.get("SERIAL_HOLD_MS", DEFAULT_HOLD_MS))
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
            if os.environ.get("SERIAL_STATS_FILE"):
                with open(os.environ["SERIAL_STATS_FILE"], "w") as file:
                    json.dump(stats(), file)
            await send({"type": "lifespan.shutdown.complete"})
            return
