"""The stored result types, shared by the store, the analysis and every report writer.

They describe the current schema (SCHEMA_VERSION) only; older stored shapes are upgraded to it
by runner.records.migrations before they are validated here. A run's record (RunRecord) and its
provenance are defined here; its steps and failures in runner.records.steps, a capacity run's
trials and outcomes in runner.records.capacity. Every type is importable from here.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

from pydantic import Field

from runner.config.experiment import Experiment
from runner.measure.steal_floor import StealFloor
from runner.records.capacity import CapacityRun, TargetCapacity, TrialRecord
from runner.records.steps import Failure, K6Instance, LatencyMs, Record, Stat, StepKey, StepResult
from runner.remote.record import RunHosts

__all__ = [
    "SCHEMA_VERSION",
    "CapacityRun",
    "ClientCeiling",
    "Failure",
    "GitState",
    "K6Instance",
    "LatencyMs",
    "LevelRounds",
    "LoadDestination",
    "Machine",
    "Provenance",
    "Record",
    "RunRecord",
    "Stat",
    "StepKey",
    "StepOrder",
    "StepResult",
    "TargetCapacity",
    "TrialRecord",
]

SCHEMA_VERSION = 3


class GitState(Record):
    """The commit of the experiment definitions and whether the work tree had local changes."""

    directory: str | None = None
    commit: str | None = Field(default=None, description="null: not a git checkout.")
    dirty: bool | None = None
    changes: list[str] = Field(
        default_factory=list, description="`git status --porcelain` lines, the first 50."
    )


class Machine(Record):
    """The host a run (a job of a matrix, perhaps on a cluster node) was measured on. Its kind,
    for comparisons, is the CPU model, cores and memory, not the name (runner.records.host_kind)."""

    hostname: str | None = Field(default=None, description="null: runs before it was recorded.")
    cpu_model: str = "unknown"
    logical_cores: int | None = None
    physical_cores: int | None = None
    memory_gib: float | None = None
    os: str = ""
    slurm_job: str | None = Field(
        default=None,
        description="The SLURM job the run ran as (ARRAYID_TASK for a job array's task, as "
        "squeue and scancel name it); null outside SLURM.",
    )


class LoadDestination(Record):
    """Where one target's load went, as decided before the first step (runner.run.safety)."""

    target: str
    url: str | None = Field(description="null: a server the runner started on loopback.")
    host: str
    addresses: list[str]
    loopback: bool
    started_by_runner: bool


class ClientCeiling(Record):
    """k6's throughput against the minimal responder, on the run's pinning (runner.measure.ceiling),
    per number of virtual users: k6 does less per request with few users than with many."""

    rps: float = Field(
        description="The highest of the per-level figures (before per-level ceilings: the "
        "figure at 64 virtual users, which held for every level)."
    )
    levels: dict[int, float] = Field(
        default_factory=dict,
        description="Virtual users -> k6's RPS with that many (empty in runs stored before "
        "per-level ceilings: `rps` holds for every level).",
    )
    measured_at: float = Field(description="Unix seconds.")
    measure_s: float = Field(description="Seconds the measurement took, start to end.")
    cached: bool = Field(description="Taken from the machine's cache, not measured by this run.")
    interference: float | None = Field(
        default=None,
        description="Share of the cores other work took while it was measured (a disturbed "
        "measurement is neither cached nor used).",
    )
    key: dict[str, str] = Field(
        default_factory=dict, description="What it holds for: CPU, cores, k6 version, pinning."
    )

    def levels_text(self) -> str:
        """'12,870 at 10, 10,057 at 64 virtual users (RPS)'; one figure for older runs'."""
        if not self.levels:
            return f"{self.rps:,.0f} RPS"
        parts = [f"{rps:,.0f} at {vus:,}" for vus, rps in sorted(self.levels.items())]
        return f"{', '.join(parts)} virtual users (RPS)"

    def rps_at(self, vus: int) -> float:
        """k6's ceiling with `vus` virtual users: linear in log(users) between the measured
        levels, the nearest measured figure outside them."""
        points = sorted(self.levels.items())
        if not points:
            return self.rps
        if vus <= points[0][0]:
            return points[0][1]
        for (low, low_rps), (high, high_rps) in itertools.pairwise(points):
            if vus <= high:
                share = math.log(vus / low) / math.log(high / low)
                return low_rps + share * (high_rps - low_rps)
        return points[-1][1]


class StepOrder(Record):
    order: Literal["sequential", "interleaved", "shuffled"]
    seed: int | None = Field(default=None, description="The shuffle's seed ('shuffled').")
    steps: list[str] = Field(
        default_factory=list, description="target/level/repetition, in the order planned."
    )


class LevelRounds(Record):
    """`repetitions: auto`: how many rounds a level ran and why it stopped (runner.run.rounds)."""

    level: int
    rounds: int = Field(description="Rounds the level ran.")
    stopped: Literal["lead", "equivalent", "one target", "max rounds", "budget", "interrupted"]
    text: str = Field(description="Why, with its figures: 'lead +171.5% (p<0.001)'.")


class Provenance(Record):
    """Where a run's numbers came from (runner.records.provenance, runner.run.sweep). Runs written by
    earlier versions lack some of these: every field is optional."""

    started_at: float | None = Field(default=None, description="Unix seconds.")
    ended_at: float | None = Field(default=None, description="Unix seconds.")
    resumed_at: list[float] = Field(
        default_factory=list, description="When the run was resumed, Unix seconds."
    )
    command: str = ""
    overrides: list[str] = Field(default_factory=list, description="Hydra overrides given.")
    config_sha256: str | None = Field(default=None, description="Of the composed experiment.")
    git: GitState | None = None
    python: str | None = None
    k6: str | None = Field(default=None, description="`k6 version` output.")
    packages: dict[str, str | None] = Field(default_factory=dict)
    target_packages: dict[str, dict[str, str | None]] = Field(
        default_factory=dict, description="Per target, the distributions its app loads."
    )
    machine: Machine | None = None
    load_destinations: list[LoadDestination] = Field(default_factory=list)
    server_commands: dict[str, list[str]] = Field(default_factory=dict)
    target_start_s: dict[str, list[float]] = Field(
        default_factory=dict, description="Seconds each start of a target's server took."
    )
    target_stop_s: dict[str, list[float]] = Field(
        default_factory=dict, description="Seconds each stop of a target's server took."
    )
    client_ceiling: ClientCeiling | None = Field(
        default=None,
        description="k6's ceiling the steps were judged against (runner.measure.ceiling).",
    )
    steal_floor: StealFloor | None = Field(
        default=None,
        description="Each core's steal with nothing of ours running, measured at the run's "
        "start; the steal rule judges steal above it (runner.measure.steal_floor).",
    )
    step_order: StepOrder | None = Field(
        default=None, description="The order the steps ran in (the experiment's `order`)."
    )
    rounds: list[LevelRounds] = Field(
        default_factory=list,
        description="`repetitions: auto`: per level, the rounds run and why it stopped.",
    )
    hosts: RunHosts | None = Field(
        default=None,
        description="Where each server and k6 ran, and each remote host's clock offset "
        "(runner.remote).",
    )


class RunRecord(Record):
    """Everything a report is made from."""

    schema_version: int = Field(
        default=SCHEMA_VERSION, description="Shape of this record (older ones are upgraded)."
    )
    experiment: Experiment = Field(description="The validated experiment, secrets masked.")
    provenance: Provenance
    steps: list[StepResult]
    failures: list[Failure]
    complete: bool = Field(description="False when the run stopped before its last step.")
    capacity: CapacityRun | None = Field(
        default=None, description="Capacity load model only: every trial and each target's result."
    )
