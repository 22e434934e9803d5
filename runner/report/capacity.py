"""The Capacity section of a capacity run's reports, as data: its rules, its tables and its
charts. runner.report.markdown and runner.report.html render it, like every other table.

It reads the run's record (record.capacity, the experiment's load.capacity) and nothing of the
search itself: the rules are the ones the search's configuration states (SearchConfig.rules), so
the report builds on the records and the capacity search never on the report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from runner.analysis import formatting as fmt
from runner.capacity.settings import early_stop_rule_of, objective_of, search_config_of
from runner.config.experiment import Experiment
from runner.records.results import CapacityRun, RunRecord, TargetCapacity, TrialRecord
from runner.report import svg
from runner.report.charts import figure
from runner.report.tables import CellValue, Table

__all__ = ["CapacitySection", "capacity_facts", "capacity_section"]

SUMMARY_HEADER = [
    "Target",
    "Capacity",
    "Interval (RPS)",
    "Stopped because",
    "Confirmation",
    "Disturbed trials",
    "Trials",
    "Load s",
    "Wall s",
]
_UNFINISHED = "The search did not finish (see Failures, or the run was stopped)."
VERDICT_COLORS = {
    "pass": "#2ca02c",
    "fail": "#d62728",
    "invalid": "#7f7f7f",
    "confirmation": "#1f77b4",
}
TRACE_COLOR = "#bbbbbb"
# The latency chart's y axis starts at zero: overloaded trials (seconds) would flatten the rest.
CLIP_FACTOR = 4.0


@dataclass(frozen=True)
class TargetSection:
    label: str
    headline: str  # one sentence: the capacity, why the search stopped, its confidence
    trials: Table


@dataclass(frozen=True)
class CapacitySection:
    rules: list[str]
    summary: Table
    notes: list[str]  # said plainly: budget spent, no rate met the objective, client limit
    targets: list[TargetSection]
    charts: list[dict[str, Any]]


def capacity_facts(experiment: Experiment) -> list[list[CellValue]]:
    """The configuration facts of a capacity run, in place of a sweep's levels and durations."""
    settings = experiment.load.capacity
    assert settings is not None
    load = experiment.load
    return [
        ["Objective", objective_of(settings).describe()],
        [
            "Search",
            f"from {settings.start_rate} RPS within {settings.min_rate} to {settings.max_rate} "
            f"RPS, precision {settings.precision:.0%}",
        ],
        [
            "Trials",
            f"{settings.short_trial} short, {settings.long_trial} long, {settings.confirmation} "
            f"confirmation, each after a {load.warmup} warmup that is not counted; early stop "
            + ("on" if settings.early_stop else "off"),
        ],
        ["Budget", f"{settings.budget} of load per target, confirmations included"],
    ]


def _confirmation_text(run: CapacityRun, target: TargetCapacity) -> str:
    trials = [t for t in run.trials if t.target == target.target and t.plan == "confirm"]
    if not trials:
        return "none"
    return "; ".join(f"{t.verdict} at {t.rate} RPS ({t.why})" for t in trials)


def interval_text(target: TargetCapacity) -> str:
    """'575-600', 'at least 400 (no rate failed)', 'below 25 (no rate passed)'."""
    low, high = target.highest_pass, target.lowest_fail
    if low is not None and high is not None:
        return f"{low}-{high}"
    if low is not None:
        return f"at least {low} (no rate failed)"
    if high is not None:
        return f"below {high} (no rate passed)"
    return "none"


def disturbed_text(target: TargetCapacity) -> str:
    """'2 (3.1 s of load, 6 s of pauses)', or '0'."""
    if not target.disturbed_trials:
        return "0"
    return (
        f"{target.disturbed_trials} ({target.disturbed_s:.1f} s of load, "
        f"{target.pauses_s:g} s of pauses)"
    )


def _summary(run: CapacityRun) -> Table:
    rows: list[list[CellValue]] = []
    for t in run.targets:
        rows.append(
            [
                t.label,
                t.headline,
                interval_text(t),
                f"{t.stop_reason}: {t.stop_text}",
                _confirmation_text(run, t),
                disturbed_text(t),
                str(t.trials),
                f"{t.search_s:.1f}",
                f"{t.wall_s:.1f}",
            ]
        )
    return Table(SUMMARY_HEADER, rows)


def _trial_row(trial: TrialRecord) -> list[CellValue]:
    step = trial.step
    validity = step.validity
    invalidating = [r.text for r in validity.reasons if r.invalidates] if validity else []
    problems = "; ".join(invalidating) if validity else "not judged"
    return [
        str(trial.number),
        trial.plan + (" (long)" if trial.long else ""),
        f"{trial.pause_s:g}" if trial.pause_s else "",
        str(trial.rate),
        f"{step.duration_s:.1f} of {trial.planned_s:g}",
        str(step.requests),
        fmt.rps(step.rps),
        "n/a" if step.dropped_iterations is None else str(step.dropped_iterations),
        fmt.ms(trial.percentile_ms),
        fmt.ms(trial.stall_ms) if trial.stall_ms else "",
        fmt.percent(step.error_rate),
        trial.verdict + (" (close)" if trial.close else ""),
        trial.why,
        trial.early_stop or "",
        problems or "valid",
    ]


def _trials_table(trials: list[TrialRecord], percentile: str) -> Table:
    header = ["#", "Plan", "Paused s", "Rate (RPS)", "Ran s", "Requests", "Achieved RPS"]
    header += ["Dropped", f"{percentile} ms", "Longest stall ms", "Err %", "Verdict", "Why"]
    header += ["Stopped early", "Step validity"]
    return Table(header, [_trial_row(t) for t in trials])


def _notes(run: CapacityRun) -> list[str]:
    notes = []
    for t in run.targets:
        if t.capacity_rps is None and t.stop_reason == "budget spent":
            notes.append(
                f"{t.label}: the time budget ran out before any rate passed ({t.stop_text})."
            )
        elif t.capacity_rps is None:
            notes.append(f"{t.label}: no rate meets the objective. {t.stop_text}.")
        elif t.stop_reason == "budget spent":
            notes.append(
                f"{t.label}: the time budget ran out before the bracket was within the "
                f"precision ({t.stop_text}); {t.capacity_rps} RPS is the highest rate that passed."
            )
        elif t.at_least:
            notes.append(
                f"{t.label}: {t.headline}; a figure for the load generator, not the server."
            )
        notes += _confirmation_notes(t)
    return notes


def _confirmation_notes(t: TargetCapacity) -> list[str]:
    notes = []
    if t.failed_confirmations:
        failed = ", ".join(f"{rate} RPS" for rate in t.failed_confirmations)
        below = (
            f"{t.capacity_rps} RPS, the highest settled pass below it, is "
            + ("confirmed" if t.confirmed else "not confirmed")
            if t.capacity_rps is not None
            else "no rate below it passed"
        )
        notes.append(
            f"{t.label}: the confirmation failed at {failed}: the capacity is taken below it, "
            f"never at or above it; {below}."
        )
    if t.disturbed_trials:
        notes.append(
            f"{t.label}: {t.disturbed_trials} trial(s) were disturbed (other work, steal or "
            f"the platform's stalls) and repeated after pauses: {t.disturbed_s:.1f} s of load "
            f"and {t.pauses_s:g} s of waiting; none of them counts."
        )
    return notes


def _trace_chart(run: CapacityRun, target: TargetCapacity) -> svg.LineChart:
    """The rate of each trial in the order run, its marker coloured by its verdict."""
    trials = [t for t in run.trials if t.target == target.target]
    rates: list[float | None] = [float(t.rate) for t in trials]
    series = [svg.Series("rate asked", rates, color=TRACE_COLOR)]
    for verdict, color in VERDICT_COLORS.items():
        marks = [float(t.rate) if _marker(t) == verdict else None for t in trials]
        if any(m is not None for m in marks):
            series.append(svg.Series(verdict, marks, color=color))
    return svg.LineChart(
        id=f"chart-capacity-trace-{target.target}",
        title=f"Search trace: {target.label}",
        x_title="trial, in the order run (c: confirmation)",
        y_title="rate (RPS)",
        categories=[f"{t.number}c" if t.plan == "confirm" else str(t.number) for t in trials],
        series=series,
    )


def _marker(trial: TrialRecord) -> str:
    if trial.plan == "confirm":
        return "confirmation"
    return trial.verdict if trial.verdict in ("pass", "fail") else "invalid"


def _latency_chart(run: CapacityRun, percentile: str, objective_ms: float) -> svg.LineChart:
    """Each target's percentile at each rate it was tried at (median over its trials there),
    drawn up to CLIP_FACTOR x the objective; the tables give every figure."""
    rates = sorted({t.rate for t in run.trials})
    clip = CLIP_FACTOR * objective_ms
    series = [
        svg.Series(f"objective {objective_ms:g} ms", [objective_ms] * len(rates), color="#555555")
    ]
    for index, (name, label) in enumerate(dict.fromkeys((t.target, t.label) for t in run.trials)):
        values: list[float | None] = []
        for rate in rates:
            here = [t.percentile_ms for t in run.trials if t.target == name and t.rate == rate]
            values.append(min(statistics.median(here), clip) if here else None)
        series.append(svg.Series(label, values, color=svg.PALETTE[index % len(svg.PALETTE)]))
    return svg.LineChart(
        id="chart-capacity-latency",
        title=f"{percentile} latency against rate (drawn up to {CLIP_FACTOR:g}x the objective)",
        x_title="rate (RPS), every rate tried",
        y_title=f"{percentile} ms",
        categories=[fmt.count(rate) for rate in rates],
        series=series,
    )


def _charts(run: CapacityRun, percentile: str, objective_ms: float) -> list[dict[str, Any]]:
    charts = [_trace_chart(run, target) for target in run.targets]
    if run.trials:
        charts.append(_latency_chart(run, percentile, objective_ms))
    return [figure(chart) for chart in charts]


def capacity_section(record: RunRecord) -> CapacitySection:
    """The Capacity section of a capacity run (record.capacity must be set)."""
    run = record.capacity
    settings = record.experiment.load.capacity
    assert run is not None and settings is not None
    config = search_config_of(settings)
    rule = early_stop_rule_of(settings)
    rules = config.rules()
    rules.append(rule.text(objective_of(settings)) if rule else "Early stop: off.")
    targets = []
    for name, label in dict.fromkeys((t.target, t.label) for t in run.trials):
        trials = [t for t in run.trials if t.target == name]
        found = run.of(name)
        headline = f"{found.headline}. {found.confidence}." if found else _UNFINISHED
        table = _trials_table(trials, settings.percentile)
        targets.append(TargetSection(label, headline, table))
    return CapacitySection(
        rules=rules,
        summary=_summary(run),
        notes=_notes(run),
        targets=targets,
        charts=_charts(run, settings.percentile, settings.latency_ms),
    )
