"""Shared test helpers. Tests use real servers and real k6 on 127.0.0.1 with short durations."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from runner.machine_lock import exclusive_machine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


_machine: contextlib.ExitStack | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Suites started side by side (several developers, one machine) take turns.

    Taken here rather than in a fixture, so waiting for it never counts against a test's timeout.
    """
    global _machine
    _machine = contextlib.ExitStack()
    _machine.enter_context(exclusive_machine(lambda message: print(message, file=sys.stderr)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _machine is not None:
        _machine.close()


def run_cli(
    *args: str, timeout: float = 240, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m runner ARGS` as a user would type it, bounded in time."""
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def server_like_processes() -> list[psutil.Process]:
    """Processes of ours that look like servers or k6 (none may outlive a run)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if (
            any(word in cmdline for word in ("uvicorn", "gunicorn", "k6 run"))
            and "pytest" not in cmdline
        ):
            found.append(proc)
    return found


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short quickstart through the CLI, shared by the tests that read its outputs."""
    run_dir = tmp_path_factory.mktemp("quickstart")
    result = run_cli(
        "+experiment=quickstart", "load.duration=1s", "load.warmup=1s", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr
    return run_dir
