"""Letting a server settle after an overloaded trial, before the next one.

When k6 ends a trial (at its planned end, or stopped early) the requests it gave up on may still
be queued in the server, which goes on working through them; the next trial would measure that
backlog, not its own rate. So after a failed trial the search sends the scenario's first request
one at a time until one is answered about as fast as on the quiet server (or within the
objective), at most SETTLE_MAX_S. The seconds it takes count against the budget.
"""

from __future__ import annotations

import time

from runner.capacity.objective import Objective
from runner.config.experiment import Request
from runner.measure.server import ServerHandle
from runner.measure.server.http_checks import send

__all__ = ["SETTLE_MAX_S", "quiet_latency_ms", "settle"]

SETTLE_MAX_S = 30.0
BASELINE_PROBES = 3
# A probe this many times the quiet server's time (or within the objective) means it is quiet.
QUIET_FACTOR = 3.0


def _probe_ms(server: ServerHandle, request: Request, timeout_s: float) -> float:
    """Milliseconds until one answer (any status; a refused or lost connection: the timeout)."""
    started = time.monotonic()
    try:
        send(server.base_url, request, timeout_s)
    except OSError:
        return timeout_s * 1000
    return (time.monotonic() - started) * 1000


def quiet_latency_ms(server: ServerHandle, request: Request) -> float:
    """The quiet server's time for one answer: the best of a few probes."""
    return min(_probe_ms(server, request, SETTLE_MAX_S) for _ in range(BASELINE_PROBES))


def settle(server: ServerHandle, request: Request, objective: Objective, quiet_ms: float) -> float:
    """Probe until the server answers as it does when quiet; the seconds that took."""
    started = time.monotonic()
    threshold = max(objective.latency_ms, QUIET_FACTOR * quiet_ms)
    while (left := SETTLE_MAX_S - (time.monotonic() - started)) > 0:
        if _probe_ms(server, request, left) <= threshold:
            break
    return round(time.monotonic() - started, 3)
