"""A target's curve over the levels: its breaking point, peak and knee, decided together.

All three read the same per-level figures (the cells of valid steps: median successful RPS, p95,
error rate), in one order, so they cannot contradict one another:

1. the breaking point comes first (errors, the latency objective, or a throughput drop that does
   not recover);
2. the peak is the level of the highest median successful throughput BEFORE the breaking point
   (every level when nothing breaks), so the peak is always below the break;
3. the knee is looked for up to the peak only, so knee <= peak < break.

A drop that recovers (a later level is back within the drop threshold of the earlier best) is
noise, not a break, unless repetitions show the drop significant (Welch's t-test on log values,
the compare gate's: runner.analysis.significance.welch_p_value).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from runner.analysis import formatting as fmt
from runner.analysis.cells import Cell
from runner.analysis.held_rate import could_not_hold_text
from runner.analysis.significance import welch_p_value
from runner.analysis.verdicts import Verdict
from runner.config.experiment import ReportSettings
from runner.config.load_model import CLOSED, LoadModel


@dataclass(frozen=True)
class Curve:
    """One target's verdicts over its levels; `peak` is None when nothing was measured or the
    lowest level already breaks."""

    series: tuple[Cell, ...]
    peak: Cell | None
    breaking: Verdict
    knee: Verdict

    @property
    def past_break(self) -> Cell | None:
        """The highest-throughput level at or after the breaking point, if it beats the peak."""
        if self.breaking.level is None:
            return None
        later = [c for c in self.series if c.level >= self.breaking.level]
        best = max(later, key=lambda c: c.ok_rps.median, default=None)
        beats = best is not None and (
            self.peak is None or best.ok_rps.median > self.peak.ok_rps.median
        )
        return best if beats else None


def curve_of(series: list[Cell], settings: ReportSettings, measured: bool = True) -> Curve:
    """The curve of a target's cells in level order; `measured` False: no step of it ran."""
    if not series:
        why = "no valid step" if measured else "not measured"
        return Curve((), None, Verdict(None, None, why), Verdict(None, None, why))
    breaking, end = _breaking(series, settings)
    before = series[:end]
    peak = max(before, key=lambda c: c.ok_rps.median) if before else None
    return Curve(tuple(series), peak, breaking, _knee(series, peak, settings))


def _breaking(series: list[Cell], settings: ReportSettings) -> tuple[Verdict, int]:
    """The breaking verdict and the index of its level (len(series) when nothing breaks)."""
    best_earlier: Cell | None = None
    for index, cell in enumerate(series):
        reason = _break_reason(cell, best_earlier, series[index + 1 :], settings)
        if reason:
            return Verdict(cell.target, cell.level, f"{fmt.count(cell.level)} ({reason})"), index
        if best_earlier is None or cell.ok_rps.median > best_earlier.ok_rps.median:
            best_earlier = cell
    top = series[-1].level
    return Verdict(None, None, f"not reached within the sweep (up to {fmt.count(top)})"), len(
        series
    )


def _break_reason(
    cell: Cell, best_earlier: Cell | None, later: list[Cell], settings: ReportSettings
) -> str | None:
    if cell.rate_not_held:
        return could_not_hold_text(cell)
    if cell.error_rate > settings.error_threshold:
        return f"error rate {cell.error_rate:.2%} > {settings.error_threshold:.2%}"
    slo = settings.latency_slo_ms
    if slo is not None and cell.p95.median > slo:
        return f"p95 {fmt.ms(cell.p95.median)} ms > objective {slo:g} ms"
    if best_earlier is not None and cell.ok_rps.median < _floor(best_earlier, settings):
        return _drop_reason(cell, best_earlier, later, settings)
    return None


def _floor(best: Cell, settings: ReportSettings) -> float:
    return best.ok_rps.median * (1 - settings.throughput_drop)


def _drop_reason(
    cell: Cell, best_earlier: Cell, later: list[Cell], settings: ReportSettings
) -> str | None:
    """A drop breaks when significant; with single runs, only when no later level recovers."""
    drop = 1 - cell.ok_rps.median / best_earlier.ok_rps.median
    text = (
        f"successful throughput {fmt.rps(cell.ok_rps.median)} RPS is "
        f"{fmt.change(drop, signed=False)} below {fmt.rps(best_earlier.ok_rps.median)} RPS at "
        f"{fmt.count(best_earlier.level)}"
    )
    if cell.runs >= 2 and best_earlier.runs >= 2:
        p_value = welch_p_value(cell.ok_rps.values, best_earlier.ok_rps.values)
        return f"{text}, p={p_value:.3f}" if p_value < 1 - settings.confidence else None
    if any(c.ok_rps.median >= _floor(best_earlier, settings) for c in later):
        return None  # a later level recovers: the dip is noise of single runs
    return f"{text}; provisional: 1 run"


def _knee(series: list[Cell], peak: Cell | None, settings: ReportSettings) -> Verdict:
    """The first level, up to the peak, after which throughput stops growing while p95 rises;
    the peak itself when no such level comes before it but higher levels do not go past it."""
    if peak is None:
        return Verdict(None, None, "not determined: the lowest level already breaks")
    for here, after in itertools.pairwise(series):
        if here.level > peak.level:
            break
        gain = after.ok_rps.median / here.ok_rps.median - 1 if here.ok_rps.median > 0 else 0.0
        rise = after.p95.median / here.p95.median - 1 if here.p95.median > 0 else 0.0
        if gain < settings.knee_throughput_gain and rise > settings.knee_latency_rise:
            lowest = ", the lowest level measured" if here is series[0] else ""
            return Verdict(
                here.target,
                here.level,
                f"{fmt.count(here.level)}{lowest} (from {fmt.count(here.level)} to {fmt.count(after.level)}: successful "
                f"throughput {fmt.change(gain)}, p95 {fmt.change(rise)})",
            )
    if peak is not series[-1]:
        return Verdict(
            peak.target,
            peak.level,
            f"{fmt.count(peak.level)} (the peak: no higher level raises successful throughput past it)",
        )
    return Verdict(
        None, None, f"not reached within the sweep (up to {fmt.count(series[-1].level)})"
    )


def breaking_rule(settings: ReportSettings, model: LoadModel = CLOSED) -> str:
    slo = settings.latency_slo_ms
    latency = f"p95 latency exceeds {slo:g} ms, or " if slo is not None else ""
    held = "the target could not hold the offered rate, or " if model.fixed_rate else ""
    return (
        f"Breaking point: the first level where {held}the median error rate exceeds "
        f"{fmt.setting_percent(settings.error_threshold)}, or {latency}median successful throughput falls more "
        f"than {fmt.setting_percent(settings.throughput_drop)} below the best earlier level: with two or more "
        "repetitions when a Welch t-test on the logarithms of successful throughput gives "
        f"p < {round(1 - settings.confidence, 6):g}; with one, "
        "only when no later level comes back within that margin of the earlier best (a dip that "
        "recovers is noise), and then marked provisional. Valid steps only."
        + ("" if slo is not None else " No latency objective was set (report.latency_slo_ms).")
    )


def saturation_rule(settings: ReportSettings) -> str:
    return (
        "Saturation point (knee): the first level, up to the peak, after which the next level "
        f"adds less than {fmt.setting_percent(settings.knee_throughput_gain)} successful throughput while p95 "
        f"latency rises more than {fmt.setting_percent(settings.knee_latency_rise)}; otherwise the peak itself "
        "when higher levels do not pass it. The peak is the level of the highest median "
        "successful throughput below the breaking point, so knee <= peak < breaking point."
    )
