"""The machine's cache of client ceilings: one JSON file, one entry per key (CPU model, cores,
k6 version, pinning) holding a figure per number of virtual users, so each level is measured
once per machine and k6 version. Entries written before per-level ceilings hold one figure,
measured at 64 users: they read as that one level.

Where: $SWEEPBENCH_CACHE_DIR, else $XDG_CACHE_HOME/sweepbench, else ~/.cache/sweepbench.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from runner.machine_cache import cache_dir
from runner.measure.ceiling.levels import CEILING_VUS
from runner.records.results import ClientCeiling

CACHE_FILE = "client_ceiling.json"


def cache_path() -> Path:
    return cache_dir() / CACHE_FILE


def _entries(path: Path) -> list[ClientCeiling]:
    """The cached ceilings; an unreadable cache is an empty one (it is measured again)."""
    try:
        stored = json.loads(path.read_text())
        return [_with_levels(ClientCeiling.model_validate(e)) for e in stored["entries"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _with_levels(entry: ClientCeiling) -> ClientCeiling:
    """An entry from before per-level ceilings is its one figure at CEILING_VUS users."""
    if entry.levels:
        return entry
    return entry.model_copy(update={"levels": {CEILING_VUS: entry.rps}})


def merged(kept: ClientCeiling | None, fresh: ClientCeiling) -> ClientCeiling:
    """`fresh`'s levels over those of the cached entry `kept` (same key), as one ceiling."""
    if kept is None:
        return fresh
    levels = {**kept.levels, **fresh.levels}
    worst = max(kept.interference or 0.0, fresh.interference or 0.0)
    return fresh.model_copy(
        update={"levels": levels, "rps": max(levels.values()), "interference": worst}
    )


def cached(key: dict[str, str], path: Path | None = None) -> ClientCeiling | None:
    found = [entry for entry in _entries(path or cache_path()) if entry.key == key]
    return found[-1].model_copy(update={"cached": True}) if found else None


def store(ceiling: ClientCeiling, path: Path | None = None) -> None:
    """Keep `ceiling` in place of any earlier one with its key (written atomically)."""
    path = path or cache_path()
    kept = [entry for entry in _entries(path) if entry.key != ceiling.key]
    data = {"entries": [e.model_dump(mode="json") for e in [*kept, ceiling]]}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(temporary, path)
