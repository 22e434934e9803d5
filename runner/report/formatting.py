"""Number formats shared by every report, so one value always reads the same everywhere."""

from __future__ import annotations

import datetime
import html

# A `url` target's server is not started by sweepbench, so its CPU and memory are not sampled.
NOT_SAMPLED = "n/a"


def rps(value: float) -> str:
    return f"{value:.2f}"


def ms(value: float) -> str:
    return f"{value:.2f}"


def percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def cpu(value: float | None) -> str:
    return NOT_SAMPLED if value is None else f"{value:.1f}%"


def mib(value: float | None) -> str:
    return NOT_SAMPLED if value is None else f"{value:.1f}"


def timestamp(unix_seconds: float | None) -> str:
    if unix_seconds is None:
        return "unknown"
    moment = datetime.datetime.fromtimestamp(unix_seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def html_safe(text: str) -> str:
    """For text that plotly renders (it reads a few HTML tags): show it exactly as typed."""
    return html.escape(text)
