"""Live numbers while a step runs: k6's REST API, plus the sampler's latest readings.

The progress display gets a LiveView once a second from a feed thread; nothing here is stored.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runner.k6.options import MEASURE
from runner.ports import HOST
from runner.sampler import Sample, TreeSampler

# Seconds between live updates of the progress display.
LIVE_INTERVAL_S = 1.0
POLL_TIMEOUT_S = 1
FEED_JOIN_S = 5


@dataclass(frozen=True)
class LiveNumbers:
    """What k6 reports while it runs (cumulative over the step so far, warmup included until the
    measured window starts)."""

    rps: float | None  # None on the first reading: throughput needs two
    p95_ms: float
    error_rate: float
    measuring: bool


class K6Live:
    """Reads k6's REST API (`/v1/metrics`) during a run; throughput from the change in count."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._last: tuple[float, float] | None = None

    def poll(self) -> LiveNumbers | None:
        samples = self._samples()
        if samples is None:
            return None  # not up yet, or already gone
        count = float(samples.get("http_reqs", {}).get("count", 0))
        now = time.monotonic()
        rps = None
        if self._last is not None and now > self._last[0]:
            rps = (count - self._last[1]) / (now - self._last[0])
        self._last = (now, count)
        # The measure sub-metrics exist from the start (thresholds declare them): the window
        # has opened once they count requests.
        measuring = float(samples.get(f"http_reqs{MEASURE}", {}).get("count", 0)) > 0
        duration = samples.get(
            f"http_req_duration{MEASURE}" if measuring else "http_req_duration", {}
        )
        failed = samples.get(f"http_req_failed{MEASURE}" if measuring else "http_req_failed", {})
        return LiveNumbers(
            rps, float(duration.get("p(95)", 0.0)), float(failed.get("rate", 0.0)), measuring
        )

    def _samples(self) -> dict[str, dict[str, Any]] | None:
        return read_metrics(self.port)


def read_metrics(port: int) -> dict[str, dict[str, Any]] | None:
    """Each metric's current sample (cumulative), by metric name, from k6's REST API on `port`;
    None when k6 does not answer."""
    url = f"http://{HOST}:{port}/v1/metrics"
    try:
        with urllib.request.urlopen(url, timeout=POLL_TIMEOUT_S) as answer:
            payload = json.load(answer)
    except (OSError, ValueError):
        return None
    return {m["id"]: m["attributes"].get("sample", {}) for m in payload.get("data", [])}


def stop_test(port: int) -> bool:
    """Ask k6 to end its test now (REST `PATCH /v1/status`); k6 then writes its summary and
    exits with a non-zero status. False when k6 did not answer."""
    body = {"data": {"type": "status", "id": "default", "attributes": {"stopped": True}}}
    request = urllib.request.Request(
        f"http://{HOST}:{port}/v1/status",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=POLL_TIMEOUT_S):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class LiveView:
    """Live numbers of the running step: k6's, plus the latest server and k6 samples."""

    k6: LiveNumbers | None
    server: Sample | None
    client: Sample | None


class _LiveFeed(threading.Thread):
    """Once a second, hands the live numbers to the progress display."""

    def __init__(self, port: int, sampler: TreeSampler, sink: Callable[[LiveView], None]) -> None:
        super().__init__(name="live-feed", daemon=True)
        self.reader = K6Live(port)
        self.sampler = sampler
        self.sink = sink
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(LIVE_INTERVAL_S):
            server = self.sampler.latest("server")
            self.sink(LiveView(self.reader.poll(), server, self.sampler.latest("k6")))


@contextmanager
def live_feed(
    api_port: int, sampler: TreeSampler, sink: Callable[[LiveView], None] | None
) -> Iterator[None]:
    """While inside, `sink` gets a LiveView once a second (nothing happens without a sink)."""
    if sink is None:
        yield
        return
    feed = _LiveFeed(api_port, sampler, sink)
    feed.start()
    try:
        yield
    finally:
        feed.stopped.set()
        feed.join(timeout=FEED_JOIN_S)
