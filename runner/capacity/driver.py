"""A capacity search on one running target, with real k6: the sweep hands it a capacity
experiment's one step per target (runner.run.sweep) and it runs the search and its confirmation.

Each trial is stored in results.jsonl the moment it ends (like a step), and the target's result
(capacity, bracket, confidence, why the search stopped, the confirmation) once the search is over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from runner.capacity.result import CapacityResult
from runner.capacity.run import CapacitySearch
from runner.capacity.search import summarize
from runner.capacity.search_config import SearchConfig
from runner.capacity.settings import search_config_of
from runner.capacity.settle import quiet_latency_ms, settle
from runner.capacity.trial import RanTrial, run_trial
from runner.capacity.trials import Trial, TrialPlan
from runner.config.experiment import Experiment
from runner.errors import SweepbenchError
from runner.measure.judging import Judging
from runner.measure.recent_steal import FLOOR_WORDS, recent_floor
from runner.measure.server import ServerHandle
from runner.measure.stalls import StallProbe
from runner.records.results import Failure, TargetCapacity, TrialRecord
from runner.records.store import ResultStore
from runner.run import interrupts
from runner.run.plan import STEP_OVERHEAD_S, Step
from runner.run.progress import SweepProgress
from runner.run.sweep_platform import measured_cores

__all__ = ["SearchSetup", "TrialFailed", "search_config", "search_target"]


class TrialFailed(SweepbenchError):
    """k6 failed during a trial: the target's search ends, the failure is recorded."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class SearchSetup:
    """Where a target's search runs and where its trials go."""

    step: Step
    server: ServerHandle
    experiment: Experiment
    k6_path: Path
    run_dir: Path
    script: Path
    stalls: StallProbe | None = None  # the platform's stalls on the measured cores
    # The run's judging (k6's ceiling, the idle steal floor); the trial's steal floor is set
    # per trial (runner.measure.recent_steal).
    judging: Judging | None = None


def search_config(experiment: Experiment) -> SearchConfig:
    """The search's configuration; each trial's warmup and k6 start-up count against the budget."""
    settings = experiment.load.capacity
    assert settings is not None  # a capacity experiment
    return search_config_of(settings, trial_overhead_s=experiment.load.warmup_s + STEP_OVERHEAD_S)


def _record(setup: SearchSetup, trial: Trial, number: int, ran: RanTrial) -> TrialRecord:
    settings = setup.experiment.load.capacity
    assert settings is not None
    plan, judgement = trial.plan, trial.judgement
    return TrialRecord(
        target=setup.step.target,
        label=setup.experiment.label(setup.step.target),
        number=number,
        rate=plan.rate,
        planned_s=plan.duration_s,
        plan=plan.kind,
        reason=plan.reason,
        long=plan.long,
        verdict=judgement.verdict,
        close=judgement.close,
        why=judgement.why,
        percentile=settings.percentile,
        percentile_ms=trial.outcome.percentile_ms,
        early_stop=ran.early_stop,
        settle_s=trial.outcome.settle_s,
        pause_s=plan.pause_s,
        stall_ms=trial.outcome.stall_ms,
        step=ran.step,
    )


def _line(record: TrialRecord) -> str:
    ran = f"{record.step.duration_s:.1f} of {record.planned_s:g} s"
    if record.settle_s >= 0.05:  # shown as 0.0 s otherwise
        ran += f", then {record.settle_s:.1f} s for the server to settle"
    return (
        f"{record.label} trial {record.number} ({record.plan}) at {record.rate} RPS, {ran}: "
        f"{record.verdict.upper()}: {record.why}"
    )


def _summary(setup: SearchSetup, result: CapacityResult, wall_s: float) -> TargetCapacity:
    low, high = result.highest_pass, result.lowest_fail
    confirmation = result.confirmation
    disturbed = result.disturbed
    return TargetCapacity(
        target=setup.step.target,
        label=setup.experiment.label(setup.step.target),
        capacity_rps=result.capacity_rps,
        at_least=result.at_least,
        headline=result.headline(),
        highest_pass=low.rate if low else None,
        highest_pass_how=low.how if low else None,
        lowest_fail=high.rate if high else None,
        lowest_fail_how=high.how if high else None,
        confidence=result.confidence,
        stop_reason=result.stop.reason,
        stop_text=result.stop.text,
        trials=len(result.search_trials),
        search_s=round(result.search_seconds, 3),
        wall_s=round(wall_s, 3),
        confirmation=result.trials.index(confirmation) + 1 if confirmation else None,
        confirmed=result.confirmed,
        failed_confirmations=list(result.failed_confirmations),
        disturbed_trials=len(disturbed),
        disturbed_s=round(sum(t.outcome.duration_s + t.outcome.settle_s for t in disturbed), 3),
        pauses_s=round(sum(t.plan.pause_s for t in result.trials), 3),
        noise_sigma=result.noise_sigma,
    )


class _Trials:
    """A target's trials with real k6: each run after its pause, the server settled after a
    fail, stored the moment it ends."""

    def __init__(self, setup: SearchSetup, store: ResultStore, progress: SweepProgress) -> None:
        self.setup, self.store, self.progress = setup, store, progress
        self.search = CapacitySearch(search_config(setup.experiment))
        settings = setup.experiment.load.capacity
        assert settings is not None
        self.request = setup.experiment.scenario.requests[0]
        self.quiet_ms = quiet_latency_ms(setup.server, self.request)
        self.label = setup.experiment.label(setup.step.target)
        self.records: list[TrialRecord] = []

    def run(self, plan: TrialPlan) -> None:
        setup, number = self.setup, len(self.search.trials) + 1
        if plan.pause_s > 0:
            self.progress.log(f"{self.label}: waiting {plan.pause_s:g} s ({plan.reason})")
            time.sleep(plan.pause_s)
        trial_step = Step(setup.step.target, plan.rate, number, setup.step.model)
        self.progress.step_starting(self.label, trial_step)
        work_dir = setup.run_dir / "trials" / setup.step.target / f"t{number:02d}-rps{plan.rate}"
        ran = run_trial(
            plan, number, setup.step.target, setup.server, setup.experiment, setup.k6_path,
            work_dir, setup.script, on_live=self.progress.live, stalls=setup.stalls,
            judging=self._judging(),
        )  # fmt: skip
        if isinstance(ran, Failure):
            raise TrialFailed(ran)
        if self.search.judged(plan, ran.outcome).judgement.verdict == "fail":
            objective = self.search.config.objective
            settled = settle(setup.server, self.request, objective, self.quiet_ms)
            ran = replace(ran, outcome=replace(ran.outcome, settle_s=settled))
        record = _record(setup, self.search.record(plan, ran.outcome), number, ran)
        self.records.append(record)
        with interrupts.deferred():
            self.store.append(record)
        self.progress.step_finished(_line(record), ran.step)

    def _judging(self) -> Judging:
        """The run's judging with this trial's steal floor (runner.measure.recent_steal)."""
        setup = self.setup
        judging = setup.judging or Judging(setup.experiment.validity)
        steps = [trial.step for trial in self.records]
        cores = measured_cores(setup.experiment)
        floor = recent_floor(judging.steal_floor, steps, cores)
        return replace(judging, steal_floor=floor, steal_floor_words=FLOOR_WORDS)

    def result(self) -> CapacityResult:
        step = self.search.next_step()
        while isinstance(step, TrialPlan):
            self.run(step)
            step = self.search.next_step()
        return summarize(self.search.config, self.search.trials, step)


def search_target(
    setup: SearchSetup, store: ResultStore, progress: SweepProgress
) -> TargetCapacity | Failure:
    """Run the target's search and confirmation, storing each trial as it ends."""
    label = setup.experiment.label(setup.step.target)
    started = time.monotonic()
    try:
        result = _Trials(setup, store, progress).result()
    except TrialFailed as failed:
        with interrupts.deferred():
            store.append(failed.failure)
        progress.log(f"{label}: the capacity search stopped: {failed.failure.message}")
        return failed.failure
    summary = _summary(setup, result, time.monotonic() - started)
    with interrupts.deferred():
        store.append(summary)
    progress.log(f"{label}: capacity {summary.headline}: {summary.stop_text}")
    return summary
