"""The capacity search's wiring, without load: the experiment keys, the live histogram, the
trial's validity, the stored records and the report section."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from runner.analysis import analyze
from runner.capacity.driver import SearchSetup, _Trials
from runner.capacity.objective import CLIENT_BOUND, INTERFERENCE
from runner.capacity.trial import outcome_of, trial_reasons
from runner.capacity.watch import (
    BUCKET_COUNT,
    QUANTILES,
    TrialWatch,
    bucket_edges,
    histogram_percentile,
)
from runner.config.experiment import validate_experiment
from runner.config.load_model import CAPACITY as CAPACITY_MODEL
from runner.errors import UserError
from runner.measure.cpu_accounting import CoreUsage, Interference
from runner.measure.judging import Judging, judged
from runner.measure.k6 import K6Metrics
from runner.measure.server.handles import ExternalServer
from runner.measure.validity import Reason, Validity
from runner.records.results import StepResult, TargetCapacity, TrialRecord
from runner.records.store import ResultStore, load_run
from runner.report.capacity import capacity_section
from runner.report.markdown import render
from runner.run.plan import Step
from tests import factories

CAPACITY = {"latency_ms": 50, "start_rate": 20, "budget": "40s", "confirmation": "10s"}


def experiment(load: dict[str, Any], sweep: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": "capacity_test",
        "targets": {"api": {"app": "tests.apps.serial:app", "server": "uvicorn"}},
        "sweep": sweep or {},
        "load": {"duration": "5s", **load},
        "scenario": {"name": "json", "requests": [{"path": "/json"}]},
    }


def test_the_capacity_model_needs_its_block_and_no_sweep() -> None:
    spec = validate_experiment(experiment({"model": "capacity", "capacity": CAPACITY}), "test")
    assert spec.load.kind.searched and spec.levels() == [20]
    with pytest.raises(UserError, match=r"'load\.capacity' is required by the capacity load model"):
        validate_experiment(experiment({"model": "capacity"}), "test")
    with pytest.raises(UserError, match="applies to it only"):
        validate_experiment(
            experiment({"model": "open", "capacity": CAPACITY}, {"rate": {"levels": [5]}}), "t"
        )
    with pytest.raises(UserError, match=r"'sweep\.rate' does not apply to the capacity load model"):
        validate_experiment(
            experiment({"model": "capacity", "capacity": CAPACITY}, {"rate": {"levels": [5]}}), "t"
        )


def counts_for(latencies_ms: list[float]) -> list[float]:
    """A histogram as the k6 script fills it (runner/scripts/sweepbench.js, countLatency)."""
    edges, counts = bucket_edges(), [0.0] * BUCKET_COUNT
    for ms in latencies_ms:
        above = 0 if ms <= edges[0] else math.ceil(math.log(ms / edges[0]) / math.log(2**0.25))
        counts[min(above, BUCKET_COUNT - 1)] += 1
    return counts


@pytest.mark.parametrize("true_ms", [1.0, 4.0, 12.0, 50.0, 151.0, 2500.0])
def test_the_histogram_percentile_lies_within_its_bucket(true_ms: float) -> None:
    latencies = [0.1] * 98 + [true_ms] * 2  # p99 falls among the slow answers
    estimate = histogram_percentile(counts_for(latencies), QUANTILES["p99"])
    assert estimate is not None
    assert true_ms / 2**0.25 <= estimate <= true_ms * 2**0.25
    assert histogram_percentile([0.0] * BUCKET_COUNT, 0.99) is None


def test_readings_take_the_last_seconds_answers_only() -> None:
    watch = TrialWatch(factories_objective(), None)
    slow = counts_for([500.0] * 100)
    fast = counts_for([2.0] * 100)
    first = watch._reading(metrics(slow, requests=100))
    second = watch._reading(metrics([a + b for a, b in zip(slow, fast, strict=True)], 200))
    assert first is not None and second is not None
    assert first.recent_percentile_ms is not None and first.recent_percentile_ms > 400
    # Cumulatively half the answers took 500 ms; over the last second none did.
    assert second.recent_percentile_ms is not None and second.recent_percentile_ms < 3
    assert second.requests == 200 and second.errors == 20


def factories_objective() -> Any:
    from runner.capacity.objective import Objective

    return Objective("p99", 50.0, 0.01)


def metrics(counts: list[float], requests: int) -> dict[str, dict[str, Any]]:
    samples = {f"sweepbench_latency_b{n}": {"count": c} for n, c in enumerate(counts)}
    samples["http_reqs{scenario:measure}"] = {"count": requests}
    samples["http_req_failed{scenario:measure}"] = {"rate": 0.1}
    return samples


def reason(code: str, invalidates: bool = True) -> Reason:
    return Reason(code=code, text=code, figures={}, invalidates=invalidates)  # type: ignore[arg-type]


def test_only_client_bound_and_interference_discard_a_trial() -> None:
    validity = Validity(
        valid=False,
        reasons=[reason("inconsistent_load"), reason("client_bound"), reason("steal")],
    )
    assert trial_reasons(validity) == (CLIENT_BOUND, INTERFERENCE)
    # An open-model step that could not hold its rate fails the trial rule instead.
    assert trial_reasons(Validity(valid=False, reasons=[reason("inconsistent_load")])) == ()


def stored_search(run_dir: Path, finished: bool) -> None:
    spec = validate_experiment(experiment({"model": "capacity", "capacity": CAPACITY}), "test")
    store = ResultStore(run_dir)
    store.start(spec, {})
    for number, (rate, verdict) in enumerate([(20, "pass"), (40, "fail"), (30, "pass")], 1):
        step = factories.step("api", rate, rate * 0.995, repetition=number)
        store.append(
            TrialRecord(
                target="api", label="API", number=number, rate=rate, planned_s=5, plan="start",
                reason="why", long=False, verdict=verdict, close=False, why=f"{verdict} because",
                percentile="p99", percentile_ms=15.0, step=step,
            )
        )  # fmt: skip
    if finished:
        store.append(
            TargetCapacity(
                target="api", label="API", capacity_rps=30, at_least=False, headline="30 RPS",
                highest_pass=30, lowest_fail=40, confidence="sure", stop_reason="budget spent",
                stop_text="40 s of 40 s spent", trials=3, search_s=15, wall_s=17,
            )
        )  # fmt: skip


def test_trials_are_stored_as_they_end_and_reported(tmp_path: Path) -> None:
    stored_search(tmp_path, finished=True)
    record = load_run(tmp_path)
    assert record.capacity is not None and [t.rate for t in record.capacity.trials] == [20, 40, 30]
    section = capacity_section(record)
    assert section.summary.rows[0][:3] == ["API", "30 RPS", "30-40"]
    assert any("time budget ran out" in note for note in section.notes)
    assert [row[3] for row in section.targets[0].trials.rows] == ["20", "40", "30"]
    report = render(record, analyze(record))
    assert "## Capacity" in report and "## Summary" not in report
    assert "the time budget ran out" in report


def test_resuming_keeps_finished_searches_and_reruns_unfinished_ones(tmp_path: Path) -> None:
    stored_search(tmp_path, finished=False)
    spec = load_run(tmp_path).experiment.model_dump(mode="json", by_alias=True)
    assert ResultStore(tmp_path).resume(spec) == set()
    assert load_run(tmp_path).capacity.trials == []  # type: ignore[union-attr]
    stored_search(tmp_path / "done", finished=True)
    assert ResultStore(tmp_path / "done").resume(spec) == {("api", 20, 1)}
    assert len(load_run(tmp_path / "done").capacity.trials) == 3  # type: ignore[union-attr]


def test_a_capacity_stored_before_the_interval_fields_still_reads_and_reports() -> None:
    older = {
        "kind": "capacity", "target": "api", "label": "API", "capacity_rps": 30,
        "at_least": False, "headline": "30 RPS", "highest_pass": 30, "lowest_fail": 40,
        "confidence": "sure", "stop_reason": "interference", "stop_text": "3 invalid trials",
        "trials": 3, "search_s": 15, "wall_s": 17,
    }  # fmt: skip
    found = TargetCapacity.model_validate(older)
    assert found.failed_confirmations == [] and found.disturbed_trials == 0
    assert found.noise_sigma is None and found.stop_reason == "interference"
    from runner.report.capacity import disturbed_text, interval_text

    assert (interval_text(found), disturbed_text(found)) == ("30-40", "0")


def trial_step(client_steal: float | None) -> StepResult:
    """A trial's step that held its 200 RPS, 30 s ago; judged with `client_steal` on k6's core
    (None: not judged yet)."""
    validity = None
    if client_steal is not None:
        measured = {"server_steal": 0.001, "client_steal": client_steal}
        validity = Validity(valid=True, reasons=[], measured=measured)
    return factories.step("api", 200, 200.0, started_at=time.time() - 30).model_copy(
        update={"model": "capacity", "target_rps": 200.0, "dropped_iterations": 0,
                "client_cores": 1, "validity": validity}
    )  # fmt: skip


def trial_judging(steals: list[float]) -> Judging:
    """The judging the driver gives the next trial after trials with these steals (each core's
    idle floor 0.5%); _Trials is made without its __init__, which probes a running server."""
    spec = validate_experiment(experiment({"model": "capacity", "capacity": CAPACITY}), "test")
    idle = Judging(spec.validity, steal_floor={0: 0.005, 1: 0.005})
    server = ExternalServer("api", "http://127.0.0.1:9")
    setup = SearchSetup(Step("api", 20, 1, CAPACITY_MODEL), server, spec, Path("k6"),
                        Path("run"), Path("script.js"), judging=idle)  # fmt: skip
    trials = _Trials.__new__(_Trials)
    trials.setup = setup
    trials.records = [
        TrialRecord(
            target="api", label="api", number=n, rate=200, planned_s=5, plan="start",
            reason="why", long=False, verdict="pass", close=False, why="pass", percentile="p99",
            percentile_ms=15.0, step=trial_step(steal),
        )
        for n, steal in enumerate(steals, 1)
    ]  # fmt: skip
    return trials._judging()


def trial_outcome(judging: Judging, client_steal: float) -> tuple[bool, tuple[str, ...], list[str]]:
    """The trial's verdict as the search reads it (valid, why not) and its step's reason codes."""
    usage = CoreUsage((1,), window_s=5.0, busy_s=2.0, steal_s=client_steal * 5.0,
                      steal_s_by_core={1: client_steal * 5.0})  # fmt: skip
    found = [Interference("client", usage, trees_cpu_s=2.0)]
    metrics = K6Metrics(1_000, 0, 1_000, latency_ms={}, errors={})
    entry = judged(trial_step(None), metrics, found, judging)
    outcome = outcome_of(entry, TrialWatch(factories_objective(), None))
    assert entry.validity is not None
    codes: list[str] = [r.code for r in entry.validity.reasons if r.invalidates]
    return outcome.valid, outcome.invalid_reasons, codes


def test_a_trial_is_judged_against_the_steal_its_last_trials_met() -> None:
    spell = trial_judging([0.058, 0.060, 0.062])  # median 6%
    assert trial_outcome(spell, 0.065) == (True, (), [])  # 0.5% above it
    assert trial_outcome(spell, 0.09) == (False, (INTERFERENCE,), ["steal"])  # 3% above it
    # The search's first trial: the idle floor (0.5%) alone, 6.0% above it.
    assert trial_outcome(trial_judging([]), 0.065) == (False, (INTERFERENCE,), ["steal"])
