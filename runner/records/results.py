"""The stored result types, shared by the store, the analysis and every report writer.

They describe the current schema (SCHEMA_VERSION) only; older stored shapes are upgraded to it
by runner.records.migrations before they are validated here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.capacity.objective import Percentile, Verdict
from runner.capacity.result import StopReason
from runner.capacity.trials import PlanKind
from runner.config.experiment import Experiment
from runner.config.load_model import LoadModelName
from runner.measure.validity import Validity
from runner.remote.record import RunHosts

SCHEMA_VERSION = 3


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stat(Record):
    avg: float
    max: float


class LatencyMs(Record):
    """k6 `http_req_duration` of the measured window, ms: the percentile spectrum."""

    avg: float
    min: float
    p50: float
    p75: float | None = Field(default=None, description="Absent in runs before schema 3.")
    p90: float
    p95: float
    p99: float
    p99_9: float
    p99_99: float | None = Field(default=None, description="Absent in runs before schema 3.")
    max: float


class K6Instance(Record):
    """One k6 process of a step whose load was split over several (load.k6_instances > 1)."""

    instance: int = Field(description="1-based.")
    segment: str = Field(description="Its k6 execution segment, e.g. '1/2:1'.")
    requests: int
    rps: float = Field(description="Its requests per second over the step's measured window.")
    failed_requests: int
    dropped_iterations: int | None = Field(default=None, description="Open model only.")
    load_start_offset_s: float = Field(
        description="When its load started, seconds after the first instance's."
    )
    client_cpu_percent: Stat | None = Field(
        default=None, description="Its CPU, % of one core (null: no samples in the window)."
    )


class StepResult(Record):
    """One target at one level in one repetition, measured window only."""

    kind: Literal["step"] = "step"
    target: str
    label: str
    model: LoadModelName = Field(
        default="closed",
        description="Load model: closed (constant virtual users) or open (constant arrival rate).",
    )
    level: int = Field(
        description="The step's level: virtual users (closed) or requests per second (open)."
    )
    repetition: int = Field(description="1-based repetition number.")
    started_at: float = Field(description="Start of the measured window, Unix seconds.")
    duration_s: float = Field(description="Length of the measured window, seconds.")
    requests: int
    rps: float = Field(description="Requests per second in the measured window.")
    target_rps: float | None = Field(
        default=None, description="Open model: the arrival rate asked of k6, requests per second."
    )
    dropped_iterations: int | None = Field(
        default=None,
        description="Open model: requests k6 could not start on time because every allowed "
        "virtual user was still waiting for the server (k6 `dropped_iterations`).",
    )
    max_vus: int | None = Field(default=None, description="Open model: k6's virtual-user cap.")
    failed_requests: int
    error_rate: float = Field(description="Failed / all requests, a fraction (0.01 = 1%).")
    errors: dict[str, int] = Field(description="Failed requests by cause.")
    latency_ms: LatencyMs
    cpu_percent: Stat | None = Field(
        description="Server process tree CPU, % of one core (200% = two cores busy); `max` is "
        "the busiest 1 s of the window (null: a `url` target, not sampled)."
    )
    cpu_share_percent: Stat | None = Field(
        default=None,
        description="Server process tree CPU, % of the cores the server may use (100% = all "
        "of them busy).",
    )
    server_cores: int | None = Field(default=None, description="CPU cores the server may use.")
    memory_mib: Stat | None = Field(
        description="Server process tree RSS, MiB (summed: an upper bound; null: a `url` target)."
    )
    memory_uss_mib: Stat | None = Field(
        default=None,
        description="Server process tree USS (memory private to each process), MiB (summed: a "
        "lower bound of what the tree holds).",
    )
    memory_pss_mib: Stat | None = Field(
        default=None,
        description="Server process tree PSS (shared pages split between their users), MiB.",
    )
    server_processes: int | None
    server_pid: int | None = Field(default=None, description="PID of the server's main process.")
    client_cpu_percent: Stat = Field(description="k6 CPU, % of one core.")
    client_cores: int | None = Field(default=None, description="CPU cores k6 may use.")
    client_bound: bool = Field(
        default=False,
        description="The step measured k6, not the server: k6 used >= 90% of its cores, or "
        "(schema 3) the validity's client-bound reason (validity.client_cpu_limit, "
        "validity.client_ceiling_share).",
    )
    client_ceiling_share: float | None = Field(
        default=None,
        description="Throughput as a share of k6's measured ceiling on this machine and pinning "
        "(runner.measure.ceiling); null: no ceiling measured.",
    )
    k6_exit_code: int
    k6_split: list[K6Instance] | None = Field(
        default=None,
        description="The step's load split over several k6 processes (load.k6_instances > 1): "
        "each one's segment and figures. The step's own figures merge them: counts and rates "
        "summed, latency percentiles computed from their pooled raw samples, k6 CPU their "
        "total. null: one k6 process.",
    )
    validity: Validity | None = Field(
        default=None,
        description="Whether the step's figures can be believed, with named reasons and their "
        "figures (runner.measure.validity); null: judged by no rule (runs before schema 3).",
    )


class Failure(Record):
    """A target that could not start or a step that could not be measured."""

    kind: Literal["failure"] = "failure"
    target: str
    label: str
    stage: Literal["start", "step"]
    level: int | None = Field(default=None, description="The step's level (stage 'step').")
    repetition: int | None = None
    message: str
    log_tail: str = ""


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


class LoadDestination(Record):
    """Where one target's load went, as decided before the first step (runner.run.safety)."""

    target: str
    url: str | None = Field(description="null: a server the runner started on loopback.")
    host: str
    addresses: list[str]
    loopback: bool
    started_by_runner: bool


class ClientCeiling(Record):
    """k6's throughput against the minimal responder, on the run's pinning (runner.measure.ceiling)."""

    rps: float
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


class StepOrder(Record):
    order: Literal["sequential", "interleaved", "shuffled"]
    seed: int | None = Field(default=None, description="The shuffle's seed ('shuffled').")
    steps: list[str] = Field(
        default_factory=list, description="target/level/repetition, in the order planned."
    )


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
    step_order: StepOrder | None = Field(
        default=None, description="The order the steps ran in (the experiment's `order`)."
    )
    hosts: RunHosts | None = Field(
        default=None,
        description="Where each server and k6 ran, and each remote host's clock offset "
        "(runner.remote).",
    )


class TrialRecord(Record):
    """One trial of a capacity search (runner.capacity), stored the moment it ends."""

    kind: Literal["trial"] = "trial"
    target: str
    label: str
    number: int = Field(description="1-based, per target, in the order run (confirmation too).")
    rate: int = Field(description="The arrival rate asked of k6, requests per second.")
    planned_s: float = Field(description="Planned length of the measured window, seconds.")
    plan: PlanKind = Field(description="Why this rate: start, double, halve, bisect, settle, ...")
    reason: str = Field(description="The search's reason for the trial, in words.")
    long: bool = Field(description="A long trial (these vote where a result is close).")
    verdict: Verdict
    close: bool = Field(description="The result lies within the close band of the objective.")
    why: str = Field(description="The verdict in words, with the figures that decided it.")
    percentile: Percentile = Field(description="The objective's latency percentile.")
    percentile_ms: float = Field(description="That percentile over the trial's own window.")
    early_stop: str | None = Field(
        default=None, description="Why the trial was stopped before its planned end, if it was."
    )
    settle_s: float = Field(
        default=0.0,
        description="Seconds after a failed trial until the server answered within the objective "
        "again (its backlog drained); they count against the budget.",
    )
    step: StepResult = Field(
        description="The window's figures, as any step's (duration_s is the length actually run)."
    )


class TargetCapacity(Record):
    """How one target's capacity search ended: the capacity, its bracket, confidence, cost."""

    kind: Literal["capacity"] = "capacity"
    target: str
    label: str
    capacity_rps: int | None = Field(description="Highest settled passing rate; null: none.")
    at_least: bool = Field(description="Only a lower bound (the client or the search's bound).")
    headline: str = Field(description="'195 RPS', 'at least 400 RPS (client limit)', ...")
    highest_pass: int | None
    highest_pass_how: str | None = None
    lowest_fail: int | None
    lowest_fail_how: str | None = None
    confidence: str
    stop_reason: StopReason
    stop_text: str
    trials: int = Field(description="Trials the search ran, confirmation not included.")
    search_s: float = Field(description="Seconds of load the search used (not the confirmation).")
    wall_s: float = Field(description="Wall-clock seconds of the search and its confirmation.")
    confirmation: int | None = Field(
        default=None, description="Trial number of the confirmation trial, if one ran."
    )
    confirmed: bool | None = Field(
        default=None, description="Whether the confirmation passed; null: none, or invalid."
    )


class CapacityRun(Record):
    """A capacity run's own results: every trial and each target's outcome."""

    trials: list[TrialRecord] = Field(default_factory=list)
    targets: list[TargetCapacity] = Field(default_factory=list)

    def of(self, target: str) -> TargetCapacity | None:
        return next((t for t in self.targets if t.target == target), None)

    @property
    def unmet(self) -> list[TargetCapacity]:
        """Targets at which no rate met the objective."""
        return [t for t in self.targets if t.capacity_rps is None]


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
