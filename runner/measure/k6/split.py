"""A step's load from one k6 process, or split over several (`load.k6_instances`), read as one.

With one instance everything is as it always was: one k6 in the step's directory, its summary
the step's figures. With N, instance n runs its execution segment (runner.measure.k6.segments) in
`k6-n/` of the step's directory, with its own options, summary, raw samples (k6-samples.csv.gz)
and REST port, all N side by side on the client's cores. The step's figures merge them
(runner.measure.k6.merge): counts summed, latencies from the pooled raw samples of the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner.errors import SweepbenchError
from runner.measure import launch
from runner.measure.k6.merge import merge_metrics
from runner.measure.k6.process import (
    K6Command,
    K6Run,
    Spawner,
    k6_command,
    run_k6_instances,
    spawn_local,
)
from runner.measure.k6.raw import RAW_FILE, read_measured_durations
from runner.measure.k6.segments import Segment, segments
from runner.measure.k6.summary import K6Metrics, parse_summary
from runner.measure.ports import free_port

__all__ = ["Instance", "K6Failed", "SplitRun", "run_instances", "step_instances"]


class K6Failed(SweepbenchError):
    """k6's output cannot give the step's figures; the message says why (the step is recorded as
    a failure)."""


@dataclass(frozen=True)
class Instance:
    """One k6 process of a step: its segment and its command."""

    segment: Segment
    command: K6Command

    @property
    def name(self) -> str:
        """'k6', or 'k6 instance 2 of 3' in messages."""
        if self.segment.count == 1:
            return "k6"
        return f"k6 instance {self.segment.number} of {self.segment.count}"


def step_instances(
    k6_path: Path, script: Path, options: dict[str, Any], work_dir: Path, count: int
) -> list[Instance]:
    """The commands of a step's `count` k6 instances (built, not started)."""
    if count == 1:
        return [
            Instance(Segment(0, 1), k6_command(k6_path, script, options, work_dir, free_port()))
        ]
    instances = []
    for segment in segments(count):
        directory = work_dir / f"k6-{segment.number}"
        command = k6_command(
            k6_path, script, options, directory, free_port(), segment, directory / RAW_FILE
        )
        instances.append(Instance(segment, command))
    return instances


@dataclass(frozen=True)
class SplitRun:
    """What a step's k6 instances left behind, one K6Run each, in segment order."""

    instances: list[Instance]
    runs: list[K6Run]

    @property
    def split(self) -> bool:
        return len(self.runs) > 1

    @property
    def api_ports(self) -> list[int]:
        return [instance.command.api_port for instance in self.instances]

    @property
    def stopped_because(self) -> str | None:
        """Why the runner stopped them all (the server died, time ran out); None if it did not."""
        return self.runs[0].stopped_because

    @property
    def exit_code(self) -> int:
        """The first non-zero exit code of the instances; 0 when every one exited cleanly."""
        return next((run.exit_code for run in self.runs if run.exit_code != 0), 0)

    @property
    def load_started_at(self) -> float:
        """When the first instance's load started (its marker, else its process start)."""
        return min(run.load_started_at or run.started_at for run in self.runs)

    def problem(self, stopped_by_watch: bool) -> str | None:
        """Why the figures cannot be read: an instance failed (a stop by the step's watch exits
        non-zero, which is no failure) or wrote no summary."""
        for instance, run in zip(self.instances, self.runs, strict=True):
            if (run.exit_code == 0 or stopped_by_watch) and run.summary is not None:
                continue
            if run.exit_code != 0:
                return f"{instance.name} failed ({launch.describe_exit(run.exit_code)})"
            return f"{instance.name} exited without writing its summary"
        return None

    @property
    def output_tail(self) -> list[str]:
        """k6's last lines; a split step's from the first instance that failed (else the first)."""
        failed = [run for run in self.runs if run.exit_code != 0 or run.summary is None]
        return (failed or self.runs)[0].output_tail

    def instance_metrics(self) -> list[K6Metrics]:
        """Each instance's own figures, from its summary (after `problem` found none)."""
        return [parse_summary(run.summary or {}) for run in self.runs]

    def metrics(self) -> K6Metrics:
        """The step's figures (runner.measure.k6.merge); K6Failed says why the raw samples cannot
        give them."""
        if not self.split:
            return parse_summary(self.runs[0].summary or {})
        each = self.instance_metrics()
        try:
            pooled = [read_measured_durations(_raw_path(i)) for i in self.instances]
        except (OSError, ValueError, IndexError) as error:
            raise K6Failed(f"k6's raw samples could not be read ({error})") from None
        durations = np.concatenate(pooled)
        requests = sum(m.requests for m in each)
        if durations.size != requests:
            raise K6Failed(
                f"k6's raw samples hold {durations.size} requests of the measured window, its "
                f"summaries {requests}"
            )
        return merge_metrics(each, durations)


def _raw_path(instance: Instance) -> Path:
    if instance.command.raw_path is None:
        raise ValueError(f"{instance.name} wrote no raw samples")
    return instance.command.raw_path


def run_instances(
    instances: list[Instance],
    env: dict[str, str],
    cpus: list[int] | None,
    timeout_s: float,
    on_spawn: Callable[[str, int], None] | None = None,
    stop_when: Callable[[], str | None] | None = None,
    spawn: Spawner = spawn_local,
) -> SplitRun:
    """Run the instances side by side (runner.measure.k6.process); `on_spawn(tree, pid)` names each
    process by its sampler tree."""

    def spawned(index: int, pid: int) -> None:
        if on_spawn is not None:
            on_spawn(instances[index].segment.tree, pid)

    commands = [instance.command for instance in instances]
    runs = run_k6_instances(commands, env, cpus, timeout_s, spawned, stop_when, spawn)
    return SplitRun(instances, runs)
