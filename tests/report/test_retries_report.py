"""Retried steps and auto rounds as the analysis and report.md read them (synthetic runs)."""

from __future__ import annotations

from pathlib import Path

from runner.analysis import analyze
from runner.records.results import LevelRounds
from runner.records.store import load_run
from tests.factories import record, step, write_synthetic


def retried_run() -> list:  # type: ignore[type-arg]
    return [
        step("fast", 10, 3000),
        step("slow", 10, 1000),
        step("fast", 20, 2000, invalid="steal"),  # disturbed, then valid on attempt 2
        step("fast", 20, 3100).model_copy(update={"attempt": 2}),
        step("slow", 20, 900, invalid="interference"),  # stayed invalid
        step("slow", 20, 950, invalid="interference").model_copy(update={"attempt": 2}),
    ]


def test_cells_use_the_valid_attempt_and_tables_list_every_attempt(tmp_path: Path) -> None:
    run = write_synthetic(tmp_path / "run", record(retried_run()))
    analysis = analyze(load_run(run))
    assert analysis.cell("fast", 20).rps.median == 3100  # type: ignore[union-attr]
    assert analysis.cell("slow", 20) is None
    report = (run / "report.md").read_text()
    assert "| 20 | 1 (attempt 2) |" in report
    assert (
        "Retries: 2 steps disturbed by passing causes (interference, stalls, steal) needed a retry "
        "(4 attempts in all; at most 3 per step, 2m of retries per run); 1 valid on a later "
        "attempt; 1 step stayed invalid: slow c=20 rep 1 (interference) after 2 attempts."
    ) in report
    # The HTML tells the same, after its Summary.
    html = (run / "report.html").read_text()
    assert html.index("Retries: 2 steps disturbed") > html.index("<h2>Summary</h2>")


def test_a_run_without_retries_says_nothing_of_them(tmp_path: Path) -> None:
    run = write_synthetic(tmp_path / "run", record([step("a", 10, 100), step("b", 10, 90)]))
    assert "Retries" not in (run / "report.md").read_text()
    assert load_run(run).steps[0].attempt == 1


def test_auto_rounds_are_tabled_per_level(tmp_path: Path) -> None:
    steps = [step(t, 10, rps, r) for r in (1, 2, 3) for t, rps in (("a", 300 + r), ("b", 100))]
    rec = record(steps)
    rec.experiment = rec.experiment.model_copy(update={"repetitions": "auto"})
    rec.provenance.rounds = [
        LevelRounds(
            level=10, rounds=3, stopped="lead", text="a: lead +201.0% (p<0.001, under 0.00625)"
        )
    ]
    run = write_synthetic(tmp_path / "run", rec)
    report = (run / "report.md").read_text()
    assert "### Rounds" in report
    assert (
        "| 10 | 3 | settled: a significant lead (a: lead +201.0% (p<0.001, under 0.00625)) |"
        in report
    )
    assert "Repetitions: auto. Each round measured every target" in report
    assert "auto: 3 to 10 rounds per level within 10m" in report
    html = (run / "report.html").read_text()
    assert "<h3>Rounds</h3>" in html and "settled: a significant lead" in html


def test_invalid_steps_never_retried_are_not_a_retries_paragraph(tmp_path: Path) -> None:
    """A run stored before retries (or with them off): its invalid steps are named where the
    verdicts leave them out, not again as retries that never happened."""
    steps = [step("a", 10, 100), step("b", 10, 90, invalid="steal")]
    run = write_synthetic(tmp_path / "run", record(steps))
    assert "Retries" not in (run / "report.md").read_text()
