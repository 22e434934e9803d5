"""The offset between this machine's clock and a remote host's, measured NTP-style.

One reading: t0 on this machine, the host's time, t1 on this machine. If the request and the
answer took equally long, the host read its clock at (t0 + t1) / 2 of ours, so

    offset = remote - (t0 + t1) / 2        (remote clock minus ours)

and the error is at most half the round trip t1 - t0 (when all the delay was on one leg). Of a
few readings the one with the shortest round trip bounds the error best, so it is kept. A time
on the host's clock is then `remote_time - offset` on ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TRIES = 5


@dataclass(frozen=True)
class ClockReading:
    sent_at: float  # t0, this machine
    remote: float  # the host's clock
    received_at: float  # t1, this machine

    @property
    def round_trip_s(self) -> float:
        return self.received_at - self.sent_at

    @property
    def offset_s(self) -> float:
        return self.remote - (self.sent_at + self.received_at) / 2


@dataclass(frozen=True)
class ClockOffset:
    """The host's clock minus ours, from the reading with the shortest round trip of `tries`."""

    offset_s: float
    round_trip_s: float
    tries: int

    def to_local(self, remote_time: float) -> float:
        return remote_time - self.offset_s

    def describe(self, host: str) -> str:
        """'clock offset of bench1: +0.4 ms, measured over 5 round trips of at best 0.2 ms'."""
        return (
            f"clock offset of {host}: {self.offset_s * 1000:+.1f} ms, measured over "
            f"{self.tries} round trips of at best {self.round_trip_s * 1000:.1f} ms"
        )


def best_offset(readings: Sequence[ClockReading]) -> ClockOffset:
    if not readings:
        raise ValueError("no clock readings")
    best = min(readings, key=lambda reading: reading.round_trip_s)
    return ClockOffset(best.offset_s, best.round_trip_s, len(readings))


def measure_offset(
    remote_time: Callable[[], float],
    tries: int = TRIES,
    now: Callable[[], float] = time.time,
) -> ClockOffset:
    """Ask the host's time `tries` times; keep the reading with the shortest round trip."""
    readings = []
    for _ in range(tries):
        sent_at = now()
        remote = remote_time()
        readings.append(ClockReading(sent_at, remote, now()))
    return best_offset(readings)
