"""The Test Configuration's rows on the platform itself: the stall probe and the steal floor."""

from __future__ import annotations

from runner.analysis import formatting as fmt
from runner.measure.validity import floor_words
from runner.records.results import RunRecord
from runner.report.tables import CellValue


def platform_rows(record: RunRecord) -> list[list[CellValue]]:
    """Rows only for what the run measured (runs from before the probe have neither)."""
    rows: list[list[CellValue]] = []
    probe = _probe_text(record)
    if probe is not None:
        rows.append(["Stall probe", probe])
    floor = record.provenance.steal_floor
    if floor is not None:
        when = fmt.timestamp(floor.measured_at)
        rows.append(
            [
                "Steal floor",
                f"{floor_words(floor.shares)} ({floor.seconds:.1f} s with nothing of ours running, "
                f"at {when}); the steal rule judges a step's steal above it",
            ]
        )
    return rows


def _probe_text(record: RunRecord) -> str | None:
    intervals = sorted({s.stalls.interval_ms for s in record.steps if s.stalls is not None})
    if not intervals:
        off = record.experiment.sampler.stall_interval_ms is None
        return "off (sampler.stall_interval_ms: null)" if off else None
    cores = sorted({c.core for s in record.steps if s.stalls for c in s.stalls.cores})
    every = " or ".join(f"{i:g}" for i in intervals)
    return (
        f"a process per measured core ({', '.join(map(str, cores))}) sleeping {every} ms at a "
        "time and recording how late it wakes: its resolution (a shorter stall can be missed)"
    )
