"""Client-bound steps as floors (runner.analysis.floors) and the censored ranking of winners
(runner.analysis.verdicts): stored results built in memory."""

from __future__ import annotations

from runner.analysis import Cell, analyze
from runner.config.load_model import OPEN
from runner.records.results import StepResult
from runner.report.matrix_hosts import Hosts, Peak, ranking_sentence
from tests.factories import record, step


def floor(
    target: str, level: int, rps: float, repetition: int = 1, p95: float = 10.0
) -> StepResult:
    return step(target, level, rps, repetition, p95=p95, invalid="client_bound")


def test_a_floor_above_every_other_figure_wins_by_at_least_its_lead() -> None:
    steps = [floor("fast", 10, 10_118), step("slow", 10, 1_235), step("mid", 10, 2_000)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target == "fast" and winner.at_least and winner.provisional
    assert winner.figure == "successful RPS" and winner.lead is not None
    assert round(winner.lead, 3) == round(10_118 / 2_000 - 1, 3)
    assert winner.text == (
        "fast, at least +405.9% successful RPS (≥ 10,118 RPS: k6's limit; provisional: 1 run)"
    )


def test_a_floor_below_another_targets_figure_cannot_be_ranked() -> None:
    steps = [floor("fast", 10, 10_118), step("django", 10, 11_000)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target is None and set(winner.unranked) == {"fast", "django"}
    assert winner.text == "cannot rank: django 11,000 RPS, fast ≥ 10,118 RPS (k6's limit)"


def test_no_target_is_ranked_above_one_whose_floor_exceeds_it() -> None:
    # Issue 20's run: FastAPI's floors at every level, Django far below; before, Django won.
    levels = (10, 20, 30)
    steps = [floor("fastapi", lv, 10_605 + lv) for lv in levels]
    steps += [step("django", lv, 2_033) for lv in levels]
    analysis = analyze(record(steps))
    for level in levels:
        assert analysis.winners[level].target == "fastapi", analysis.winners[level].text
    assert not any("prefer django" in line for line in analysis.recommendations)


def test_no_target_is_preferred_for_throughput_below_another_ones_floor() -> None:
    steps = [step("fast", 10, 5_000), floor("fast", 20, 10_000)]
    steps += [step("slow", 10, 5_500), step("slow", 20, 6_000)]
    analysis = analyze(record(steps))
    [line] = [r for r in analysis.recommendations if "peak successful throughput" in r]
    assert line.startswith("For peak successful throughput, no target is preferred: fast ≥ 10,000")
    assert analysis.winners[20].target == "fast" and analysis.winners[10].target == "slow"


def test_floors_with_repetitions_are_tested_like_figures() -> None:
    steps = [floor("fast", 10, rps, rep) for rep, rps in enumerate([9_900, 10_100, 10_000], 1)]
    steps += [step("slow", 10, rps, rep) for rep, rps in enumerate([990, 1_010, 1_000], 1)]
    winner = analyze(record(steps)).winners[10]
    assert winner.target == "fast" and winner.at_least and not winner.provisional
    assert winner.p_value is not None and winner.p_value < 0.05


def test_two_floors_cannot_be_ranked_against_each_other() -> None:
    winner = analyze(record([floor("a", 10, 9_000), floor("b", 10, 10_000)])).winners[10]
    assert winner.target is None and winner.text.startswith("cannot rank")


def test_a_floor_gives_no_latency_efficiency_knee_or_break() -> None:
    steps = [step("a", 10, 1_000, p95=5.0), floor("a", 20, 9_000, p95=500.0)]
    analysis = analyze(record(steps))
    curve = analysis.curves["a"]
    assert [c.level for c in curve.series] == [10]
    assert curve.peak is not None and curve.peak.level == 10
    assert analysis.cell("a", 20) is None
    found = analysis.floor("a", 20)
    assert found is not None and found.floor and "client_bound" in found.floor_reason
    assert not any("500.0 ms" in line for line in analysis.findings)
    assert any("k6 was the limit" in line and "load.k6_host" in line for line in analysis.findings)


def test_a_step_with_another_reason_too_is_no_floor() -> None:
    bound = step("a", 10, 9_000, invalid="client_bound")
    assert bound.validity is not None
    bound.validity.reasons.append(bound.validity.reasons[0].model_copy(update={"code": "steal"}))
    analysis = analyze(record([bound, step("b", 10, 1_000)]))
    assert analysis.floor("a", 10) is None
    assert analysis.winners[10].text.startswith("only b measured")


def test_under_the_open_model_floors_are_not_ranked_on_latency() -> None:
    steps = [floor("a", 100, 100, p95=1.0), step("b", 100, 100, p95=9.0)]
    steps += [step("c", 100, 100, p95=3.0)]
    analysis = analyze(record(steps, load_model=OPEN.name))
    winner = analysis.winners[100]
    assert winner.target == "c" and winner.figure == "p95 latency"
    assert winner.unranked == ("a",) and "not ranked: a ≥ 100 RPS" in winner.text


def _peak(name: str, found: StepResult) -> Peak:
    analysis = analyze(record([found]))
    cell = analysis.cell(found.target, found.level) or analysis.floor(found.target, found.level)
    assert cell is not None
    return Peak(name, "A", cell).named(name)


def test_the_matrix_names_a_highest_job_by_the_same_censored_rules() -> None:
    hosts = Hosts([], [], False)
    above = [
        _peak("workers=1", floor("api", 10, 10_118)),
        _peak("workers=2", step("api", 10, 3_148)),
    ]
    sentence = ranking_sentence("api", above, hosts)
    assert "workers=1: ≥ 10,118 RPS" in sentence
    assert "Highest: workers=1, at least +221.4% successful RPS" in sentence
    below = [
        _peak("workers=1", floor("api", 10, 3_000)),
        _peak("workers=2", step("api", 10, 3_148)),
    ]
    assert "No highest job: cannot rank" in ranking_sentence("api", below, hosts)
    # Issue 20: 3,435 against 3,148 RPS from one run each is provisional, as in the Summary;
    # with repetitions whose noise hides the lead, no job is named.
    close = [_peak("workers=1", step("api", 10, 3_435)), _peak("workers=2", step("api", 10, 3_148))]
    assert "Highest: workers=1, +9.1% successful RPS (provisional: 1 run)." in ranking_sentence(
        "api", close, hosts
    )
    noisy = [
        Peak(f"workers={n}", "A", cell).named(f"workers={n}")
        for n, cell in enumerate(_noisy_cells(), 1)
    ]
    assert "No highest job: no significant difference" in ranking_sentence("api", noisy, hosts)


def _noisy_cells() -> list[Cell]:
    steps = [step("a", 10, rps, rep) for rep, rps in enumerate([3_435, 2_900, 3_300], 1)]
    steps += [step("b", 10, rps, rep) for rep, rps in enumerate([3_148, 3_400, 2_950], 1)]
    analysis = analyze(record(steps))
    return [c for t in ("a", "b") if (c := analysis.cell(t, 10)) is not None]
