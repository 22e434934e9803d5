"""The gate's result for a person (a rich table on the terminal) and for a CI job (Markdown).

Both render one Table, so the terminal and the Markdown summary read the same."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table as RichTable

from runner.analysis import formatting as fmt
from runner.analysis.significance import METRICS, Comparison, confidence_text, threshold_of
from runner.compare.gate import GateResult
from runner.report.markdown import markdown_table
from runner.report.tables import CellValue, Table

EXIT_MEANING = {
    0: "no regression",
    1: "regression or missing",
    2: "refused",
    3: "inconclusive",
}
DECISION_STYLE = {
    "regression": "bold red",
    "MISSING": "bold red",
    "inconclusive": "yellow",
    "improvement": "green",
    "no change": "",
}


def _value(metric: str, values: Sequence[float]) -> str:
    if not values:
        return "none valid"
    middle = statistics.median(values)
    shown = f"{middle * 100:.2f}%" if metric == "error_rate" else f"{middle:,.2f}"
    return f"{shown} (n={len(values)})"


def _change(metric: str, value: float) -> str:
    return f"{value * 100:+.2f} pt" if not METRICS[metric].relative else f"{value:+.1%}"


def _row(c: Comparison) -> list[CellValue]:
    estimate = c.estimate
    if estimate is not None:
        change = _change(c.metric, estimate.change)
        interval = f"{_change(c.metric, estimate.low)} to {_change(c.metric, estimate.high)}"
    else:
        ratio = c.ratio_of_medians
        change = f"{ratio - 1:+.1%} (medians)" if ratio is not None else "-"
        interval = "-"
    p_value = "-" if c.adjusted_p_value is None else f"{c.adjusted_p_value:.3g}"
    return [
        c.target,
        str(c.level),
        METRICS[c.metric].label,
        _value(c.metric, c.baseline),
        _value(c.metric, c.candidate),
        change,
        interval,
        p_value,
        c.decision,
    ]


def result_table(result: GateResult) -> Table:
    confidence = f"{confidence_text(result.settings.alpha)} CI"
    header = ["Target", "Level", "Metric", "Baseline", "Candidate", "Change", confidence]
    header += ["p (Holm)", "Decision"]
    rows = [_row(c) for c in ordered(result.comparisons)]
    rows += [
        [m.target, str(m.level), "all", "-", "-", "-", "-", "-", "MISSING"] for m in result.missing
    ]
    return Table(header, rows)


def _counts(result: GateResult) -> str:
    decisions = [c.decision for c in result.comparisons]
    parts = [f"{len(result.missing)} missing"] if result.missing else []
    parts += [
        f"{decisions.count(d)} {d}"
        for d in ("regression", "inconclusive", "improvement", "no change")
        if d in decisions
    ]
    return ", ".join(parts)


def ordered(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """By target and level, the metrics in their usual order (throughput first)."""
    rank = {metric: index for index, metric in enumerate(METRICS)}
    return sorted(comparisons, key=lambda c: (c.target, c.level, rank[c.metric]))


def _reasons(comparisons: Sequence[Comparison]) -> list[str]:
    """Why each comparison was not 'no change'; the same reason is given once, with where."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for c in ordered(comparisons):
        if c.decision != "no change":
            where = f"{c.target} at {fmt.count(c.level)} {METRICS[c.metric].label}"
            grouped.setdefault((c.decision, c.reason), []).append(where)
    lines = []
    for (decision, reason), places in grouped.items():
        shown = ", ".join(places[:6]) + (f" and {len(places) - 6} more" if len(places) > 6 else "")
        lines.append(f"{decision}: {shown}: {reason}")
    return lines


def explanations(result: GateResult) -> list[str]:
    """One line per decision other than 'no change', missing cells, steps left out and the
    differences that were allowed."""
    s = result.settings
    lines = [
        f"Decision: {result.decision} (exit status {result.exit_status}: "
        f"{EXIT_MEANING[result.exit_status]}); {_counts(result)}.",
        f"Thresholds: successful RPS {threshold_of(METRICS['successful_rps'], s):.0%}, "
        f"latency {threshold_of(METRICS['p95_ms'], s):.0%}, error rate "
        f"{s.error_rate_threshold * 100:.2f} pt; alpha {s.alpha:g} across all "
        f"{len(result.comparisons)} comparisons (Holm); at least {s.min_repetitions} valid "
        "repetitions a side.",
    ]
    lines += [f"MISSING {m.target} at {fmt.count(m.level)}: {m.reason}" for m in result.missing]
    lines += _reasons(result.comparisons)
    for side, steps in result.left_out.items():
        if steps:
            lines.append(f"Left out of the {side} as invalid: {', '.join(steps)}.")
    lines += [f"Allowed difference: {d.describe()}" for d in result.allowed]
    return lines


def print_result(result: GateResult, console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 160)
    table = result_table(result)
    rich_table = RichTable(title="sweepbench compare: baseline -> candidate")
    for heading in table.header:
        name = str(heading)
        rich_table.add_column(name, justify="left" if name in ("Target", "Metric") else "right")
    for row in table.rows:
        decision = str(row[-1])
        rich_table.add_row(*(str(v) for v in row), style=DECISION_STYLE.get(decision, ""))
    console.print(rich_table)
    for line in explanations(result):
        console.print(line, markup=False, highlight=False)


def markdown_summary(result: GateResult, baseline: str, candidate: str) -> str:
    lines = [
        "## sweepbench compare",
        "",
        f"Baseline `{baseline}`, candidate `{candidate}`.",
        "",
        *markdown_table(result_table(result)),
        "",
    ]
    lines += [f"- {line}" for line in explanations(result)]
    return "\n".join(lines) + "\n"


def markdown_refusal(message: str, baseline: str, candidate: str) -> str:
    return (
        "## sweepbench compare: refused\n\n"
        f"Baseline `{baseline}`, candidate `{candidate}`.\n\n{message}\n\n"
        "Exit status 2: the runs were not compared.\n"
    )
