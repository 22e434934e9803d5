"""Where a run's numbers came from: code, config, software versions and machine."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from runner.config.experiment import Experiment, Target
from runner.records.package_probe import app_modules

PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "django", "gunicorn")
# The harness itself: psutil does the sampling, so its version matters to the CPU figures.
HARNESS_PACKAGES = ("sweepbench", "psutil", "pydantic", "hydra-core")
# Enough uncommitted paths to see what changed without bloating run.json.
MAX_CHANGES_LISTED = 50


def config_hash(experiment: dict[str, Any]) -> str:
    canonical = json.dumps(experiment, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def git_state(directory: Path) -> dict[str, Any]:
    """Commit of the experiment definitions and whether the work tree had local changes."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout.rstrip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=all")
    changes = status.splitlines() if status else []
    return {
        "directory": str(directory),
        "commit": commit,
        "dirty": bool(changes) if status is not None else None,
        # `git status --porcelain` lines: ` M file` modified, `?? file` untracked, ...
        "changes": changes[:MAX_CHANGES_LISTED],
    }


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions(names: tuple[str, ...] = PACKAGES + HARNESS_PACKAGES) -> dict[str, str | None]:
    return {name: _version(name) for name in names}


def target_packages(experiment: Experiment) -> dict[str, dict[str, str | None]]:
    """Per target, every installed distribution its server and app load, with its version."""
    return packages_of(experiment.targets)


def packages_of(targets: Mapping[str, Target]) -> dict[str, dict[str, str | None]]:
    """Per target, every distribution installed here that its server and app load (a host's
    agent runs this for the targets it serves, runner.remote.agent_work).

    Each app is imported in a child interpreter with the target's environment, as the server
    will import it, so a framework nobody listed in PACKAGES (Flask, Litestar...) is found too.
    """
    owners = importlib.metadata.packages_distributions()
    # A `url` target runs elsewhere: there is nothing here to import.
    started = {name: t for name, t in targets.items() if t.app and t.server}
    loaded = app_modules(started)
    found: dict[str, dict[str, str | None]] = {}
    for name, target in started.items():
        modules = {str(target.server), (target.worker_class or "").split(".")[0]}
        modules |= loaded[name]
        distributions = {dist for module in modules for dist in owners.get(module, [])}
        found[name] = {dist: _version(dist) for dist in sorted(distributions)}
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_line() -> str:
    """The command as the user typed it (`python -m runner ...` rather than `__main__.py ...`)."""
    program = os.path.basename(sys.argv[0])
    if program == "__main__.py":
        program = "python -m runner"
    return " ".join([program, *sys.argv[1:]])


def collect(
    experiment: dict[str, Any],
    experiments_dir: Path,
    overrides: list[str],
    k6_version: str,
) -> dict[str, Any]:
    return {
        "started_at": time.time(),
        "command": command_line(),
        "overrides": overrides,
        "config_sha256": config_hash(experiment),
        "git": git_state(experiments_dir),
        "python": platform.python_version(),
        "k6": k6_version,
        "packages": package_versions(),
        "machine": {
            "hostname": socket.gethostname(),
            "cpu_model": cpu_model(),
            "logical_cores": psutil.cpu_count(logical=True),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(),
            "slurm_job": slurm_job(),
        },
    }


def slurm_job() -> str | None:
    """The SLURM job this process runs in, as squeue and scancel name it; None outside SLURM."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID") or None
