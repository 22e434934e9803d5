"""The result store: every step is appended to `results.jsonl` the moment it ends.

A run directory holds
- `run.json`: the validated experiment and the provenance, written before the first step;
- `results.jsonl`: one line per finished step or failure, flushed and fsync'ed at once;
- `results.json`: the whole record, assembled from the two above when the run ends.
Everything downstream (analysis, reports) reads these files only. Secrets are masked on the
way in (runner.redact), so none of these files ever holds a password.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.errors import UserError
from runner.load_model import LoadModelName
from runner.model import INVOCATION_KEYS
from runner.redact import redact_data

SCHEMA_VERSION = 2
RUN_FILE = "run.json"
STEPS_FILE = "results.jsonl"
RESULTS_FILE = "results.json"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stat(Record):
    avg: float
    max: float


class LatencyMs(Record):
    avg: float
    min: float
    p50: float
    p90: float
    p95: float
    p99: float
    p99_9: float
    max: float


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
        description="k6 used >= 90% of its cores: the step measured k6, not the server.",
    )
    k6_exit_code: int

    @model_validator(mode="before")
    @classmethod
    def _level_from_concurrency(cls, data: Any) -> Any:
        # Schema 1 wrote the level twice, as `level` and `concurrency` (the oldest runs only
        # as `concurrency`); `level` is its one name now.
        if isinstance(data, dict) and "concurrency" in data:
            rest = {key: value for key, value in data.items() if key != "concurrency"}
            rest.setdefault("level", data["concurrency"])
            return rest
        return data


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

    @model_validator(mode="before")
    @classmethod
    def _level_from_concurrency(cls, data: Any) -> Any:
        # Failures of schema 1 name their level `concurrency`.
        if isinstance(data, dict) and "concurrency" in data:
            rest = {key: value for key, value in data.items() if key != "concurrency"}
            rest.setdefault("level", data["concurrency"])
            return rest
        return data


class RunRecord(Record):
    """Everything a report is made from."""

    schema_version: int = SCHEMA_VERSION
    experiment: dict[str, Any]
    provenance: dict[str, Any]
    steps: list[StepResult]
    failures: list[Failure]
    complete: bool = Field(description="False when the run stopped before its last step.")


class ResultStore:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def start(self, experiment: dict[str, Any], provenance: dict[str, Any]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        header = {"schema_version": SCHEMA_VERSION, "experiment": experiment}
        _write_json(self.run_dir / RUN_FILE, redact_data({**header, "provenance": provenance}))
        (self.run_dir / STEPS_FILE).touch()

    def resume(self, experiment: dict[str, Any]) -> set[tuple[str, int, int]]:
        """Continue a stored run with the same config; returns the keys of its finished steps.

        Failures of the interrupted attempt are dropped: their steps run again.
        """
        run_file = self.run_dir / RUN_FILE
        if not run_file.is_file():
            raise UserError(
                f"Cannot resume {self.run_dir}: it is not a sweepbench run directory "
                f"(no {RUN_FILE}). Give runner.resume the directory of an earlier run."
            )
        run = json.loads(run_file.read_text())
        # The stored config has its secrets masked: compare it with the masked current one.
        differences = config_differences(run["experiment"], redact_data(experiment))
        if differences:
            raise UserError(
                f"Cannot resume {self.run_dir}: the composed config differs from the stored one ("
                + "; ".join(differences)
                + "). Resume with the same experiment and overrides; the stored ones were: "
                + " ".join(run["provenance"].get("overrides", []))
            )
        steps = _unique_steps(load_run(self.run_dir).steps)
        _write_lines(self.run_dir / STEPS_FILE, [s.model_dump_json() for s in steps])
        run["provenance"].setdefault("resumed_at", []).append(time.time())
        _write_json(run_file, run)
        (self.run_dir / RESULTS_FILE).unlink(missing_ok=True)
        return {(s.target, s.level, s.repetition) for s in steps}

    def append(self, entry: StepResult | Failure) -> None:
        line = json.dumps(redact_data(entry.model_dump(mode="json")))
        with (self.run_dir / STEPS_FILE).open("a") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def finish(self, complete: bool, provenance_update: dict[str, Any]) -> RunRecord:
        run = json.loads((self.run_dir / RUN_FILE).read_text())
        run["provenance"].update(provenance_update)
        _write_json(self.run_dir / RUN_FILE, redact_data(run))
        record = load_run(self.run_dir)
        record.complete = complete
        _write_json(self.run_dir / RESULTS_FILE, record.model_dump(mode="json"))
        return record


def check_run_dir(run_dir: Path, min_free_mib: int) -> None:
    """The run directory must take writes and have room, before the first step."""
    probe = run_dir / ".write-probe"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as stream:
            stream.write(b"\0" * 4096)
            stream.flush()
            os.fsync(stream.fileno())
        probe.unlink()
    except OSError as error:
        raise UserError(
            f"The run directory {run_dir} cannot be written ({error.strerror or error}). "
            "Free some space or choose another directory with hydra.run.dir=DIR."
        ) from None
    free_mib = shutil.disk_usage(run_dir).free / 2**20
    if free_mib < min_free_mib:
        raise UserError(
            f"The run directory {run_dir} has {free_mib:,.0f} MiB free; a run needs at least "
            f"{min_free_mib:,} MiB (runner.min_free_mib). Free some space or choose another "
            "directory with hydra.run.dir=DIR."
        )


def load_run(run_dir: Path) -> RunRecord:
    """The run as stored; works for a finished run and for one cut short."""
    run = json.loads((run_dir / RUN_FILE).read_text())
    steps: list[StepResult] = []
    failures: list[Failure] = []
    lines = [line for line in (run_dir / STEPS_FILE).read_text().splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):  # cut off by a crash mid-write: that step never finished
                break
            raise
        if entry.get("kind") == "failure":
            failures.append(Failure.model_validate(entry))
        else:
            steps.append(StepResult.model_validate(entry))
    finished = (
        json.loads((run_dir / RESULTS_FILE).read_text())
        if (run_dir / RESULTS_FILE).is_file()
        else {}
    )
    return RunRecord(
        experiment=run["experiment"],
        provenance=run["provenance"],
        steps=steps,
        failures=failures,
        complete=bool(finished.get("complete", False)),
    )


def _unique_steps(steps: list[StepResult]) -> list[StepResult]:
    seen: dict[tuple[str, int, int], StepResult] = {}
    for step in steps:
        seen.setdefault((step.target, step.level, step.repetition), step)
    return list(seen.values())


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}


def config_differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'key: stored X, now Y' for every key that differs, ignoring how the run was invoked."""
    before, after = _flatten(stored), _flatten(current)
    keys = sorted((set(before) | set(after)) - set(INVOCATION_KEYS))
    return [
        f"{key}: stored {before.get(key)!r}, now {after.get(key)!r}"
        for key in keys
        if before.get(key) != after.get(key)
    ]


def _write_lines(path: Path, lines: list[str]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text("".join(line + "\n" for line in lines))
    os.replace(temporary, path)


def _write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash never leaves half a JSON file behind."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(temporary, path)
