"""The report tells the whole story of a run: a resume and which steps came from which attempt;
"see Failures" only where a Failures section exists (stored results built in memory)."""

from __future__ import annotations

from runner.analysis import analyze
from runner.records.results import Failure, RunRecord
from runner.report import html, markdown
from runner.report.attempts import attempt_of
from tests.factories import record, step

START = 1_700_000_000.0


def resumed_run() -> RunRecord:
    """Measured in three attempts: a at 10 first, a at 20 after the first resume, b after the
    second."""
    rec = record(
        [
            step("a", 10, 1_000, started_at=START + 10),
            step("a", 20, 1_100, started_at=START + 200),
            step("b", 10, 900, started_at=START + 400),
            step("b", 20, 950, started_at=START + 410),
        ]
    )
    rec.provenance.resumed_at = [START + 100, START + 300]
    return rec


def test_each_step_belongs_to_the_attempt_that_measured_it() -> None:
    rec = resumed_run()
    resumed = rec.provenance.resumed_at
    assert [attempt_of(s, resumed) for s in rec.steps] == [1, 2, 3, 3]
    assert attempt_of(rec.steps[0], []) == 1


def test_a_resumed_run_says_so_and_which_steps_came_from_which_attempt() -> None:
    rec = resumed_run()
    text = markdown.render(rec, analyze(rec))
    assert "> **Resumed run**: measured in 3 attempts" in text
    assert "- **Attempts**: resumed 2 time(s), 3 attempts. Attempt 1 (started " in text
    assert "UTC): 1 step, a: c=10 rep 1. Attempt 2 (resumed " in text
    assert "UTC): 2 steps, b: c=10 rep 1, c=20 rep 1." in text
    page = html.render(rec, analyze(rec))
    assert "<strong>Resumed run</strong>: measured in 3 attempts" in page


def test_a_run_measured_in_one_go_has_no_attempts_line() -> None:
    rec = record([step("a", 10, 1_000)])
    text = markdown.render(rec, analyze(rec))
    assert "Resumed run" not in text and "Attempts" not in text


def test_see_failures_only_where_a_failures_section_exists() -> None:
    rec = record([step("a", 10, 1_000), step("b", 10, 900)], labels={"b": "B"})
    rec.steps = [s for s in rec.steps if s.target == "a"]  # b never reached: no failure either
    rec.complete = False
    for page in (markdown.render(rec, analyze(rec)), html.render(rec, analyze(rec))):
        assert "No step of this target was measured." in page
        assert "see Failures" not in page
    rec.failures = [Failure(target="b", label="B", stage="start", message="exit code 3")]
    text = markdown.render(rec, analyze(rec))
    assert "No step of this target was measured (see Failures)." in text
    assert "## Failures" in text
    assert "(see Failures)" in html.render(rec, analyze(rec))
