"""One capacity trial with real k6: an open-model step at the plan's fixed rate, for the plan's
duration, measured like every step (runner.measure.step) and watched for an early stop.

The step's validity (runner.measure.validity) decides whether the trial counts: a passing cause
(interference or steal on the cores, the platform's stalls) means "repeat it", a client-bound step means the load generator, not the server, was
the limit. The open-model rule on the achieved rate and dropped iterations is not a reason to
repeat here: the trial rule itself fails such a trial (the server could not keep up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.capacity.objective import CLIENT_BOUND, INTERFERENCE, STALLS, TrialOutcome
from runner.capacity.settings import early_stop_rule_of, objective_of
from runner.capacity.trials import TrialPlan
from runner.capacity.watch import TrialWatch
from runner.config.experiment import Experiment
from runner.config.load_model import CAPACITY
from runner.measure import k6
from runner.measure.judging import Judging
from runner.measure.server import ServerHandle
from runner.measure.stalls import StallProbe
from runner.measure.step import run_step
from runner.measure.validity import StepFacts, Validity, judge_step
from runner.records.results import Failure, StepResult
from runner.run.plan import Step

__all__ = [
    "RanTrial",
    "longest_stall_ms",
    "outcome_of",
    "run_trial",
    "trial_experiment",
    "trial_reasons",
]

# Validity reason codes -> what they mean for a trial (absent: not a reason to discard it).
_TRIAL_REASONS = {
    "client_bound": CLIENT_BOUND,
    "interference": INTERFERENCE,
    "steal": INTERFERENCE,
    "stalls": STALLS,
}


@dataclass(frozen=True)
class RanTrial:
    """A trial as run: what the search judges, the step's full figures, why it stopped early."""

    outcome: TrialOutcome
    step: StepResult
    early_stop: str | None


def trial_experiment(experiment: Experiment, plan: TrialPlan) -> Experiment:
    """The experiment with the trial's measured duration: every other setting is the run's."""
    load = experiment.load.model_copy(update={"duration": f"{plan.duration_s:g}s"})
    return experiment.model_copy(update={"load": load})


def _facts(step: StepResult) -> StepFacts:
    """What the validity rules read, from the step's own figures."""
    server = step.cpu_share_percent.avg / 100 if step.cpu_share_percent else None
    cores = step.client_cores
    client = step.client_cpu_percent.avg / 100 / cores if cores else None
    return StepFacts(
        model="open",  # a trial is an open-model step
        level=step.level,
        requests=step.requests,
        rps=step.rps,
        error_rate=step.error_rate,
        http_req_duration_avg_ms=step.latency_ms.avg,
        target_rps=step.target_rps,
        dropped_iterations=step.dropped_iterations,
        server_cpu_share=server,
        client_cpu_share=client,
    )


def trial_reasons(validity: Validity) -> tuple[str, ...]:
    """The reasons, among the step's invalidating ones, that discard a trial."""
    codes = [_TRIAL_REASONS.get(r.code) for r in validity.reasons if r.invalidates]
    return tuple(dict.fromkeys(code for code in codes if code is not None))


def outcome_of(step: StepResult, watch: TrialWatch) -> TrialOutcome:
    """The trial's outcome from its step, judged valid or not by the step-validity rules."""
    objective = watch.objective
    validity = step.validity or judge_step(_facts(step))
    reasons = trial_reasons(validity)
    return TrialOutcome(
        rate=step.level,
        achieved_rps=step.rps,
        dropped_iterations=step.dropped_iterations or 0,
        percentile_ms=float(getattr(step.latency_ms, objective.percentile)),
        error_rate=step.error_rate,
        duration_s=step.duration_s,
        valid=not reasons,
        invalid_reasons=reasons,
        early_stopped=watch.stopped_at is not None,
        stall_ms=longest_stall_ms(step),
    )


def longest_stall_ms(step: StepResult) -> float:
    """The stall probe's longest stall on any measured core over the window: the server's core
    delays its answers, k6's delays its clock (0: none, or no probe)."""
    if step.stalls is None:
        return 0.0
    return max((core.max_ms for core in step.stalls.cores), default=0.0)


def run_trial(
    plan: TrialPlan,
    number: int,
    target: str,
    server: ServerHandle,
    experiment: Experiment,
    k6_path: Path,
    work_dir: Path,
    script: Path = k6.STANDARD_SCRIPT,
    on_live: Callable[[k6.LiveView], None] | None = None,
    stalls: StallProbe | None = None,
    judging: Judging | None = None,
) -> RanTrial | Failure:
    """Run one trial (trial `number` of the target's search); a Failure when k6 failed."""
    settings = experiment.load.capacity
    assert settings is not None  # a capacity experiment
    watch = TrialWatch(objective_of(settings), early_stop_rule_of(settings))
    step = Step(target, plan.rate, number, CAPACITY)
    entry = run_step(
        step,
        server,
        trial_experiment(experiment, plan),
        k6_path,
        work_dir,
        on_live=on_live,
        script=script,
        watch=watch,
        judging=judging,
        stalls=stalls,
    )
    if isinstance(entry, Failure):
        return entry
    validity = entry.validity or judge_step(_facts(entry))
    entry = entry.model_copy(update={"validity": validity})
    return RanTrial(outcome_of(entry, watch), entry, watch.stop_reason)
