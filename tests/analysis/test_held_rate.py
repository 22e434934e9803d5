"""The limits the step rules name reach the verdicts: a rate a target could not hold is its
breaking point and no win on latency; a ceiling its concurrency explains is a finding."""

from __future__ import annotations

from runner.analysis import analyze
from runner.measure.validity import Reason, Validity
from runner.records.results import StepResult
from tests.factories import record, step


def limited(base: StepResult, code: str, text: str) -> StepResult:
    """The step, valid, with a reason that names what limited the server."""
    reason = Reason(code=code, text=text, figures={}, invalidates=False)  # type: ignore[arg-type]
    return base.model_copy(update={"validity": Validity(valid=True, reasons=[reason])})


def open_steps() -> list[StepResult]:
    """quickstart_open's shape: fast holds 1,000 and 2,000 RPS; slow breaks at 2,000."""
    slow_2000 = step("slow", 2_000, 1_510.0, p95=1_200.0)
    broke = limited(slow_2000, "rate_not_held", "could not hold the rate (test)")
    return [
        step("fast", 1_000, 1_000.0, p95=4.0),
        step("fast", 2_000, 2_000.0, p95=8.0),
        step("slow", 1_000, 1_000.0, p95=6.0),
        # Its p95 is lower than fast's here only to show it still cannot win.
        broke.model_copy(update={"latency_ms": broke.latency_ms.model_copy(update={"p95": 5.0})}),
    ]


def test_a_target_that_could_not_hold_the_rate_breaks_there_and_cannot_win() -> None:
    analysis = analyze(record(open_steps(), load_model="open"))
    breaking = analysis.breaking_points["slow"]
    assert breaking.level == 2_000
    assert (
        breaking.text
        == "2,000 (could not hold the rate: achieved 1,510 of 2,000 RPS, p99 1,800.0 ms)"
    )
    winner = analysis.winners[2_000]
    assert winner.target == "fast"
    assert winner.text.startswith("fast, the only one to hold the rate; slow could not hold")
    assert "could not hold the offered rate" in analysis.rules["breaking"]
    assert "could not hold the rate does not win" in analysis.rules["winner"]


def test_the_closed_model_rules_read_as_before() -> None:
    analysis = analyze(record([step("a", 10, 100.0), step("b", 10, 90.0)]))
    assert "hold" not in analysis.rules["breaking"] + analysis.rules["winner"]


def test_an_explained_ceiling_is_named_in_the_findings() -> None:
    text = "1.0 request in service (Little's law: 19.3 RPS x 51.8 ms): the limit of the one sync worker"
    steps = [
        step("sync", 5, 19.0, cpu=2.0),
        limited(step("sync", 10, 19.3, cpu=2.0), "explained_ceiling", text),
    ]
    analysis = analyze(record(steps))
    assert f"sync at 10 virtual users (rep 1): {text}." in analysis.findings
    assert analysis.cell("sync", 10) is not None  # valid: its cell is drawn
