"""The plan: every step an experiment asks for, in the order they run."""

from __future__ import annotations

from dataclasses import dataclass

from runner.load_model import CLOSED, LoadModel
from runner.model import Experiment

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
    def key(self) -> tuple[str, int, int]:
        return (self.target, self.level, self.repetition)

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

    def without(self, done: set[tuple[str, int, int]]) -> Plan:
        """The plan minus the steps already measured (when resuming)."""
        return Plan(self.experiment, tuple(s for s in self.steps if s.key not in done))

    def for_target(self, target: str) -> list[Step]:
        return [step for step in self.steps if step.target == target]

    def server_sessions(self, target: str) -> list[list[Step]]:
        """The target's steps grouped by server start: one group, or one per repetition."""
        steps = self.for_target(target)
        if not self.experiment.restart_between_repetitions:
            return [steps]
        repetitions = sorted({step.repetition for step in steps})
        return [[s for s in steps if s.repetition == r] for r in repetitions]

    @property
    def seconds_per_step(self) -> float:
        return self.experiment.load.duration_s + self.experiment.load.warmup_s

    def estimated_seconds(self) -> float:
        starts = sum(len(self.server_sessions(target)) for target in self.experiment.targets)
        return len(self.steps) * (self.seconds_per_step + STEP_OVERHEAD_S) + starts * TARGET_START_S


def build_plan(experiment: Experiment) -> Plan:
    """Target by target; within a target, every level once per repetition, lowest level first."""
    levels = experiment.levels()
    steps = [
        Step(target, level, repetition, experiment.load.kind)
        for target in experiment.targets
        for repetition in range(1, experiment.repetitions + 1)
        for level in levels
    ]
    return Plan(experiment, tuple(steps))
