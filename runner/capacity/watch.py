"""The live feed of a running trial, and the early stop it drives.

k6's REST API only gives cumulative figures, and a percentile cannot be taken apart by
differences. So, for capacity trials, the k6 script also counts every answer of the measured
window in one of a fixed set of latency buckets (counters `sweepbench_latency_b<N>`, see
runner/scripts/sweepbench.js): one counter increment per request, no per-request output. Once a
second the watch reads the counters; their change since the last reading is a histogram of the
last second's answers, from which it reads the recent percentile (to within half a bucket,
BUCKET_FACTOR wide). `clearly_broken` judges the readings, and when it fires the watch asks k6 to
end the test (`PATCH /v1/status`); k6 writes its summary, and the trial counts at the seconds it
ran (runner.measure.step closes the window there).

A step split over several k6 instances is read and stopped as one: the bucket counters, the
request count and the error rate are merged exactly (runner.measure.k6.live.merge_readings), so the
early stop judges the whole step's answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from runner.capacity.early_stop import EarlyStopRule, LiveReading, clearly_broken
from runner.capacity.objective import Objective, Percentile

# Imported with this module, not on first use (runner.measure.k6): never during a trial's load.
from runner.measure.k6.live import read_merged_metrics, stop_tests
from runner.measure.k6.options import MEASURE

__all__ = ["BUCKET_BASE_MS", "BUCKET_FACTOR", "TrialWatch", "bucket_edges", "histogram_percentile"]

QUANTILES: dict[Percentile, float] = {
    "p50": 0.5,
    "p90": 0.9,
    "p95": 0.95,
    "p99": 0.99,
    "p99_9": 0.999,
}
# Buckets: up to 0.5 ms, then four per doubling (each 19% wide) up to about 65 s.
BUCKET_BASE_MS = 0.5
BUCKET_FACTOR = 2 ** (1 / 4)
BUCKET_COUNT = 69
READ_INTERVAL_S = 1.0
JOIN_S = 5.0


def bucket_edges(
    base_ms: float = BUCKET_BASE_MS, factor: float = BUCKET_FACTOR, count: int = BUCKET_COUNT
) -> list[float]:
    """The upper edge of each bucket, ms (the last bucket also holds everything slower)."""
    return [base_ms * factor**n for n in range(count)]


def histogram_percentile(
    counts: Sequence[float], quantile: float, edges: Sequence[float] | None = None
) -> float | None:
    """The quantile of a bucket histogram (counts per bucket, `edges` as bucket_edges gives
    them, the capacity watch's by default), interpolated geometrically within its bucket; the
    lower edge of the last bucket when it falls there; None for no answers."""
    total = sum(counts)
    if total <= 0:
        return None
    edges = edges if edges is not None else bucket_edges()
    rank = quantile * total
    below = 0.0
    for index, count in enumerate(counts):
        if count > 0 and below + count >= rank:
            if index == len(edges) - 1:
                return edges[index - 1]
            low = edges[index - 1] if index else 0.0
            share = (rank - below) / count
            if low == 0.0:
                return share * edges[index]
            return float(low * (edges[index] / low) ** share)
        below += count
    return edges[-2]


def _count(samples: dict[str, dict[str, Any]], name: str) -> float:
    return float(samples.get(name, {}).get("count", 0))


class TrialWatch:
    """Reads a trial's live feed once a second and stops k6 once its objective is clearly broken.

    Implements runner.measure.step_load.StepWatch. `rule` None: readings only, k6 is never stopped.
    """

    def __init__(self, objective: Objective, rule: EarlyStopRule | None) -> None:
        self.objective = objective
        self.rule = rule
        self.readings: list[LiveReading] = []
        self.stop_reason: str | None = None
        self._stopped_at: float | None = None
        self._previous: list[float] | None = None
        self._window_opened: float | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "SWEEPBENCH_LATENCY_BUCKETS": str(BUCKET_COUNT),
            "SWEEPBENCH_LATENCY_BASE_MS": repr(BUCKET_BASE_MS),
            "SWEEPBENCH_LATENCY_FACTOR": repr(BUCKET_FACTOR),
        }

    @property
    def stopped_at(self) -> float | None:
        return self._stopped_at

    @contextmanager
    def watching(self, api_ports: Sequence[int]) -> Iterator[None]:
        done = threading.Event()
        thread = threading.Thread(target=self._watch, args=(list(api_ports), done), daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=JOIN_S)

    def _watch(self, api_ports: list[int], done: threading.Event) -> None:
        while not done.wait(READ_INTERVAL_S):
            samples = read_merged_metrics(api_ports)
            reading = self._reading(samples) if samples is not None else None
            if reading is None:
                continue
            self.readings.append(reading)
            reason = clearly_broken(self.objective, self.readings, self.rule) if self.rule else None
            if reason is not None and stop_tests(api_ports):
                self.stop_reason, self._stopped_at = reason, time.time()
                return

    def _reading(self, samples: dict[str, dict[str, Any]]) -> LiveReading | None:
        """This second's reading, None before the measured window has answered anything."""
        requests = _count(samples, f"http_reqs{MEASURE}")
        if requests <= 0:
            return None
        now = time.monotonic()
        if self._window_opened is None:
            self._window_opened = now - READ_INTERVAL_S / 2  # it opened since the last reading
        counts = [_count(samples, f"sweepbench_latency_b{n}") for n in range(BUCKET_COUNT)]
        previous = self._previous or [0.0] * BUCKET_COUNT
        self._previous = counts
        recent = [now_count - then for now_count, then in zip(counts, previous, strict=True)]
        failed = float(samples.get(f"http_req_failed{MEASURE}", {}).get("rate", 0.0))
        return LiveReading(
            elapsed_s=now - self._window_opened,
            recent_percentile_ms=histogram_percentile(recent, QUANTILES[self.objective.percentile]),
            errors=round(failed * requests),
            requests=int(requests),
        )
