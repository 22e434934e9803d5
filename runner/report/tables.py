"""The report's tables, each defined once as data (header + rows of text).

The Markdown writer, the HTML template and the CSV writer render the same Table objects, so a
table reads the same in every format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.measure.validity import ValiditySettings, rule_texts, withheld_cell
from runner.records.results import Failure, RunRecord, StepResult
from runner.report.floor_cells import absent_cells, floor_note

# A value in a table: text in the formatted tables, raw numbers in the CSV files (None: blank).
CellValue = str | int | float | bool | None


@dataclass(frozen=True)
class Heading:
    """A column heading under a group (a target, a job): reads "FastAPI RPS" in Markdown and
    CSV; HTML names the group once above its columns, so the headings stay one short line."""

    group: str
    name: str

    def __str__(self) -> str:
        return f"{self.group} {self.name}"


@dataclass(frozen=True)
class Table:
    header: Sequence[str | Heading]
    rows: list[list[CellValue]]

    @property
    def groups(self) -> list[tuple[str, int]]:
        """(group, columns it spans) left to right; empty when no heading has a group."""
        if not any(isinstance(h, Heading) for h in self.header):
            return []
        spans: list[tuple[str, int]] = []
        for heading in self.header:
            group = heading.group if isinstance(heading, Heading) else ""
            if spans and group and spans[-1][0] == group:
                spans[-1] = (group, spans[-1][1] + 1)
            else:
                spans.append((group, 1))
        return spans


def percentile(value: float, p: float, requests: int | None, settings: ValiditySettings) -> str:
    """A percentile's cell: its value in ms, or why the step's requests do not support it."""
    withheld = withheld_cell(p, requests, settings.samples_per_tail)
    return fmt.ms(value) if withheld is None else withheld


def summary_table(analysis: Analysis) -> Table:
    """Exactly one row per level, one column group per target."""
    open_model = analysis.model.fixed_rate
    header: list[str | Heading] = [analysis.level_name]
    for target in analysis.targets:
        label = analysis.labels[target]
        names = ["RPS", "p99 ms", "Err %"] + (["Dropped"] if open_model else [])
        header += [Heading(label, name) for name in names]
    header.append("Winner")
    rows: list[list[CellValue]] = []
    for level in analysis.levels:
        row: list[CellValue] = [fmt.count(level)]
        for target in analysis.targets:
            cell = analysis.cell(target, level)
            if cell is None:
                row += absent_cells(analysis, target, level)
                continue
            p99 = percentile(cell.p99.median, 0.99, cell.fewest_requests, analysis.validity)
            row += [fmt.rps(cell.rps.median), p99, fmt.percent(cell.error_rate)]
            if open_model:
                dropped = cell.dropped_iterations
                row.append("n/a" if dropped is None else fmt.count(dropped))
        row.append(analysis.winners[level].text)
        rows.append(row)
    return Table(header, rows)


SUMMARY_NOTE = (
    "RPS: requests per second in the measured window. p99: 99th percentile of k6 "
    "`http_req_duration` (ms). Err %: failed requests / all requests. With several "
    "repetitions each cell is the median over them. A percentile is printed only from enough "
    "requests (see Step validity)."
)


def summary_note(analysis: Analysis) -> str:
    if not analysis.model.fixed_rate:
        return SUMMARY_NOTE + floor_note(analysis)
    return (
        SUMMARY_NOTE + " Dropped: requests k6 could not start on schedule because every allowed "
        "virtual user was still waiting for the server (open model)." + floor_note(analysis)
    )


AGGREGATE_HEADER = [
    "Runs",
    "Median RPS",
    "RPS min to max",
    "RPS 95% CI of mean",
    "Err %",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "CPU (% of one core)",
    "Mem max MiB",
]


def aggregate_table(analysis: Analysis, target: str) -> Table | None:
    """Per level over repetitions; None when every level of the target ran once."""
    series = analysis.series(target)
    if not any(cell.runs > 1 for cell in series):
        return None
    rows: list[list[CellValue]] = []
    settings = analysis.validity
    for cell in series:
        fewest = cell.fewest_requests
        ci = (
            f"{fmt.rps(cell.rps.ci_low)} to {fmt.rps(cell.rps.ci_high)}"
            if cell.rps.ci_low is not None and cell.rps.ci_high is not None
            else "n/a (< 3 runs)"
        )
        rows.append(
            [
                fmt.count(cell.level),
                fmt.count(cell.runs),
                fmt.rps(cell.rps.median),
                f"{fmt.rps(cell.rps.min)} to {fmt.rps(cell.rps.max)}",
                ci,
                fmt.percent(cell.error_rate),
                percentile(cell.latency_p50_ms, 0.5, fewest, settings),
                percentile(cell.p95.median, 0.95, fewest, settings),
                percentile(cell.p99.median, 0.99, fewest, settings),
                fmt.cpu(cell.cpu_percent),
                fmt.mib(cell.memory_max_mib),
            ]
        )
    return Table([analysis.level_name, *AGGREGATE_HEADER], rows)


def step_place(level: int, repetition: int, unit: str) -> str:
    """Where in the sweep a step or failure happened, as a sentence reads it."""
    return f"at {fmt.count(level)} {unit}, repetition {repetition}"


def failure_place(failure: Failure, unit: str) -> str:
    """ " at <level>, repetition <n>" for a failed step; empty for a target that did not start."""
    if failure.level is None:
        return ""
    return " " + step_place(failure.level, failure.repetition or 1, unit)


def steps_of(record: RunRecord, target: str) -> list[StepResult]:
    return sorted((s for s in record.steps if s.target == target), key=lambda s: (s.key, s.attempt))


VALIDITY_HEADER = ["Target", "Level", "Rep", "Reasons", "Figures"]


def _figure(value: float) -> str:
    """Counts in the report's style (10,000), shares and ratios to four significant digits."""
    return fmt.count(value) if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"


def _figures(figures: dict[str, float]) -> str:
    return ", ".join(f"{name} {_figure(value)}" for name, value in figures.items())


def validity_table(record: RunRecord) -> Table:
    """Every invalid step with each of its reasons and that reason's figures."""
    rows: list[list[CellValue]] = []
    for s in sorted(record.steps, key=lambda s: (s.key, s.attempt)):
        if s.validity is None or s.validity.valid:
            continue
        for reason in (r for r in s.validity.reasons if r.invalidates):
            row = [
                s.label,
                fmt.count(s.level),
                fmt.repetition(s.repetition, s.attempt),
                reason.text,
                _figures(reason.figures),
            ]
            rows.append(list(row))
    return Table(VALIDITY_HEADER, rows)


def validity_note(record: RunRecord) -> str:
    """How many steps were judged invalid, and how many not judged at all."""
    judged = [s for s in record.steps if s.validity is not None]
    invalid = [s for s in judged if s.validity is not None and not s.validity.valid]
    note = f"{len(invalid)} of {len(judged)} judged step(s) invalid."
    unjudged = len(record.steps) - len(judged)
    if unjudged:
        note += f" {unjudged} step(s) not judged (stored before step validity existed)."
    return note


def ceiling_note(record: RunRecord) -> str:
    """k6's ceiling and, per target, the range of its steps' throughput as a share of it."""
    ceiling = record.provenance.client_ceiling
    if ceiling is None:
        return "k6's ceiling was not measured for this run: steps are judged by k6's CPU alone."
    how = "from this machine's cache" if ceiling.cached else "measured for this run"
    parts = []
    for target in record.experiment.targets:
        shares = [s.client_ceiling_share for s in record.steps if s.target == target]
        known = [share for share in shares if share is not None]
        if known:
            label = record.experiment.label(target)
            low, high = f"{min(known):.0%}", f"{max(known):.0%}"
            parts.append(f"{label} {low}" if low == high else f"{label} {low} to {high}")
    shares_text = f" Throughput as a share of it: {'; '.join(parts)}." if parts else ""
    return f"k6's ceiling on this machine: {ceiling.levels_text()} ({how}).{shares_text}"


def validity_rules(record: RunRecord) -> list[str]:
    """The rules every step was judged by, with the run's thresholds."""
    floor = record.provenance.steal_floor
    return list(rule_texts(record.experiment.validity, floor.shares if floor else None).values())
