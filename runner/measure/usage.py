"""A process tree's samples (runner.measure.sampler takes them) and their summary over a step's
measured window: CPU and memory, average and maximum.

Linux counts CPU time in clock ticks of 10 ms, so the CPU of one 0.1 s sample is only known to
+-10% of one core: a server pinned to one core can show 109% in a single sample. Averages are
exact over the window (total CPU time / wall time), and the reported maximum is the busiest
PEAK_WINDOW_S of the window, which the tick resolves to about 1%.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

# The maximum CPU of a window is taken over spans at least this long (see the module doc).
PEAK_WINDOW_S = 1.0


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock seconds (time.time())
    cpu_percent: float  # % of one core over the interval ending at `at`
    rss_mib: float | None  # None on the samples that read CPU only
    processes: int
    cpu_seconds: float = 0.0  # CPU time used by the tree since sampling began
    uss_mib: float | None = None  # server trees, on the memory samples
    pss_mib: float | None = None


@dataclass(frozen=True)
class Usage:
    """Average and maximum of one quantity over a window."""

    avg: float
    max: float


@dataclass(frozen=True)
class WindowSummary:
    cpu_percent: Usage
    memory_mib: Usage
    processes: int
    samples: int
    uss_mib: Usage | None = None
    pss_mib: Usage | None = None


def summarize(samples: list[Sample], start: float, end: float) -> WindowSummary | None:
    """CPU and memory over the samples taken inside [start, end]; None if there are none."""
    inside = [s for s in samples if start <= s.at <= end]
    if not inside:
        return None
    # CPU counts from the last sample before the window, so the whole window is covered.
    before = [s for s in samples if s.at < start]
    span = ([before[-1]] if before else []) + inside
    rss = _memory_usage(samples, start, end, "rss_mib")
    if rss is None:
        return None
    return WindowSummary(
        cpu_percent=Usage(_cpu_average(span), _cpu_peak(span, PEAK_WINDOW_S)),
        memory_mib=rss,
        processes=max(s.processes for s in inside),
        samples=len(inside),
        uss_mib=_memory_usage(samples, start, end, "uss_mib"),
        pss_mib=_memory_usage(samples, start, end, "pss_mib"),
    )


def _cpu_average(span: list[Sample]) -> float:
    """% of one core over the span: CPU time used / wall time, exact up to two clock ticks."""
    if len(span) < 2:
        return span[0].cpu_percent
    first, last = span[0], span[-1]
    return 100.0 * (last.cpu_seconds - first.cpu_seconds) / max(last.at - first.at, 1e-6)


def _cpu_peak(span: list[Sample], window_s: float) -> float:
    """The highest % of one core over any stretch of at least `window_s` inside the span.

    Over 0.1 s one 10 ms clock tick is 10% of a core; over 1 s it is 1%, so this maximum is
    one a reader can compare with the number of cores. Spans shorter than `window_s` give
    their average.
    """
    peak: float | None = None
    end_index = 0
    for begin_index, begin in enumerate(span):
        end_index = max(end_index, begin_index + 1)
        while end_index < len(span) and span[end_index].at - begin.at < window_s:
            end_index += 1
        if end_index >= len(span):
            break
        end = span[end_index]
        rate = 100.0 * (end.cpu_seconds - begin.cpu_seconds) / (end.at - begin.at)
        peak = rate if peak is None else max(peak, rate)
    return _cpu_average(span) if peak is None else peak


def _memory_usage(samples: list[Sample], start: float, end: float, field: str) -> Usage | None:
    """Memory over the window. A window shorter than the memory interval may hold none of
    these slower samples; then the one nearest the window's middle stands for it."""
    measured = [s for s in samples if getattr(s, field) is not None]
    if not measured:
        return None
    inside = [s for s in measured if start <= s.at <= end]
    if not inside:
        middle = (start + end) / 2
        inside = [min(measured, key=lambda s: abs(s.at - middle))]
    values = [getattr(s, field) for s in inside]
    return Usage(statistics.fmean(values), max(values))
