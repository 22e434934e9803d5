"""Number formats shared by every report, so one value always reads the same everywhere."""

from __future__ import annotations

import datetime


def rps(value: float) -> str:
    return f"{value:.2f}"


def ms(value: float) -> str:
    return f"{value:.2f}"


def percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def cpu(value: float) -> str:
    return f"{value:.1f}%"


def mib(value: float) -> str:
    return f"{value:.1f}"


def timestamp(unix_seconds: float | None) -> str:
    if unix_seconds is None:
        return "unknown"
    moment = datetime.datetime.fromtimestamp(unix_seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
