"""A bare ASGI app with a known capacity, for the capacity-search tests and bench/capacity.py.

- /work?ms=N (default 5, or SERIAL_HOLD_MS): served one at a time behind an asyncio.Lock, each
  request holding it N ms, so the app answers at most 1000/N requests per second however many
  arrive, and latency climbs steeply as the arrival rate nears that.
- /json: the standard answer, for the pre-flight check; not behind the lock unless
  SERIAL_LOCK_JSON=1.
- /stats: what the app measured of itself: its true service rate (`saturated_rps`: answers per
  second while others waited for the lock, so the lock, not the arrivals, set the pace).

By environment variable:
- SERIAL_HOLD_KIND=sleep (the default) or spin: how a request holds the lock. `sleep`:
  asyncio.sleep, so the capacity is 1000/N whatever the CPU's speed. `spin`: a fixed amount of
  pure-Python work, calibrated once (at start-up, else at the first request) to take about N ms
  on the machine as it was then; the hold, and the true rate, then move with the CPU's speed as
  a CPU-bound app's do. The request yields once after taking the lock, before it spins, so the
  requests that arrived meanwhile queue at the lock and the saturated rate sees them waiting;
- SERIAL_LOCK_JSON=1: /json is served behind the lock too, with the same hold (and the standard
  body), for a scenario that requests /json;
- SERIAL_SLOW_FROM=N, SERIAL_SLOW_COUNT=M, SERIAL_SLOW_MS=X: the requests behind the lock
  numbered N to N+M-1 (from 1, in order of arrival) first wait X ms outside it: a slow spell
  that does not change the capacity, at a point of the run a test can pick;
- SERIAL_STATS_FILE=path: /stats written there when the server shuts down.

The lock is per process: run it with one worker for the capacity to hold.
"""

import asyncio
import functools
import json
import math
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
HOLD_KINDS = ("sleep", "spin")
JSON_BODY = {"message": "Hello, World!"}
CALIBRATION_ROUNDS = 10
CALIBRATION_LOOPS = 20_000  # under 1 ms of pure Python on this project's VM

# One lock per event loop: a lock is bound to the loop that first waits on it, and in-process
# tests run several loops one after the other.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
_served = {"held": 0}  # answers served behind the lock
# Requests arrived for the lock, and those in the serialized section (holding or waiting for the
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
        "served": _served["held"],
        "saturated_s": round(seconds, 3),
        "saturated_answers": _stats["saturated_answers"],
        "saturated_rps": round(rate, 1),
    }


def _lock() -> asyncio.Lock:
    return _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def _hold_kind() -> str:
    kind = os.environ.get("SERIAL_HOLD_KIND", "sleep")
    if kind not in HOLD_KINDS:
        raise ValueError(f"SERIAL_HOLD_KIND={kind!r}: give one of {', '.join(HOLD_KINDS)}")
    return kind


def _spin(loops: int) -> int:
    """The spin hold's CPU work: `loops` steps of a pure-Python loop."""
    total = 0
    for step in range(loops):
        total += step
    return total


@functools.cache
def loops_per_ms() -> float:
    """The spin's loops per millisecond, measured once: the fastest of a few short timings (a
    pause of the process lengthens a timing, never shortens it)."""
    fastest = math.inf
    for _ in range(CALIBRATION_ROUNDS):
        started = time.perf_counter()
        _spin(CALIBRATION_LOOPS)
        fastest = min(fastest, time.perf_counter() - started)
    return CALIBRATION_LOOPS / max(fastest * 1000, 1e-6)


async def _hold(hold_ms: float) -> None:
    if _hold_kind() == "sleep":
        await asyncio.sleep(hold_ms / 1000)
        return
    # Yield once: the requests that arrived meanwhile reach the lock and wait there, so the
    # saturated rate sees them (a spin alone never yields, and every request would find the lock
    # free).
    await asyncio.sleep(0)
    _spin(round(hold_ms * loops_per_ms()))


async def _serialized(hold_ms: float) -> int:
    """One request through the lock, holding it `hold_ms`; its number among the answers."""
    _stats["arrived"] += 1
    slow_ms = _slow_ms(int(_stats["arrived"]))
    if slow_ms:
        await asyncio.sleep(slow_ms / 1000)
    _stats["inside"] += 1
    async with _lock():
        await _hold(hold_ms)
        _served["held"] += 1
        served = _served["held"]
        _leave()
    return served


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/json":
        if os.environ.get("SERIAL_LOCK_JSON") == "1":
            await _serialized(_default_hold_ms())
        await _answer(send, 200, JSON_BODY)
    elif path == "/stats":
        await _answer(send, 200, stats())
    elif path == "/work":
        hold_ms = _hold_ms(scope["query_string"])
        if hold_ms is None:
            await _answer(send, 400, {"error": f"ms must be a number from 0 to {MAX_HOLD_MS:g}"})
            return
        served = await _serialized(hold_ms)
        await _answer(send, 200, {"served": served, "ms": hold_ms})
    else:
        await _answer(send, 404, {"error": f"no route {path}"})


def _hold_ms(query_string: bytes) -> float | None:
    """The `ms` query parameter; None when it is not a number in range."""
    values = parse_qs(query_string.decode()).get("ms")
    if not values:
        return _default_hold_ms()
    try:
        hold_ms = float(values[0])
    except ValueError:
        return None
    return hold_ms if 0 <= hold_ms <= MAX_HOLD_MS else None


def _default_hold_ms() -> float:
    return float(os.environ.get("SERIAL_HOLD_MS", DEFAULT_HOLD_MS))


async def _answer(send: Send, status: int, payload: dict[str, Any]) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if _hold_kind() == "spin":
                    loops_per_ms()  # calibrated now, before any load
            except ValueError as error:
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if os.environ.get("SERIAL_STATS_FILE"):
                with open(os.environ["SERIAL_STATS_FILE"], "w") as file:
                    json.dump(stats(), file)
            await send({"type": "lifespan.shutdown.complete"})
            return
