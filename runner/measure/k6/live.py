"""Live numbers while a step runs: k6's REST API, plus the sampler's latest readings.

The progress display gets a LiveView once a second from a feed thread; nothing here is stored.
A split step's instances are read together (merge_readings): counts and throughput are their
sums and the error rate is exact, but a live percentile is the highest of the instances' (the
step's own lies between their lowest and highest); the stored figures are exact (runner.measure.k6.merge).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runner.measure.k6.client_trees import combined_latest
from runner.measure.k6.options import MEASURE
from runner.measure.k6.segments import CLIENT_TREE
from runner.measure.ports import HOST
from runner.measure.sampler import TreeSampler
from runner.measure.usage import Sample

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
    """Reads k6's REST API (`/v1/metrics`) during a run, of every instance of a split step;
    throughput from the change in count."""

    def __init__(self, ports: Sequence[int]) -> None:
        self.ports = list(ports)
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
        return read_merged_metrics(self.ports)


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


def read_merged_metrics(ports: Sequence[int]) -> dict[str, dict[str, Any]] | None:
    """The metrics of every k6 on `ports` as one (merge_readings); None unless all answer."""
    readings = []
    for port in ports:
        reading = read_metrics(port)
        if reading is None:
            return None
        readings.append(reading)
    return merge_readings(readings)


def merge_readings(readings: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Several instances' REST readings as one: counts, counter rates and gauges summed, min and
    max kept, means weighted by count, a Rate metric's rate weighted by the instance's requests
    of the same tags (exact for http_req_failed); a trend's percentiles are the highest of the
    instances', an upper bound of the pooled one. One reading is returned as it is."""
    if len(readings) == 1:
        return readings[0]
    merged = {}
    for name in {name for reading in readings for name in reading}:
        present = [reading for reading in readings if name in reading]
        requests = f"http_reqs{name[name.index('{') :]}" if "{" in name else "http_reqs"
        weights = [float(reading.get(requests, {}).get("count", 0)) for reading in present]
        merged[name] = _merge_sample([reading[name] for reading in present], weights)
    return merged


def _merge_sample(parts: list[dict[str, Any]], weights: list[float]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    counts = [float(part.get("count", 0)) for part in parts]
    for key in {key for part in parts for key in part}:
        values = [float(part[key]) for part in parts if key in part]
        if key in ("count", "value") or (key == "rate" and "count" in parts[0]):
            merged[key] = sum(values)
        elif key == "min":
            merged[key] = min(values)
        elif key == "max" or key == "med" or key.startswith("p("):
            merged[key] = max(values)
        elif key in ("avg", "rate") and len(values) == len(parts):
            merged[key] = _weighted_mean(values, counts if key == "avg" else weights)
        else:
            merged[key] = values[0]
    return merged


def _weighted_mean(values: list[float], weights: list[float]) -> float:
    total = sum(weights)
    if total <= 0:
        return sum(values) / len(values)
    return sum(value * weight for value, weight in zip(values, weights, strict=True)) / total


def stop_tests(ports: Sequence[int]) -> bool:
    """stop_test on every instance; False when none answered (one that did not had ended)."""
    answered = [stop_test(port) for port in ports]
    return any(answered)


def stop_test(port: int) -> bool:
    """Ask k6 to end its test now (REST `PATCH /v1/status`); k6 then writes its summary and
    exits with a non-zero status. False when k6 did not answer."""
    return patch_status(port, {"stopped": True})


def set_paused(port: int, paused: bool) -> bool:
    """Pause or resume a k6 started with `--paused` (REST `PATCH /v1/status`): paused, its
    virtual users start no new iteration. False when k6 did not answer."""
    return patch_status(port, {"paused": paused})


def patch_status(port: int, attributes: dict[str, bool]) -> bool:
    body = {"data": {"type": "status", "id": "default", "attributes": attributes}}
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

    def __init__(
        self,
        ports: Sequence[int],
        sampler: TreeSampler,
        sink: Callable[[LiveView], None],
        client_trees: Sequence[str],
    ) -> None:
        super().__init__(name="live-feed", daemon=True)
        self.reader = K6Live(ports)
        self.sampler = sampler
        self.sink = sink
        self.client_trees = list(client_trees)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(LIVE_INTERVAL_S):
            server = self.sampler.latest("server")
            self.sink(LiveView(self.reader.poll(), server, self._client()))

    def _client(self) -> Sample | None:
        if self.client_trees == [CLIENT_TREE]:
            return self.sampler.latest(CLIENT_TREE)
        return combined_latest(self.sampler, self.client_trees)


@contextmanager
def live_feed(
    api_ports: Sequence[int],
    sampler: TreeSampler,
    sink: Callable[[LiveView], None] | None,
    client_trees: Sequence[str] = (CLIENT_TREE,),
) -> Iterator[None]:
    """While inside, `sink` gets a LiveView once a second (nothing happens without a sink): k6's
    numbers from the instances on `api_ports`, the client's from the trees `client_trees`."""
    if sink is None:
        yield
        return
    feed = _LiveFeed(api_ports, sampler, sink, client_trees)
    feed.start()
    try:
        yield
    finally:
        feed.stopped.set()
        feed.join(timeout=FEED_JOIN_S)
