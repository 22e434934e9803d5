"""report.md: Test Configuration, Summary, Detailed Results, Failures, all from the stored run.

`markdown_table` is the one Markdown table writer (the matrix report uses it too): it escapes
`|` and line breaks in every cell, so no value can break a table.
"""

from __future__ import annotations

from pathlib import Path

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.records.results import RunRecord
from runner.report.capacity import capacity_section
from runner.report.configuration import configuration_facts, targets_table
from runner.report.headline import headline
from runner.report.retries import retries_text, rounds_note, rounds_table
from runner.report.step_table import STEPS_NOTE, steps_table
from runner.report.tables import (
    CellValue,
    Table,
    aggregate_table,
    ceiling_note,
    failure_place,
    step_place,
    steps_of,
    summary_note,
    summary_table,
    validity_note,
    validity_rules,
    validity_table,
)


def text(value: CellValue) -> str:
    """A value as Markdown inline text: `|` escaped, one line."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> list[str]:
    header = table.header
    lines = ["| " + " | ".join(text(str(h)) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(text(c) for c in row) + " |" for row in table.rows]
    return lines


def answer(analysis: Analysis) -> list[str]:
    """The headline as a quote: the answer in bold, its caveats below."""
    first, *caveats = headline(analysis)
    lines = [f"> **{text(first)}**"]
    lines += [line for caveat in caveats for line in (">", f"> {text(caveat)}")]
    return [*lines, ""]


def configuration(record: RunRecord) -> list[str]:
    lines = ["## Test Configuration", ""]
    lines += [
        f"- **{text(name)}**: {text(value)}" for name, value in configuration_facts(record).rows
    ]
    lines += ["", "Targets:", ""]
    return lines + markdown_table(targets_table(record))


def summary(analysis: Analysis) -> list[str]:
    lines = ["## Summary", "", *markdown_table(summary_table(analysis))]
    return [*lines, "", summary_note(analysis), "", text(analysis.rules["winner"])]


def schedule_notes(record: RunRecord, analysis: Analysis) -> list[str]:
    """Under `repetitions: auto`, each level's rounds and why it stopped; the retries."""
    lines: list[str] = []
    table = rounds_table(record, analysis.level_name)
    if table:
        lines += ["", "### Rounds", "", *markdown_table(table), "", text(rounds_note(record))]
    retries = retries_text(record)
    return [*lines, "", text(retries)] if retries else lines


def details(record: RunRecord, analysis: Analysis) -> list[str]:
    lines = ["## Detailed Results", "", STEPS_NOTE]
    for target in analysis.targets:
        steps = steps_of(record, target)
        lines += ["", f"### {text(analysis.labels[target])}", ""]
        if not steps:
            see = " (see Failures)" if record.failures else ""
            lines.append(f"No step of this target was measured{see}.")
            continue
        aggregate = aggregate_table(analysis, target)
        if aggregate is not None:
            lines += ["Per level, over repetitions:", "", *markdown_table(aggregate)]
            lines += ["", "Per step:", ""]
        lines += markdown_table(steps_table(analysis, steps, record.experiment))
        for s in (s for s in steps if s.failed_requests):
            causes = ", ".join(f"{cause}: {fmt.count(n)}" for cause, n in s.errors.items() if n)
            place = step_place(s.level, s.repetition, analysis.level_unit)
            lines.append(
                f"\n- {place}: {fmt.count(s.failed_requests)} failed requests"
                + (f" ({causes})" if causes else "")
            )
    return lines


def step_validity(record: RunRecord) -> list[str]:
    """Invalid steps stay in every table (their Valid cell says why); here, their reasons."""
    table = validity_table(record)
    lines = ["## Step validity", "", text(validity_note(record)), "", text(ceiling_note(record))]
    if table.rows:
        lines += ["", *markdown_table(table)]
    return [*lines, "", "Rules:", "", *[f"- {text(rule)}" for rule in validity_rules(record)]]


def _verdict_lines(analysis: Analysis, kind: str) -> list[str]:
    verdicts = analysis.breaking_points if kind == "breaking" else analysis.saturation
    lines = [
        f"- **{text(analysis.labels[t])}**: {text(verdicts[t].text)}" for t in analysis.targets
    ]
    return [*lines, "", text(analysis.rules[kind])]


def analysis_section(analysis: Analysis) -> list[str]:
    lines = ["## Analysis", "", "### Breaking Points", "", *_verdict_lines(analysis, "breaking")]
    lines += ["", "### Saturation Points", "", *_verdict_lines(analysis, "saturation")]
    lines += ["", "### Findings", ""]
    lines += [f"- {text(line)}" for line in analysis.findings]
    lines += ["", "### Recommendations", ""]
    if analysis.recommendations:
        lines += [f"- {text(line)}" for line in analysis.recommendations]
    else:
        lines.append("- Only one target was measured: there is nothing to compare.")
    return lines


def capacity(record: RunRecord) -> list[str]:
    """A capacity run's Capacity section: its rules, the result per target, every trial."""
    section = capacity_section(record)
    lines = ["## Capacity", "", *markdown_table(section.summary), ""]
    lines += [f"**{text(note)}**" for note in section.notes]
    lines += ["", "### Rules", "", *[f"- {text(rule)}" for rule in section.rules]]
    for target in section.targets:
        lines += ["", f"### {text(target.label)}", "", text(target.headline), ""]
        lines += markdown_table(target.trials)
    return lines


def notes(record: RunRecord) -> list[str]:
    lines: list[str] = []
    if record.failures:
        lines += ["", "## Failures", ""]
        for failure in record.failures:
            where = failure_place(failure, record.experiment.load.kind.unit)
            lines.append(f"- **{text(failure.label)}**{where}: {text(failure.message)}")
            if failure.log_tail:
                lines += [
                    "",
                    "  ```",
                    *[f"  {line}" for line in failure.log_tail.splitlines()],
                    "  ```",
                ]
    return lines


def render(record: RunRecord, analysis: Analysis) -> str:
    experiment = record.experiment
    title = experiment.report.title or experiment.name
    lines = [f"# Benchmark report: {text(title)}", ""]
    if record.capacity is None:
        lines += answer(analysis)
    if experiment.description:
        lines += [text(experiment.description), ""]
    if not record.complete:
        lines += [
            "> **Partial report**: the run stopped before its last step. "
            "Only the steps below were measured.",
            "",
        ]
    if record.provenance.resumed_at:
        lines += [
            f"> **Resumed run**: measured in {len(record.provenance.resumed_at) + 1} attempts; "
            "Test Configuration (Attempts) says which steps came from which.",
            "",
        ]
    lines += configuration(record)
    if record.capacity is not None:
        lines += ["", *capacity(record)]
    else:
        lines += ["", *summary(analysis), *schedule_notes(record, analysis)]
        lines += ["", *details(record, analysis)]
        lines += ["", *step_validity(record), "", *analysis_section(analysis)]
    lines += notes(record)
    lines += ["", "---", "*Every figure above is read from `results.json` in this directory.*", ""]
    return "\n".join(lines)


def write(path: Path, record: RunRecord, analysis: Analysis) -> Path:
    path.write_text(render(record, analysis))
    return path
