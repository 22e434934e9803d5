"""The plan: every step an experiment asks for, in the order they run."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from runner.config.experiment import Experiment
from runner.config.load_model import CLOSED, LoadModel
from runner.records.steps import StepKey

StepOrderName = Literal["sequential", "interleaved", "shuffled"]

# Seconds per step beyond its configured load: k6 start-up and summary writing.
STEP_OVERHEAD_S = 0.25
# Seconds to start and verify one server.
TARGET_START_S = 1.0


@dataclass(frozen=True)
class Step:
    target: str
    level: int  # virtual users (closed model) or requests per second (open model)
    repetition: int
    model: LoadModel = CLOSED

    @property
    def key(self) -> StepKey:
        return StepKey(self.target, self.level, self.repetition)

    @property
    def level_text(self) -> str:
        """How progress lines and messages name the level, with its unit."""
        return self.model.level_text(self.level)

    @property
    def level_words(self) -> str:
        """The level in a sentence: 'concurrency 20' or 'rate 500 RPS'."""
        return self.model.level_words(self.level)


@dataclass(frozen=True)
class Plan:
    experiment: Experiment
    steps: tuple[Step, ...]
    order: StepOrderName = "sequential"

    def without(self, done: set[StepKey]) -> Plan:
        """The plan minus the steps already measured (when resuming)."""
        kept = tuple(s for s in self.steps if s.key not in done)
        return Plan(self.experiment, kept, self.order)

    @property
    def interleaved(self) -> bool:
        """Every target's server stays up while the targets take turns."""
        return self.order != "sequential"

    def for_target(self, target: str) -> list[Step]:
        return [step for step in self.steps if step.target == target]

    def server_sessions(self, target: str) -> list[list[Step]]:
        """The target's steps grouped by server start: one group, or one per repetition."""
        steps = self.for_target(target)
        if not self.experiment.restart_between_repetitions:
            return [steps]
        repetitions = sorted({step.repetition for step in steps})
        return [[s for s in steps if s.repetition == r] for r in repetitions]

    def same_turn(self, a: Step, b: Step) -> bool:
        """Whether two steps belong to one turn of the order: the same target's run when
        sequential, else the same repetition (a round). A retry waits for the rest of its turn."""
        if self.order == "sequential":
            return a.target == b.target
        return a.repetition == b.repetition

    @property
    def seconds_per_step(self) -> float:
        return self.experiment.load.duration_s + self.experiment.load.warmup_s

    def estimated_seconds(self) -> float:
        starts = sum(len(self.server_sessions(target)) for target in self.experiment.targets)
        return len(self.steps) * (self.seconds_per_step + STEP_OVERHEAD_S) + starts * TARGET_START_S


def resolved_order(experiment: Experiment) -> StepOrderName:
    """`order: auto` interleaves the targets when there are repetitions to spread drift over."""
    if experiment.auto_rounds:
        return "shuffled"
    if experiment.order != "auto":
        return experiment.order
    return "interleaved" if experiment.most_repetitions > 1 else "sequential"


def build_plan(experiment: Experiment) -> Plan:
    """Every level once per repetition, lowest level first (all levels, then all again).

    sequential: target by target. interleaved: level by level, every target in turn at each
    level (its order in the experiment); shuffled: the same with the targets in a random order
    at each level, from `order_seed`. Either way slow drift on the machine (a warming CPU, a
    neighbour's job) lands on every target alike rather than on whichever ran last.
    """
    if experiment.auto_rounds:
        return _rounds_plan(experiment)
    order = resolved_order(experiment)
    levels = experiment.levels()
    repetitions = range(1, experiment.most_repetitions + 1)
    kind = experiment.load.kind
    targets = list(experiment.targets)
    if order == "sequential":
        steps = [Step(t, level, r, kind) for t in targets for r in repetitions for level in levels]
        return Plan(experiment, tuple(steps), order)
    shuffle = random.Random(experiment.order_seed)
    steps = []
    for repetition in repetitions:
        for level in levels:
            turn = list(targets)
            if order == "shuffled":
                shuffle.shuffle(turn)
            steps += [Step(target, level, repetition, kind) for target in turn]
    return Plan(experiment, tuple(steps), order)


def round_seed(experiment: Experiment, round_number: int) -> int:
    """The seed of one round's shuffle under `repetitions: auto`."""
    return experiment.order_seed + round_number


def _rounds_plan(experiment: Experiment) -> Plan:
    """`repetitions: auto`: up to `auto_repetitions.max` rounds, each measuring every target
    at every level in a fresh order shuffled from `order_seed` + the round's number (randomized
    interleaved trials: drift and periodic disturbances fall on every target alike). Rounds a
    settled level no longer needs are dropped as the sweep goes (runner.run.rounds)."""
    kind = experiment.load.kind
    pairs = [(target, level) for level in experiment.levels() for target in experiment.targets]
    steps: list[Step] = []
    for number in range(1, experiment.auto_repetitions.max + 1):
        turn = list(pairs)
        random.Random(round_seed(experiment, number)).shuffle(turn)
        steps += [Step(target, level, number, kind) for target, level in turn]
    return Plan(experiment, tuple(steps), "shuffled")
