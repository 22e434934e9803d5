"""The one number style of every report, table and sentence, so a value reads the same everywhere.

Every number carries thousands separators; each kind has a fixed number of decimals:

| kind                                     | decimals | example            |
|------------------------------------------|----------|--------------------|
| counts (requests, drops, levels)         | 0        | 12,345             |
| throughput (RPS, RPS per core)           | 0        | 5,240 RPS          |
| latency (ms)                             | 1        | 3.4 ms, 1,012.5 ms |
| memory (MiB)                             | 1        | 45.3 MiB           |
| CPU (% of one core)                      | 0        | 187%               |
| error rate (% of requests)               | 2        | 0.25%              |
| change, lead, drop (relative)            | 1        | +12.3%, 4.6%       |
| ratio of two figures (times)             | 2; 1 >10 | 2.72x, 12.5x       |
| p-value                                  | 3        | p=0.012, p<0.001   |
| settings (thresholds as configured)      | as given | 5%, 100 ms         |

Raw values stay in results.json and the CSV files; these strings are for people.
"""

from __future__ import annotations

import datetime
import math

# A `url` target's server is not started by sweepbench, so its CPU and memory are not sampled.
NOT_SAMPLED = "n/a"


def count(value: float) -> str:
    return f"{value:,.0f}"


def rps(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float) -> str:
    return f"{value:,.1f}"


def percent(fraction: float) -> str:
    """An error rate (a fraction of requests) as a percentage."""
    return f"{fraction * 100:,.2f}%"


def cpu(value: float | None) -> str:
    return NOT_SAMPLED if value is None else f"{value:,.0f}%"


def mib(value: float | None) -> str:
    return NOT_SAMPLED if value is None else f"{value:,.1f}"


def number_list(values: list[int]) -> str:
    """Levels in a sentence: `; ` between them once a separator could be read as one."""
    joiner = "; " if any(abs(v) >= 1000 for v in values) else ", "
    return joiner.join(count(v) for v in values)


def change(fraction: float, signed: bool = True) -> str:
    """A relative change, lead or drop (a fraction), e.g. +12.3% or 4.6%."""
    if math.isinf(fraction):
        return "+inf%" if signed else "inf%"
    return f"{fraction * 100:+,.1f}%" if signed else f"{fraction * 100:,.1f}%"


def ratio(value: float, times: bool = True) -> str:
    """How many times one figure is another: 2.72x (0.45x below one), 12.5x from ten on;
    `times=False` leaves the x off, for the first end of a range ('2.72-4.95x')."""
    text = f"{value:,.2f}" if value < 10 else f"{value:,.1f}"
    return text + "x" if times else text


def repetition(number: int, attempt: int = 1) -> str:
    """A step's repetition, and its attempt when it was measured again: '1 (attempt 2)'."""
    return f"{number:,}" + (f" (attempt {attempt})" if attempt > 1 else "")


def setting_percent(fraction: float) -> str:
    """A configured threshold (a fraction) as written by a person: 5%, 0.5%."""
    return f"{fraction * 100:g}%"


def p_value(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.3f}"


def axis_tick(value: float) -> str:
    """A chart tick: whole numbers with separators, else as few decimals as the value needs."""
    return f"{value:,.0f}" if value == round(value) else f"{value:,g}"


def timestamp(unix_seconds: float | None) -> str:
    if unix_seconds is None:
        return "unknown"
    moment = datetime.datetime.fromtimestamp(unix_seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
