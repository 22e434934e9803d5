"""The serial test app, called in process: /work is served one request at a time."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.apps.serial import JSON_BODY, app


async def call(path: str, query: str = "") -> tuple[int, Any]:
    """One GET through the ASGI interface: (status, decoded JSON body)."""
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode()}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


async def concurrently(count: int, query: str) -> tuple[float, list[tuple[int, Any]]]:
    started = time.perf_counter()
    answers = await asyncio.gather(*(call("/work", query) for _ in range(count)))
    return time.perf_counter() - started, answers


def test_work_is_served_one_request_at_a_time() -> None:
    elapsed, answers = asyncio.run(concurrently(5, "ms=20"))
    assert elapsed >= 5 * 0.020  # five holds of 20 ms one after the other, not at once
    assert all(status == 200 and body["ms"] == 20 for status, body in answers)
    served = sorted(body["served"] for _, body in answers)
    assert served == list(range(served[0], served[0] + 5))


def test_work_holds_five_ms_by_default_and_a_new_loop_gets_its_own_lock() -> None:
    elapsed, answers = asyncio.run(concurrently(4, ""))
    assert elapsed >= 4 * 0.005
    assert {body["ms"] for _, body in answers} == {5.0}


def test_json_answers_at_once_and_bad_requests_are_refused() -> None:
    assert asyncio.run(call("/json")) == (200, {"message": "Hello, World!"})
    for query in ("ms=abc", "ms=-1", "ms=5000", "ms=nan"):
        status, body = asyncio.run(call("/work", query))
        assert status == 400 and "ms must be a number" in body["error"]
    assert asyncio.run(call("/missing"))[0] == 404


def test_lifespan_starts_and_stops() -> None:
    async def lifespan() -> list[str]:
        inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent: list[str] = []

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])

        await app({"type": "lifespan"}, receive, send)
        return sent

    assert asyncio.run(lifespan()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_slow_spell_and_the_true_service_rate() -> None:
    import os

    from tests.apps import serial

    os.environ.update(SERIAL_SLOW_FROM="3", SERIAL_SLOW_COUNT="2", SERIAL_SLOW_MS="30")
    try:
        serial._stats["arrived"] = 0
        started = time.perf_counter()
        asyncio.run(concurrently(1, "ms=1"))
        asyncio.run(concurrently(1, "ms=1"))
        assert time.perf_counter() - started < 0.03  # requests 1 and 2: not slowed
        elapsed, _ = asyncio.run(concurrently(2, "ms=1"))
        assert elapsed >= 0.030  # requests 3 and 4 waited 30 ms first
    finally:
        for name in ("SERIAL_SLOW_FROM", "SERIAL_SLOW_COUNT", "SERIAL_SLOW_MS"):
            del os.environ[name]
    before = serial.stats()
    asyncio.run(concurrently(20, "ms=5"))  # back to back: 19 hand-overs of about 5 ms each
    after = serial.stats()
    answers = after["saturated_answers"] - before["saturated_answers"]
    seconds = after["saturated_s"] - before["saturated_s"]
    assert answers == 19 and seconds >= 19 * 0.005
    assert 0 < after["saturated_rps"] <= 1000 / 5


def held(count: int, path: str, query: str = "") -> tuple[float, dict[str, Any]]:
    """`count` concurrent requests to `path`: (seconds, the answers and the stats they added)."""
    from tests.apps import serial

    async def requests() -> list[tuple[int, Any]]:
        return await asyncio.gather(*(call(path, query) for _ in range(count)))

    before = serial.stats()
    started = time.perf_counter()
    answers = asyncio.run(requests())
    elapsed = time.perf_counter() - started
    after = serial.stats()
    assert all(status == 200 for status, _ in answers)
    added = {
        key: after[key] - before[key] for key in ("served", "saturated_s", "saturated_answers")
    }
    return elapsed, {"answers": answers, **added}


def test_a_spin_hold_is_cpu_work_served_one_at_a_time_and_its_rate_is_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.apps import serial

    assert serial.loops_per_ms() > 0  # calibrated once, then fixed
    spins: list[int] = []
    spin = serial._spin

    def counted_spin(loops: int) -> int:
        spins.append(loops)
        return spin(loops)

    monkeypatch.setattr(serial, "_spin", counted_spin)
    monkeypatch.setenv("SERIAL_HOLD_KIND", "spin")
    elapsed, added = held(20, "/work", "ms=5")
    assert spins == [round(5 * serial.loops_per_ms())] * 20  # the same work every time
    served = sorted(body["served"] for _, body in added["answers"])
    assert served == list(range(served[0], served[0] + 20))
    # The yield after taking the lock lets the others queue: 19 hand-overs, each one hold of CPU
    # work (about 5 ms as calibrated; a generous factor, the machine's speed moves).
    assert added["saturated_answers"] == 19
    rate = 19 / added["saturated_s"]
    assert 1000 / 5 / 4 < rate < 1000 / 5 * 4
    assert elapsed >= 20 * 0.005 / 4


def test_json_behind_the_lock_answers_the_standard_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERIAL_HOLD_MS", "50")
    elapsed, added = held(10, "/json")  # not behind the lock by default
    assert added["served"] == 0 and elapsed < 10 * 0.050
    monkeypatch.setenv("SERIAL_HOLD_MS", "2")
    monkeypatch.setenv("SERIAL_LOCK_JSON", "1")
    elapsed, added = held(10, "/json")
    assert all(body == JSON_BODY for _, body in added["answers"])
    assert added["served"] == 10 and added["saturated_answers"] == 9
    assert elapsed >= 10 * 0.002  # ten 2 ms holds, one after the other


def test_an_unknown_hold_kind_fails_the_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    async def start() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app({"type": "lifespan"}, receive, send)
        return sent

    monkeypatch.setenv("SERIAL_HOLD_KIND", "nap")
    sent = asyncio.run(start())
    assert sent[0]["type"] == "lifespan.startup.failed" and "nap" in sent[0]["message"]
