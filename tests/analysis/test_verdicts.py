"""Verdicts that cannot contradict one another, drawn from valid steps only (issue 12).

The contradictory reports of the issue are built here as stored results and must not come back:
Django WSGI "breaking point at 20" while it "peaks at 2,142 RPS at 30"; Django ASGI 1,860 RPS per
core in Findings and 1,885.95 in Recommendations; memory ranked by RSS summed.
"""

from __future__ import annotations

import re

import numpy as np

from runner.analysis import analyze
from runner.analysis.findings import figure
from runner.records.results import Failure
from runner.report.tables import summary_note, summary_table
from tests.factories import record, step

WSGI = "Django WSGI"


def test_a_dip_that_recovers_is_not_a_break_below_the_peak() -> None:
    """The issue's report: a single-run dip at 20, then the highest throughput at 30."""
    steps = [step("wsgi", 10, 2_000), step("wsgi", 20, 1_750), step("wsgi", 30, 2_142)]
    analysis = analyze(record(steps, labels={"wsgi": WSGI}))
    assert analysis.breaking_points["wsgi"].level is None
    assert analysis.curves["wsgi"].peak is not None and analysis.curves["wsgi"].peak.level == 30
    assert f"{WSGI} peaks at 2,142 RPS successful at 30 virtual users." in analysis.findings


def test_a_significant_dip_breaks_and_the_peak_stays_below_it() -> None:
    """With repetitions showing the dip significant it is a break; the peak is then the best
    level below it, and the higher level past the break is named as such."""
    steps = [step("wsgi", 10, rps, rep) for rep, rps in enumerate([2_000, 2_010, 1_990], 1)]
    steps += [step("wsgi", 20, rps, rep) for rep, rps in enumerate([1_500, 1_510, 1_490], 1)]
    steps += [step("wsgi", 30, rps, rep) for rep, rps in enumerate([2_140, 2_150, 2_142], 1)]
    analysis = analyze(record(steps, labels={"wsgi": WSGI}))
    curve = analysis.curves["wsgi"]
    assert analysis.breaking_points["wsgi"].level == 20
    assert curve.peak is not None and curve.peak.level == 10
    peak_sentence = next(f for f in analysis.findings if " peaks at " in f)
    assert "at 10 virtual users, below its breaking point at 20" in peak_sentence
    assert "30 reaches 2,142 RPS past the breaking point" in peak_sentence


def _random_steps(rng: np.random.Generator, repetitions: int) -> list:  # type: ignore[type-arg]
    steps = []
    for level in (10, 20, 30, 40, 50):
        base = rng.uniform(500, 3_000)
        error = float(rng.choice([0.0, 0.0, 0.0, 0.02]))
        p95 = float(rng.uniform(2, 50))
        for rep in range(1, repetitions + 1):
            rps = float(base * np.exp(rng.normal(0, 0.05)))
            steps.append(step("t", level, rps, rep, error_rate=error, p95=p95))
    return steps


def test_knee_peak_and_break_agree_on_any_curve() -> None:
    """Seeded random curves, single runs and repetitions: knee <= peak < breaking point, and
    the findings state the same peak."""
    rng = np.random.default_rng(12)
    for trial in range(300):
        analysis = analyze(record(_random_steps(rng, 1 + 2 * (trial % 2))))
        curve = analysis.curves["t"]
        breaking, knee, peak = curve.breaking.level, curve.knee.level, curve.peak
        if breaking is not None and peak is not None:
            assert peak.level < breaking, analysis.breaking_points["t"].text
        if knee is not None:
            assert peak is not None and knee <= peak.level
        if peak is not None:
            assert f" at {peak.level} virtual users" in analysis.findings[0]
            assert peak.ok_rps.median == max(
                c.ok_rps.median for c in curve.series if breaking is None or c.level < breaking
            )


def _efficiency_in(sentence: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}(?: serves)? ([\d,]+) RPS/core", sentence)
    assert found, sentence
    return found.group(1)


def test_efficiency_is_one_number_wherever_it_appears() -> None:
    """Django ASGI's most efficient level is not its peak: findings and recommendations once
    disagreed (1,860 and 1,885.95). Now both print the peak cell's one value."""
    steps = [
        step("asgi", 10, 943.0, cpu=50.0),  # 1,886 RPS per core, below the peak
        step("asgi", 20, 1_209.0, cpu=65.0),  # the peak: 1,860 RPS per core
        step("fast", 10, 4_000.0, cpu=60.0),
        step("fast", 20, 4_100.0, cpu=61.0),
    ]
    analysis = analyze(record(steps, labels={"asgi": "Django ASGI", "fast": "FastAPI"}))
    peak = analysis.curves["asgi"].peak
    assert peak is not None and peak.rps_per_core is not None
    assert peak.rps_per_core == 1_209.0 / 0.65
    finding = next(f for f in analysis.findings if "RPS/core" in f and "Django ASGI" in f)
    [recommendation] = [r for r in analysis.recommendations if r.startswith("For efficiency")]
    assert _efficiency_in(finding, "Django ASGI") == "1,860"
    assert _efficiency_in(recommendation, "Django ASGI") == "1,860"
    assert figure(peak.rps_per_core, "RPS/core") == "1,860 RPS/core"


def test_efficiency_counts_successful_requests_only() -> None:
    analysis = analyze(record([step("a", 10, 1_000.0, error_rate=0.2, cpu=50.0)]))
    cell = analysis.cell("a", 10)
    assert cell is not None and cell.rps_per_core == 800.0 / 0.5


def test_memory_verdicts_rank_by_pss_with_rss_as_the_upper_bound() -> None:
    """Forked workers share pages: RSS summed says a is smaller, PSS says b is."""
    steps = [step("a", 10, 1_000, rss=60.0, pss=58.0), step("b", 10, 1_000, rss=90.0, pss=40.0)]
    analysis = analyze(record(steps))
    [memory] = [r for r in analysis.recommendations if r.startswith("For memory")]
    assert memory.startswith("For memory (max PSS, whole process tree), prefer b")
    assert "b holds at most 40.0 MiB (PSS, whole process tree; RSS summed" in " ".join(
        analysis.findings
    )
    assert "upper bound: 90.0 MiB" in " ".join(analysis.findings)


def test_a_target_never_measured_is_not_measured_not_up_to_zero() -> None:
    failure = Failure(target="b", label="b", stage="start", message="did not start")
    analysis = analyze(record([step("a", 10, 1_000)], failures=[failure]))
    assert analysis.breaking_points["b"].text == "not measured"
    assert analysis.saturation["b"].text == "not measured"
    assert "up to 0" not in str(analysis)


def test_invalid_steps_are_left_out_of_every_verdict_and_named() -> None:
    steps = [step("a", 10, rps, rep) for rep, rps in enumerate([1_000, 1_020, 990], 1)]
    steps += [step("a", 10, 9_000, 4, invalid="client_bound")]
    steps += [step("b", 10, rps, rep) for rep, rps in enumerate([1_010, 1_000, 1_005], 1)]
    steps += [step("b", 20, 800, 1, invalid="interference")]
    analysis = analyze(record(steps))
    cell = analysis.cell("a", 10)
    assert cell is not None and cell.runs == 3 and cell.rps.max == 1_020
    assert analysis.cell("b", 20) is None
    note_a = "1 step left out as invalid: a c=10 rep 4 (client-bound)"
    assert analysis.winners[10].target is None and note_a in analysis.winners[10].text
    assert note_a in analysis.breaking_points["a"].text and note_a in analysis.saturation["a"].text
    assert "b c=20 rep 1 (interference)" in analysis.winners[20].text
    assert f"a: these findings use valid steps only ({note_a})." in analysis.findings
    assert any("2 steps left out as invalid" in r for r in analysis.recommendations)


def test_steps_without_a_validity_verdict_count_as_valid() -> None:
    analysis = analyze(record([step("a", 10, 1_000)]))
    assert analysis.cell("a", 10) is not None
    assert "left out" not in " ".join(analysis.findings + [analysis.winners[10].text])


def test_a_level_whose_steps_were_all_invalid_reads_no_valid_step_in_the_summary() -> None:
    steps = [step("a", 10, 1_000), step("a", 20, 1_500, invalid="interference")]
    table = summary_table(analyze(record(steps)))
    assert table.rows[1][1:4] == ["no valid step"] * 3


def test_a_level_whose_steps_were_only_client_bound_reads_as_a_floor_in_the_summary() -> None:
    steps = [step("a", 10, 1_000), step("a", 20, 1_500, invalid="client_bound")]
    analysis = analyze(record(steps))
    assert summary_table(analysis).rows[1][1:4] == ["≥ 1,500 (k6's limit)", "k6's limit", "0.00%"]
    assert "load.k6_host" in summary_note(analysis)
