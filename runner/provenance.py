"""Where a run's numbers came from: code, config, software versions and machine."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "django", "gunicorn")


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
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


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
            "cpu_model": cpu_model(),
            "logical_cores": psutil.cpu_count(logical=True),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(),
        },
    }
