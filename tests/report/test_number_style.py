"""One number style across every table and sentence of a report (runner.analysis.formatting).

A report with large and small figures, repetitions, errors and a failure is rendered to Markdown;
every figure found next to its unit, and every cell of a numeric column, must be in the style of
its kind, and no number of 1,000 or more may lack its thousands separator.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.analysis import formatting as fmt
from runner.measure.stalls import CoreStalls, StallFigures
from runner.measure.validity import Reason, Validity
from runner.records.results import Failure, StepResult
from tests.factories import record, step, write_synthetic

WHOLE = r"\d{1,3}(?:,\d{3})*"  # 5,240
ONE_DECIMAL = WHOLE + r"\.\d"  # 1,012.5
TWO_DECIMALS = WHOLE + r"\.\d{2}"  # 0.25
# In a sentence: the figure before its unit, and the style it must have.
PROSE_STYLES = {
    r"([\d.,]+) RPS\b": WHOLE,
    r"([\d.,]+) RPS/core": WHOLE,
    r"([\d.,]+) ms\b": ONE_DECIMAL,
    r"([\d.,]+) MiB\b": ONE_DECIMAL,
    r"error rate ([\d.,]+)%": TWO_DECIMALS,
    r"server CPU ([\d.,]+)%": WHOLE,
    r"throughput ([+-][\d.,]+)%": ONE_DECIMAL,
    r"p95 ([+-][\d.,]+)%": ONE_DECIMAL,
    r"p=([\d.]+)": r"0\.\d{3}",
}


# A percentile the step's requests do not support (runner.measure.validity), in place of its value.
WITHHELD = r"too few \([\d,]+ < [\d,]+ requests\)"


def column_style(header: str) -> str | None:
    """The style of a table column, from its heading; None for text columns."""
    if header.endswith(("Err %",)):
        return TWO_DECIMALS + "%"
    if header.startswith("Stall"):  # the stall probe's figures, n/a without a probe
        return f"(?:{ONE_DECIMAL}|n/a)"
    if (header.startswith("p") and header.endswith("ms")) or (" p" in header and "ms" in header):
        return rf"(?:{ONE_DECIMAL}(?: \(stalls\))?|{WITHHELD})"
    if header.endswith(("ms", "MiB")):
        return ONE_DECIMAL
    if "CPU" in header:
        return WHOLE + "%"
    if header.endswith(("RPS", "Requests", "Rep", "Runs", "Processes", "Concurrency")):
        return WHOLE
    return None


def with_stalled_tail(s: StepResult) -> StepResult:
    """The step with stall figures on its server's core and its tail marked the platform's."""
    core = CoreStalls(core=0, wakes=400, p99_ms=1.234, max_ms=61.26, late_wakes=3,
                      total_late_ms=70.5)  # fmt: skip
    stalls = StallFigures(interval_ms=25, late_threshold_ms=1, span_start=0, span_end=10,
                          cores=[core], missing_cores=[])  # fmt: skip
    tail = Reason(code="stalls", text="p99 ...", figures={}, invalidates=False)
    return s.model_copy(update={"stalls": stalls, "validity": Validity(valid=True, reasons=[tail])})


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    labels = {"fast": "Fast", "slow": "Slow"}
    steps = [
        step("fast", level, 12_345.678 + 900 * rep - level, rep, p95=0.4321 * level, label="Fast")
        for level in (10, 100, 1000)
        for rep in (1, 2, 3)
    ]
    steps += [
        step("slow", level, 987.654 / rep + level, rep, 0.0123, 1234.567, label="Slow", cpu=187.6)
        for level in (10, 100, 1000)
        for rep in (1, 2, 3)
    ]
    steps[4] = with_stalled_tail(steps[4])
    failure = Failure(target="slow", label="Slow", stage="step", level=1000, message="boom")
    rec = record(steps, labels=labels, failures=[failure])
    run_dir = write_synthetic(tmp_path_factory.mktemp("style"), rec)
    return (run_dir / "report.md").read_text()


def measured_part(report: str) -> str:
    """Everything after the Test Configuration (which quotes versions, times and commits)."""
    return report.split("## Summary", 1)[1]


def test_prose_figures_follow_the_style_of_their_kind(report: str) -> None:
    prose = "\n".join(line for line in measured_part(report).splitlines() if line.startswith("- "))
    checked = 0
    for pattern, style in PROSE_STYLES.items():
        for figure in re.findall(pattern, prose):
            checked += 1
            assert re.fullmatch(style, figure.lstrip("+-")), (pattern, figure)
    assert checked > 20  # the sentences do carry figures


def test_table_cells_follow_the_style_of_their_column(report: str) -> None:
    checked = 0
    for table in re.findall(r"(?:^\|.*\|\n)+", measured_part(report), re.M):
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]
        header, body = rows[0], rows[2:]
        for index, heading in enumerate(header):
            style = column_style(heading)
            for row in body if style else []:
                checked += 1
                assert re.fullmatch(style, row[index]), (heading, row[index])
    assert checked > 200
    assert "| 61.3 |" in report and "(stalls) |" in report  # the stalled step's cells


def test_no_number_of_four_digits_lacks_its_separator(report: str) -> None:
    # p99.9 is a name, not a figure.
    text = measured_part(report).replace("p99.9", "")
    assert re.findall(r"(?<![\d,.])\d{4,}", text) == []
    assert "1,000" in text and fmt.rps(12_345.678) == "12,346"


def test_levels_in_the_configuration_use_the_same_style(report: str) -> None:
    assert "**Concurrency levels**: 10, 100; 1,000" not in report  # one joiner per list
    assert "10; 100; 1,000 virtual users (3 levels, as listed)" in report


def test_sentences_read_naturally(report: str, tmp_path: Path) -> None:
    assert "explicit list" not in report
    assert "already at the lowest level tried" not in report
