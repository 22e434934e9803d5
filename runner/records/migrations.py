"""The one place that knows older stored shapes: each upgrade lifts a run by one schema version.

A run directory's `run.json` names its schema version; `load_run` upgrades the header (experiment
and provenance) and every line of `results.jsonl` to the current version before validating them,
so the result records (runner.records.results) describe the current shape only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.errors import UserError
from runner.records.results import SCHEMA_VERSION

# A stored JSON object (run.json's header or one line of results.jsonl).
Stored = dict[str, Any]


@dataclass(frozen=True)
class Upgrade:
    """From schema `version` to `version + 1`: the run header and each step or failure."""

    version: int
    header: Callable[[Stored], Stored]
    entry: Callable[[Stored], Stored]


def _scenario_from_endpoint(header: Stored) -> Stored:
    # The first runs of schema 1 requested one `load.endpoint` (checked by `load.expect`);
    # scenarios replaced both.
    experiment = header.get("experiment", {})
    load = experiment.get("load", {})
    if "scenario" in experiment or "endpoint" not in load:
        return header
    kept = {key: value for key, value in load.items() if key not in ("endpoint", "expect")}
    request = {"path": load["endpoint"], "expect": load.get("expect", {})}
    scenario = {"name": "endpoint", "requests": [request]}
    return {**header, "experiment": {**experiment, "load": kept, "scenario": scenario}}


def _level_from_concurrency(entry: Stored) -> Stored:
    # Schema 1 wrote a step's level twice, as `level` and `concurrency` (its oldest runs, and
    # its failures, only as `concurrency`); `level` is its one name from schema 2 on.
    if "concurrency" not in entry:
        return entry
    rest = {key: value for key, value in entry.items() if key != "concurrency"}
    rest.setdefault("level", entry["concurrency"])
    return rest


def _unchanged(stored: Stored) -> Stored:
    return stored


UPGRADES = (
    Upgrade(1, _scenario_from_endpoint, _level_from_concurrency),
    # Schema 3 added what older runs did not measure (step validity, p75 and p99.99): absent.
    Upgrade(2, _unchanged, _unchanged),
)


def stored_version(header: Stored) -> int:
    """The schema version a run was written with (the first runs did not record one: 1)."""
    version = header.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise UserError(f"run.json names an unknown schema version {version!r}.")
    if version > SCHEMA_VERSION:
        raise UserError(
            f"This run was written with results schema {version}, newer than this sweepbench "
            f"reads ({SCHEMA_VERSION}). Re-render it with the version that wrote it."
        )
    return version


def upgrade_header(header: Stored) -> Stored:
    """run.json's content in the current shape, with the current schema version."""
    version = stored_version(header)
    for upgrade in UPGRADES:
        if upgrade.version >= version:
            header = upgrade.header(header)
    return {**header, "schema_version": SCHEMA_VERSION}


def upgrade_entry(entry: Stored, version: int) -> Stored:
    """One line of results.jsonl, written under schema `version`, in the current shape."""
    for upgrade in UPGRADES:
        if upgrade.version >= version:
            entry = upgrade.entry(entry)
    return entry
