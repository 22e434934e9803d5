"""The headline every report opens with (issue 20): the answer first, its caveats after, every
number from the analysis."""

from __future__ import annotations

from runner.analysis import analyze
from runner.analysis.significance import welch_estimate
from runner.measure.steal_floor import StealFloor
from runner.measure.validity import Validity
from runner.records.results import Failure, RunRecord, StepResult
from runner.report import html, markdown
from runner.report.headline import headline
from tests.factories import record, step

LABELS = {"a": "FastAPI", "b": "Django WSGI", "c": "Django ASGI"}


def lines_of(steps: list[StepResult], **kwargs: object) -> list[str]:
    return headline(analyze(record(steps, labels=LABELS, **kwargs)))  # type: ignore[arg-type]


def repeated(target: str, level: int, values: list[float]) -> list[StepResult]:
    return [step(target, level, rps, rep) for rep, rps in enumerate(values, 1)]


def test_one_clear_winner_at_every_level() -> None:
    steps = [step("a", lv, rps) for lv, rps in ((10, 4_000), (20, 6_000), (30, 5_000))]
    steps += [step("b", lv, rps) for lv, rps in ((10, 2_000), (20, 1_500), (30, 1_250))]
    assert lines_of(steps) == [
        "FastAPI served 2.00-4.00x the successful RPS of Django WSGI "
        "at every level (10-30 virtual users).",
        "Provisional: 1 run per level, so run-to-run noise is unmeasured.",
    ]


def test_winners_that_change_by_level_are_told_level_by_level() -> None:
    steps = [step("a", lv, rps) for lv, rps in ((10, 3_000), (20, 1_000), (30, 900))]
    steps += [step("b", lv, rps) for lv, rps in ((10, 1_000), (20, 2_500), (30, 2_700))]
    first = lines_of(steps)[0]
    assert first == (
        "c=10: FastAPI served 3.00x the successful RPS of Django WSGI; "
        "c=20-30: Django WSGI served 2.50-3.00x the successful RPS of "
        "FastAPI."
    )


def test_a_changing_runner_up_is_named_per_level() -> None:
    steps = [step("a", 10, 4_000), step("b", 10, 2_000), step("c", 10, 1_000)]
    steps += [step("a", 20, 6_000), step("b", 20, 1_000), step("c", 20, 1_500)]
    assert lines_of(steps)[0] == (
        "FastAPI served 2.00-4.00x the successful RPS of the runner-up at every level "
        "(10-20 virtual users): Django WSGI at c=10, Django ASGI at c=20."
    )


def test_repetitions_give_the_ratio_its_interval_and_no_provisional_caveat() -> None:
    a, b = [3_000.0, 3_100.0, 2_950.0], [1_000.0, 1_020.0, 990.0]
    steps = repeated("a", 10, a) + repeated("b", 10, b)
    estimate = welch_estimate(b, a, relative=True, alpha=0.05)
    low, high = 1 + estimate.low, 1 + estimate.high
    assert lines_of(steps) == [
        f"FastAPI served {1 + estimate.change:.2f}x (95% CI {low:.2f}-{high:.2f}x) the "
        "successful RPS of Django WSGI at concurrency 10."
    ]


def test_no_significant_difference_says_how_close() -> None:
    a, b = [1_000.0, 1_080.0, 950.0], [1_010.0, 990.0, 1_040.0]
    steps = repeated("a", 10, a) + repeated("b", 10, b)
    analysis = analyze(record(steps, labels=LABELS))
    assert analysis.winners[10].target is None
    leader, runner_up = (b, a) if sorted(b)[1] > sorted(a)[1] else (a, b)
    estimate = welch_estimate(runner_up, leader, relative=True, alpha=0.05)
    reach = max(abs(estimate.low), abs(estimate.high), abs(estimate.change))
    (line,) = headline(analysis)
    assert line.startswith("no significant difference between ")
    assert f"(the same within ±{reach * 100:.1f}%, 95% CI) at concurrency 10." in line


def test_a_provisional_tie_names_the_lead_and_what_a_win_needs() -> None:
    steps = [step("a", 10, 1_020), step("b", 10, 1_000)]
    assert lines_of(steps) == [
        "no clear difference between FastAPI and Django WSGI "
        "(FastAPI ahead by at most 2.0%, under the 5% a win needs) at concurrency 10.",
        "Provisional: 1 run per level, so run-to-run noise is unmeasured.",
    ]


def test_left_out_steps_and_unranked_targets_are_caveats() -> None:
    steps = [step("a", 10, 4_000), step("b", 10, 2_000)]
    # Invalid for steal, not client-bound: a client-bound step would rank as a floor.
    steps += [step("a", 20, 4_000), step("b", 20, 9_000, invalid="steal")]
    steps += [step("a", 30, 4_000, invalid="interference")]
    steps += [step("b", 30, 2_000, invalid="interference")]
    failure = Failure(target="c", label="Django ASGI", stage="start", message="did not start")
    first, caveats = lines_of(steps, failures=[failure])
    assert first == (
        "c=10: FastAPI served 2.00x the successful RPS of Django WSGI; "
        "c=20: only FastAPI has a valid step."
    )
    assert caveats == (
        "Provisional at c=10: fewer than 2 valid runs a side; 3 of 6 steps left out as invalid "
        "(interference 2, steal 1); no valid step at c=30; not ranked where it had no "
        "valid step: Django WSGI at c=20; not measured: Django ASGI."
    )


def test_a_run_stopped_early_says_it_is_partial_and_who_was_not_measured() -> None:
    rec = record([step("a", 10, 4_000), step("a", 20, 6_000)], labels=LABELS)
    first = rec.experiment.targets["a"]
    targets = {t: first.model_copy(update={"label": LABELS[t]}) for t in ("a", "b", "c")}
    experiment = rec.experiment.model_copy(update={"targets": targets})
    stopped = rec.model_copy(update={"complete": False, "experiment": experiment})
    assert headline(analyze(stopped)) == [
        "only FastAPI was measured at 10-20 virtual users.",
        "Partial: the run stopped after 2 steps, before its last; "
        "not measured: Django WSGI, Django ASGI.",
    ]


def test_the_one_target_of_an_experiment_gets_its_figure_not_only() -> None:
    steps = [step("a", 10, 4_000), step("a", 20, 6_000)]
    assert lines_of(steps)[0] == (
        "FastAPI served 4,000-6,000 successful RPS at every level (10-20 virtual users)."
    )
    assert lines_of([step("a", 500, 500, p95=4.0)], load_model="open")[0] == (
        "FastAPI's p95 latency was 4.0 ms at rate 500 RPS."
    )


def test_a_floor_makes_the_ratio_a_bound() -> None:
    """A client-bound figure that counts (a run stored before validity) is k6's limit: the
    winner's ratio is then at least what was measured."""
    bound = step("a", 10, 4_000).model_copy(update={"client_bound": True})
    assert lines_of([bound, step("b", 10, 2_000)])[0] == (
        "FastAPI served at least 2.00x the successful RPS of Django WSGI at concurrency 10."
    )


def test_the_open_model_compares_p95_latency() -> None:
    steps = [step("a", 500, 500, p95=4.0), step("b", 500, 500, p95=10.0)]
    assert lines_of(steps, load_model="open")[0] == (
        "FastAPI's p95 latency was 0.40x Django WSGI's at rate 500 RPS."
    )


def test_markdown_and_html_open_with_the_headline() -> None:
    rec = record([step("a", 10, 4_000), step("b", 10, 2_000)], labels=LABELS)
    analysis = analyze(rec)
    first = headline(analysis)[0]
    report = markdown.render(rec, analysis).splitlines()
    assert report[2] == f"> **{first}**"
    assert report.index(f"> **{first}**") < report.index("## Test Configuration")
    page = html.render(rec, analysis)
    assert page.index('id="headline"') < page.index("<h2>Test Configuration</h2>")
    assert "served 2.00x the successful RPS" in page


def test_nothing_valid_says_so_once() -> None:
    steps = [step("a", 10, 4_000, invalid="interference"), step("b", 10, 2_000, invalid="steal")]
    assert lines_of(steps) == [
        "No target has a valid step: there is nothing to rank.",
        "2 of 2 steps left out as invalid (interference 1, steal 1).",
    ]


def test_a_floor_above_the_others_wins_at_least_and_one_below_cannot_rank() -> None:
    """A client-bound step is k6's limit, a floor for its server: above the other's figure it
    wins "at least"; below it, neither can be ranked over the other."""
    steps = [step("a", 10, 4_000), step("b", 10, 9_000, invalid="client_bound")]
    steps += [step("a", 20, 9_000), step("b", 20, 4_000, invalid="client_bound")]
    first, _caveats = lines_of(steps)
    assert first == (
        "c=10: Django WSGI served at least 2.25x the successful RPS of FastAPI; "
        "c=20: cannot rank FastAPI 9,000 RPS and Django WSGI ≥ 4,000 RPS (k6's limit): "
        "k6, not the server, set a floor."
    )


def in_spell(
    target: str, level: int, rps: float, steal: float, server_steal: float = 0.001
) -> StepResult:
    """A valid step whose k6 core met `steal` (judged against the last steps' steal)."""
    measured = {"server_interference": 0.01, "server_steal": server_steal, "client_steal": steal}
    validity = Validity(valid=True, reasons=[], measured=measured)
    return step(target, level, rps).model_copy(update={"validity": validity})


def with_idle_floor(steps: list[StepResult], floor: dict[int, float]) -> RunRecord:
    rec = record(steps, labels=LABELS)
    measured = StealFloor(shares=floor, measured_at=1_700_000_000.0, seconds=2.0)
    provenance = rec.provenance.model_copy(update={"steal_floor": measured})
    return rec.model_copy(update={"provenance": provenance})


def test_steps_measured_in_a_steal_spell_are_named_by_target() -> None:
    # 0.5% idle floor, 2% allowed above it: 3.1% and 6.8% are past it, 2.4% is not.
    steps = [in_spell("a", 10, 4_000, 0.031), in_spell("a", 20, 5_000, 0.068)]
    steps += [in_spell("b", 10, 2_000, 0.024), in_spell("b", 20, 2_100, 0.035)]
    caveats = headline(analyze(with_idle_floor(steps, {0: 0.005, 1: 0.005})))[1]
    assert (
        "measured in a steal spell (a core's steal over the idle floor by more than 2%, judged "
        "against the last steps' steal): FastAPI 2 steps up to 6.8% on k6's core, Django WSGI 1 "
        "step at 3.5% on k6's core; the hypervisor took that share of the core from the server "
        "or k6"
    ) in caveats


def test_no_spell_is_named_without_an_idle_floor_or_below_its_allowance() -> None:
    steps = [in_spell("a", 10, 4_000, 0.031), in_spell("b", 10, 2_000, 0.024)]
    assert "steal spell" not in " ".join(headline(analyze(record(steps, labels=LABELS))))
    quiet = headline(analyze(with_idle_floor(steps, {0: 0.02, 1: 0.02})))
    assert "steal spell" not in " ".join(quiet)


def test_each_role_is_held_to_its_own_cores_idle_floor() -> None:
    # k6's core idles at 3% steal: 4.5% there was valid against the idle floor alone. The
    # server's core idles at 0%: 2.5% there was not, and the step is named, on the server.
    steps = [in_spell("a", 10, 4_000, 0.045), in_spell("b", 10, 2_000, 0.045, server_steal=0.025)]
    caveats = headline(analyze(with_idle_floor(steps, {0: 0.0, 1: 0.03})))[1]
    assert "steal spell" in caveats
    assert "judged against the last steps' steal): Django WSGI 1 step at 2.5%; the" in caveats
