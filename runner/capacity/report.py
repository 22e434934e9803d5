"""The Capacity section of a capacity run's reports, as data: its rules, its tables and its
charts. runner.report.markdown and runner.report.html render it, like every other table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

from runner.capacity.search import SEARCH_RULE
from runner.model import Experiment
from runner.report import formatting as fmt
from runner.report.charts import figure_json
from runner.report.tables import CellValue, Table
from runner.report.templating import script_json
from runner.results import CapacityRun, RunRecord, TargetCapacity, TrialRecord

__all__ = ["CapacitySection", "capacity_facts", "capacity_section"]

SUMMARY_HEADER = [
    "Target",
    "Capacity",
    "Highest pass (RPS)",
    "Lowest fail (RPS)",
    "Stopped because",
    "Confirmation",
    "Trials",
    "Load s",
    "Wall s",
]
_UNFINISHED = "The search did not finish (see Failures, or the run was stopped)."
VERDICT_COLORS = {"pass": "#2ca02c", "fail": "#d62728", "invalid": "#7f7f7f"}


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
        ["Objective", settings.objective.describe()],
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
        ["Budget", f"{settings.budget} of load per target, confirmation included"],
    ]


def _confirmation_text(run: CapacityRun, target: TargetCapacity) -> str:
    trial = next((t for t in run.trials if t.target == target.target and t.plan == "confirm"), None)
    if trial is None:
        return "none"
    return f"{trial.verdict} at {trial.rate} RPS ({trial.why})"


def _summary(run: CapacityRun) -> Table:
    rows: list[list[CellValue]] = []
    for t in run.targets:
        rows.append(
            [
                t.label,
                t.headline,
                "none" if t.highest_pass is None else str(t.highest_pass),
                "none" if t.lowest_fail is None else str(t.lowest_fail),
                f"{t.stop_reason}: {t.stop_text}",
                _confirmation_text(run, t),
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
        str(trial.rate),
        f"{step.duration_s:.1f} of {trial.planned_s:g}",
        str(step.requests),
        fmt.rps(step.rps),
        "n/a" if step.dropped_iterations is None else str(step.dropped_iterations),
        fmt.ms(trial.percentile_ms),
        fmt.percent(step.error_rate),
        trial.verdict + (" (close)" if trial.close else ""),
        trial.why,
        trial.early_stop or "",
        problems or "valid",
    ]


def _trials_table(trials: list[TrialRecord], percentile: str) -> Table:
    header = ["#", "Plan", "Rate (RPS)", "Ran s", "Requests", "Achieved RPS", "Dropped"]
    header += [f"{percentile} ms", "Err %", "Verdict", "Why", "Stopped early", "Step validity"]
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
    return notes


def _trace_chart(run: CapacityRun) -> go.Figure:
    """Rate against time since the target's search began, one marker per trial by verdict."""
    figure = go.Figure()
    palette = qualitative.Plotly
    for index, target in enumerate(run.targets):
        trials = [t for t in run.trials if t.target == target.target]
        if not trials:
            continue
        start = trials[0].step.started_at
        figure.add_trace(
            go.Scatter(
                x=[round(t.step.started_at - start, 1) for t in trials],
                y=[t.rate for t in trials],
                mode="lines+markers",
                name=fmt.html_safe(target.label),
                line={"color": palette[index % len(palette)], "dash": "dot"},
                marker={
                    "size": [14 if t.plan == "confirm" else 10 for t in trials],
                    "color": [VERDICT_COLORS.get(t.verdict, "#7f7f7f") for t in trials],
                    "symbol": ["diamond" if t.plan == "confirm" else "circle" for t in trials],
                },
                text=[fmt.html_safe(f"{t.plan}: {t.verdict}: {t.why}") for t in trials],
            )
        )
    return _layout(
        figure,
        "Search trace (green: pass, red: fail, grey: invalid; ◆ confirmation)",
        "seconds since the search began",
        "rate (RPS)",
    )


def _latency_chart(run: CapacityRun, percentile: str, objective_ms: float) -> go.Figure:
    figure = go.Figure()
    palette = qualitative.Plotly
    for index, target in enumerate(run.targets):
        trials = sorted((t for t in run.trials if t.target == target.target), key=lambda t: t.rate)
        figure.add_trace(
            go.Scatter(
                x=[t.rate for t in trials],
                y=[t.percentile_ms for t in trials],
                mode="markers",
                name=fmt.html_safe(target.label),
                marker={"color": palette[index % len(palette)], "size": 9},
            )
        )
    figure.add_hline(
        y=objective_ms,
        line={"dash": "dash", "color": "#555"},
        annotation_text=f"objective {objective_ms:g} ms",
    )
    figure.update_yaxes(type="log")
    return _layout(
        figure,
        f"{percentile} latency against rate, every trial (log scale)",
        "rate (RPS)",
        f"{percentile} ms",
    )


def _layout(figure: go.Figure, title: str, x_axis: str, y_axis: str) -> go.Figure:
    figure.update_layout(
        title={"text": title},
        xaxis={"title": {"text": x_axis}},
        yaxis={"title": {"text": y_axis}},
        margin={"l": 60, "r": 20, "t": 50, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22},
    )
    return figure


def _charts(run: CapacityRun, percentile: str, objective_ms: float) -> list[dict[str, Any]]:
    figures = {
        "chart-capacity-trace": _trace_chart(run),
        "chart-capacity-latency": _latency_chart(run, percentile, objective_ms),
    }
    return [
        {"id": name, "id_json": script_json(name)} | figure_json(figure)
        for name, figure in figures.items()
    ]


def capacity_section(record: RunRecord) -> CapacitySection:
    """The Capacity section of a capacity run (record.capacity must be set)."""
    run = record.capacity
    settings = record.experiment.load.capacity
    assert run is not None and settings is not None
    config = settings.search_config()
    rule = settings.early_stop_rule()
    rules = [SEARCH_RULE, settings.objective.rule_text(), config.confidence_rule()]
    rules.append(rule.text(settings.objective) if rule else "Early stop: off.")
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
