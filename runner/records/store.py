"""The result store: every step is appended to `results.jsonl` the moment it ends.

A run directory holds
- `run.json`: the validated experiment and the provenance, written before the first step;
- `results.jsonl`: one line per finished step or failure, flushed and fsync'ed at once;
- `results.json`: the whole record, assembled from the two above when the run ends.
Everything downstream (analysis, reports) reads these files only, through `load_run`: it upgrades
an older schema (runner.records.migrations) and returns the typed record (runner.records.results). Secrets are
masked on the way in (runner.records.redact), so none of these files ever holds a password.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from runner.config.experiment import INVOCATION_KEYS, Experiment, stored_experiment
from runner.errors import UserError
from runner.records.migrations import stored_version, upgrade_entry, upgrade_header
from runner.records.redact import redact_data
from runner.records.results import (
    SCHEMA_VERSION,
    CapacityRun,
    Failure,
    Provenance,
    RunRecord,
    StepKey,
    StepResult,
    TargetCapacity,
    TrialRecord,
)
from runner.records.run_files import RESULTS_FILE as RESULTS_FILE
from runner.records.run_files import RUN_FILE as RUN_FILE
from runner.records.run_files import STEPS_FILE as STEPS_FILE


class ResultStore:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def start(
        self, experiment: Experiment | dict[str, Any], provenance: Provenance | dict[str, Any]
    ) -> None:
        """Record the experiment (a model or its dump by alias) and where the run comes from."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(experiment, Experiment):
            experiment = experiment.model_dump(mode="json", by_alias=True)
        facts = Provenance.model_validate(provenance)
        self._write_header({"experiment": experiment}, facts)
        (self.run_dir / STEPS_FILE).touch()

    def resume(self, experiment: dict[str, Any]) -> set[StepKey]:
        """Continue a stored run with the same config; returns the keys of its stored steps
        (every attempt is kept; runner.run.schedule decides which a retry is still due for).

        Failures of the interrupted attempt are dropped: their steps run again. The run's files
        are rewritten in the current schema, so the steps measured from here on fit them.
        """
        run_file = self.run_dir / RUN_FILE
        if not run_file.is_file():
            raise UserError(
                f"Cannot resume {self.run_dir}: it is not a sweepbench run directory "
                f"(no {RUN_FILE}). Give runner.resume the directory of an earlier run."
            )
        header = upgrade_header(_read_json(run_file))
        provenance = Provenance.model_validate(header["provenance"])
        # The stored config has its secrets masked: compare it with the masked current one.
        differences = config_differences(header["experiment"], redact_data(experiment))
        if differences:
            raise UserError(
                f"Cannot resume {self.run_dir}: the composed config differs from the stored one ("
                + "; ".join(differences)
                + "). Resume with the same experiment and overrides; the stored ones were: "
                + " ".join(provenance.overrides)
            )
        run = load_run(self.run_dir)
        steps = _unique_steps(run.steps)
        searches = _finished_searches(run.capacity)
        lines = [entry.model_dump_json() for entry in [*steps, *searches]]
        _write_lines(self.run_dir / STEPS_FILE, lines)
        provenance.resumed_at.append(time.time())
        self._write_header(header, provenance)
        (self.run_dir / RESULTS_FILE).unlink(missing_ok=True)
        # A capacity search is one step of the plan: its start rate, repetition 1.
        start = run.experiment.levels()[0]
        searched = {StepKey(t.target, start, 1) for t in searches if isinstance(t, TargetCapacity)}
        return {s.key for s in steps} | searched

    def append(self, entry: StepResult | Failure | TrialRecord | TargetCapacity) -> None:
        line = json.dumps(redact_data(entry.model_dump(mode="json")))
        with (self.run_dir / STEPS_FILE).open("a") as stream:
            stream.write(line + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def finish(self, complete: bool, provenance_update: dict[str, Any]) -> RunRecord:
        header = upgrade_header(_read_json(self.run_dir / RUN_FILE))
        provenance = Provenance.model_validate({**header["provenance"], **provenance_update})
        self._write_header(header, provenance)
        record = load_run(self.run_dir)
        record.complete = complete
        _write_json(self.run_dir / RESULTS_FILE, record.model_dump(mode="json", by_alias=True))
        return record

    def _write_header(self, header: dict[str, Any], provenance: Provenance) -> None:
        run = {
            "schema_version": SCHEMA_VERSION,
            "experiment": header["experiment"],
            "provenance": provenance.model_dump(mode="json"),
        }
        _write_json(self.run_dir / RUN_FILE, redact_data(run))


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
    """The run as stored, in the current schema; works for a finished run and one cut short."""
    stored = _read_json(run_dir / RUN_FILE)
    version = stored_version(stored)
    header = upgrade_header(stored)
    steps: list[StepResult] = []
    failures: list[Failure] = []
    capacity = CapacityRun()
    for entry in _entries(run_dir / STEPS_FILE):
        entry = upgrade_entry(entry, version)
        kind = entry.get("kind")
        if kind == "failure":
            failures.append(Failure.model_validate(entry))
        elif kind == "trial":
            capacity.trials.append(TrialRecord.model_validate(entry))
        elif kind == "capacity":
            capacity.targets.append(TargetCapacity.model_validate(entry))
        else:
            steps.append(StepResult.model_validate(entry))
    finished = _read_json(run_dir / RESULTS_FILE) if (run_dir / RESULTS_FILE).is_file() else {}
    experiment = stored_experiment(header["experiment"])
    return RunRecord(
        experiment=experiment,
        provenance=Provenance.model_validate(header["provenance"]),
        steps=steps,
        failures=failures,
        complete=bool(finished.get("complete", False)),
        capacity=capacity if experiment.load.kind.searched else None,
    )


def _entries(path: Path) -> list[dict[str, Any]]:
    """Every line of results.jsonl; a last line cut off by a crash mid-write is left out."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(json.loads(line))
        except ValueError:
            if number == len(lines):  # that step never finished
                break
            raise
    return entries


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _unique_steps(steps: list[StepResult]) -> list[StepResult]:
    """Each attempt of each step once (a disturbed step is stored once per attempt)."""
    seen: dict[tuple[StepKey, int], StepResult] = {}
    for step in steps:
        seen.setdefault((step.key, step.attempt), step)
    return list(seen.values())


def _finished_searches(run: CapacityRun | None) -> list[TrialRecord | TargetCapacity]:
    """The trials and results of every capacity search that ended; an unfinished search is
    dropped and runs again from its start."""
    if run is None:
        return []
    finished = {t.target for t in run.targets}
    return [*(t for t in run.trials if t.target in finished), *run.targets]


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
