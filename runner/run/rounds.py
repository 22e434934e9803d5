"""`repetitions: auto`: after each round, each level still open is checked, and a level stops
when its verdict is settled (runner.analysis.settling), at `auto_repetitions.max` rounds, or when
the next round would not end within `auto_repetitions.budget`. A stopped level's later rounds
are dropped from the queue (runner.run.schedule)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from runner.analysis.cells import Cell, group_cells
from runner.analysis.floors import floor_cells
from runner.analysis.left_out import one_attempt_per_key
from runner.analysis.settling import SettlingRule, settle
from runner.analysis.verdicts import winner_metric
from runner.records.results import LevelRounds, StepResult
from runner.run.plan import STEP_OVERHEAD_S, Plan, Step
from runner.run.schedule import Schedule


class Rounds:
    """The levels of an auto run: which are open, and how each stopped."""

    def __init__(
        self, plan: Plan, schedule: Schedule, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.plan = plan
        self.schedule = schedule
        self.clock = clock
        self.started = clock()
        self.open = list(plan.experiment.levels())
        self.stopped: dict[int, LevelRounds] = {}
        self.checked_round = 0

    def after_step(
        self, repetition: int, steps: Sequence[StepResult]
    ) -> list[tuple[str, list[Step]]]:
        """After a step of round `repetition`: when that round is over, check each open level
        and stop the settled ones. Returns, per stopped level, a line and the steps dropped."""
        if repetition <= self.checked_round or self.schedule.round_pending(repetition):
            return []
        self.checked_round = repetition
        lines = []
        for level in list(self.open):
            outcome = self._check(level, repetition, steps)
            if outcome is not None:
                lines.append(self._stop(outcome))
        if self.open and self._next_round_over_budget():
            budget = self.plan.experiment.auto_repetitions.budget
            for level in list(self.open):
                text = f"budget: the next round would not end within {budget}"
                stop = LevelRounds(level=level, rounds=repetition, stopped="budget", text=text)
                lines.append(self._stop(stop))
        return lines

    def record(self, complete: bool) -> list[LevelRounds]:
        """Every level's rounds and why it stopped; a level still open when the run ended."""
        ended = [
            LevelRounds(
                level=level,
                rounds=self.checked_round,
                stopped="max rounds" if complete else "interrupted",
                text="max rounds" if complete else "the run ended before the level settled",
            )
            for level in self.open
        ]
        return sorted([*self.stopped.values(), *ended], key=lambda lr: lr.level)

    def _check(self, level: int, done: int, steps: Sequence[StepResult]) -> LevelRounds | None:
        experiment = self.plan.experiment
        auto = experiment.auto_repetitions
        if len(experiment.targets) == 1:
            return LevelRounds(level=level, rounds=done, stopped="one target", text="one target")
        if done >= auto.min:
            cells = _ranked(level, steps, self.plan)
            # A floor below the leader may be above it (cannot rank), and a floor's ratio is
            # no estimate of the servers' (no equivalence): more rounds may measure it.
            undecidable = any(c.floor for c in cells[1:])
            if len(cells) >= 2 and min(cells[0].runs, cells[1].runs) >= 2 and not undecidable:
                decided = settle(
                    winner_metric(cells[0], experiment.load.kind).values,
                    winner_metric(cells[1], experiment.load.kind).values,
                    _rule(self.plan),
                    experiment.load.kind.higher_is_better,
                )
                if decided.state == "lead" or (decided.settled and not cells[0].floor):
                    text = f"{cells[0].label}: {decided.text}"
                    if decided.state == "lead":
                        return LevelRounds(level=level, rounds=done, stopped="lead", text=text)
                    return LevelRounds(level=level, rounds=done, stopped="equivalent", text=text)
        if done >= auto.max:
            return LevelRounds(level=level, rounds=done, stopped="max rounds", text="max rounds")
        return None

    def _stop(self, outcome: LevelRounds) -> tuple[str, list[Step]]:
        self.open.remove(outcome.level)
        self.stopped[outcome.level] = outcome
        level, rounds = outcome.level, outcome.rounds
        dropped = self.schedule.drop(lambda s: s.level == level and s.repetition > rounds)
        where = self.plan.experiment.load.kind.level_text(level)
        return f"{where} stopped after {rounds} round(s): {outcome.text}", dropped

    def _next_round_over_budget(self) -> bool:
        experiment = self.plan.experiment
        steps = len(self.open) * len(experiment.targets)
        round_s = steps * (self.plan.seconds_per_step + STEP_OVERHEAD_S)
        elapsed = self.clock() - self.started
        return elapsed + round_s > experiment.auto_repetitions.budget_s


def _ranked(level: int, steps: Sequence[StepResult], plan: Plan) -> list[Cell]:
    """The level's cells, best first by what decides a winner: valid steps, and (closed model)
    floors where a target has only client-bound steps, as the Winner column ranks them
    (runner.analysis.verdicts): a floored target that tops the level must not be left out."""
    experiment = plan.experiment
    model = experiment.load.kind
    at_level = [s for s in one_attempt_per_key(steps) if s.level == level]
    valid = group_cells(at_level, experiment.report.confidence)
    cells = list(valid.values())
    if not model.fixed_rate:
        cells += floor_cells(at_level, valid, experiment.report.confidence).values()
    return sorted(
        cells, key=lambda c: winner_metric(c, model).median, reverse=model.higher_is_better
    )


def _rule(plan: Plan) -> SettlingRule:
    report, auto = plan.experiment.report, plan.experiment.auto_repetitions
    looks = auto.max - auto.min + 1
    return SettlingRule(report.min_effect, report.confidence, auto.margin, looks)
