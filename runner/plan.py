"""The plan: every step an experiment asks for, in the order they run."""

from __future__ import annotations

from dataclasses import dataclass

from runner.model import Experiment

# Seconds per step beyond its configured load: k6 start-up and summary writing.
STEP_OVERHEAD_S = 0.25
# Seconds to start and verify one server.
TARGET_START_S = 1.0


@dataclass(frozen=True)
class Step:
    target: str
    concurrency: int
    repetition: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.target, self.concurrency, self.repetition)


@dataclass(frozen=True)
class Plan:
    experiment: Experiment
    steps: tuple[Step, ...]

    def without(self, done: set[tuple[str, int, int]]) -> Plan:
        """The plan minus the steps already measured (when resuming)."""
        return Plan(self.experiment, tuple(s for s in self.steps if s.key not in done))

    def for_target(self, target: str) -> list[Step]:
        return [step for step in self.steps if step.target == target]

    @property
    def seconds_per_step(self) -> float:
        return self.experiment.load.duration_s + self.experiment.load.warmup_s

    def estimated_seconds(self) -> float:
        targets = len(self.experiment.targets)
        return (
            len(self.steps) * (self.seconds_per_step + STEP_OVERHEAD_S) + targets * TARGET_START_S
        )


def build_plan(experiment: Experiment) -> Plan:
    """Target by target; within a target, every level once per repetition, lowest level first."""
    levels = experiment.sweep.concurrency.values()
    steps = [
        Step(target, level, repetition)
        for target in experiment.targets
        for repetition in range(1, experiment.repetitions + 1)
        for level in levels
    ]
    return Plan(experiment, tuple(steps))
