"""Shared test helpers and fixtures, and the rules of the two test sets.

Tests that start a server, k6 or a database are marked `slow`: they use real servers and real
k6 on 127.0.0.1 with short durations, and measure. `pytest -m "not slow"` runs the others: it
starts nothing and does not take the machine-wide load lock. A test that starts a server or k6
without the marker fails (see SpawnGuard), so the marker cannot be forgotten quietly.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from runner.config.compose import EXPERIMENTS_DIR, available_experiments
from runner.config.experiment import Expect, Request, Target
from runner.measure.server import SERVERS, RunningServer, running_server
from runner.run.machine_lock import exclusive_machine

pytest_plugins = ["pytester"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# tests/: the shared helpers, apps/, experiments/ and fixtures/ (the test files sit in a folder per stage).
TESTS_DIR = PROJECT_ROOT / "tests"
# Experiments of the tests' own (faulty apps, bad input), next to the shipped ones.
TEST_EXPERIMENTS = TESTS_DIR / "experiments"
# A real quickstart stored in results schema 1 (tests/fixtures/schema1_run).
SCHEMA1_RUN = TESTS_DIR / "fixtures" / "schema1_run"
# Every process started below this session carries it (servers and k6 inherit the environment),
# so the checks for leftovers never mistake another suite's servers for ours.
SESSION_ENV = "SWEEPBENCH_TEST_SESSION"

# tests/apps/faulty.py on uvicorn: answers /json, /flaky (a quarter HTTP 500), /slow, /count.
FAULTY = Target(app="tests.apps.faulty:app", server="uvicorn")
# The check every target under test must pass before load: GET /json and its exact body.
JSON_CHECK = Request(path="/json", expect=Expect(status=200, json={"message": "Hello, World!"}))


# --- the machine lock: taken only when slow tests will run ------------------------------------

_machine = contextlib.ExitStack()


def pytest_configure(config: pytest.Config) -> None:
    os.environ[SESSION_ENV] = str(os.getpid())
    # k6's ceiling (runner.measure.ceiling) is measured once per session into a cache of its own, not
    # the user's ~/.cache; xdist workers inherit the controller's.
    os.environ.setdefault("SWEEPBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="sweepbench-cache-"))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Suites started side by side (several developers, one machine) take turns.

    Taken once, after collection and before the first test, so waiting for it never counts
    against a test's timeout; and only if a selected test is slow (the fast set measures nothing).
    """
    if session.config.option.collectonly or not any(is_slow(item) for item in session.items):
        return
    _machine.enter_context(exclusive_machine(lambda message: print(message, file=sys.stderr)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _machine.close()


def is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None


# --- the slow marker cannot be forgotten ------------------------------------------------------


def load_kind(cmdline: Sequence[str]) -> str | None:
    """A server (`python -m uvicorn|gunicorn|...`, workers included) or k6 (`k6 run`)."""
    if len(cmdline) > 2 and cmdline[1] == "-m" and cmdline[2] in SERVERS:
        return "server"
    if cmdline and Path(cmdline[0]).name == "k6" and "run" in cmdline:
        return "k6"
    return None


class SpawnGuard:
    """Watches this process's descendants for servers and k6 while a test that is not slow runs.

    A server takes far longer than the 0.1 s poll to start and answer, and k6 runs for at least
    its 1 s minimum, so any real load started by a test is seen, also through the CLI.
    """

    POLL_S = 0.1

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> SpawnGuard:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.scan()

    def _watch(self) -> None:
        while not self._stop.wait(self.POLL_S):
            self.scan()

    def scan(self) -> None:
        for proc in launch_descendants():
            try:
                cmdline = proc.cmdline()
            except psutil.Error:
                continue
            kind = load_kind(cmdline)
            if kind and ours(proc) and proc.pid not in self._pids:
                self._pids.add(proc.pid)
                self.seen.append(f"{kind} {proc.pid}: {' '.join(cmdline)[:200]}")


def ours(proc: psutil.Process) -> bool:
    """Started by this session, not by a pytest session this one runs (tests of this guard)."""
    try:
        return proc.environ().get(SESSION_ENV) == os.environ[SESSION_ENV]
    except psutil.Error:
        return True


def launch_descendants() -> list[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if is_slow(item):
        return (yield)
    with SpawnGuard() as guard:
        item.stash[_SPAWNED] = guard.seen
        return (yield)


_SPAWNED = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    spawned = item.stash.get(_SPAWNED, [])
    if spawned and report.when == "call" and not report.failed:
        report.outcome = "failed"
        report.longrepr = (
            "this test started a server or k6 but is not marked slow "
            "(add @pytest.mark.slow or pytestmark = pytest.mark.slow):\n  " + "\n  ".join(spawned)
        )
    return report


# --- the command line, five ways in one -------------------------------------------------------


def cli_command(
    *args: str, python: Path | str = sys.executable, module: str = "runner"
) -> list[str]:
    return [str(python), "-m", module, *args]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", **(extra or {})}


def run_cli(
    *args: str,
    timeout: float = 240,
    cwd: Path = PROJECT_ROOT,
    python: Path | str = sys.executable,
    module: str = "runner",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m runner ARGS` as a user would type it, bounded in time."""
    return subprocess.run(
        cli_command(*args, python=python, module=module),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(env),
    )


def start_cli(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    """`python -m runner ARGS` in the background (for tests that signal or kill it)."""
    return subprocess.Popen(
        cli_command(*args), cwd=PROJECT_ROOT, text=True, env=cli_env(env), **popen
    )


def server_like_processes() -> list[psutil.Process]:
    """Servers and k6 started by this test session that are still alive (none may outlive a run).

    Orphans are no longer our descendants, so they are found by the session's mark in their
    environment; another suite's servers on the same machine are not ours.
    """
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if not load_kind(proc.info["cmdline"] or []):
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(SESSION_ENV) == os.environ[SESSION_ENV]:
                found.append(proc)
    return found


# --- composition as the CLI does it -----------------------------------------------------------


def shipped_experiments() -> list[str]:
    return available_experiments([EXPERIMENTS_DIR])


def compose_config(name: str, *overrides: str) -> DictConfig:
    """The config `python -m runner +experiment=NAME OVERRIDES` composes (before validation).

    Composed once per test process (a fifth of a second each; several test files compose every
    shipped experiment), each caller getting its own copy."""
    return copy.deepcopy(_composed(name, overrides))


@functools.cache
def _composed(name: str, overrides: tuple[str, ...]) -> DictConfig:
    with initialize_config_dir(config_dir=str(EXPERIMENTS_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=[f"+experiment={name}", *overrides])


# --- shared fixtures --------------------------------------------------------------------------

# Every step is still judged, but no threshold can be crossed: for the tests whose subject is the
# report or the gate, not step validity (tests/measure/test_step_validity.py), so that a neighbour's work
# on this shared machine, or k6 near its core on the fastest target, does not leave their cells
# empty. k6's ceiling is not measured for them.
NEVER_INVALID = [
    "validity.max_interference=1",
    "validity.max_steal=1",
    "validity.client_cpu_limit=1",
    "validity.littles_law_tolerance=1000",
    "validity.open_rate_floor=0",
    "validity.near_limit=0",
    "validity.max_stall_share=1",
    "validity.stall_tail_share=1000",
    "validity.measure_ceiling=never",
]


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """tests/apps/faulty.py on uvicorn, on core 0, for one test module."""
    logs = tmp_path_factory.mktemp("logs")
    with running_server("faulty", FAULTY, logs, [0], [JSON_CHECK], 30, 5) as server:
        yield server


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short quickstart through the CLI, shared by the tests that read its outputs."""
    run_dir = tmp_path_factory.mktemp("quickstart")
    result = run_cli(
        "+experiment=quickstart",
        "load.duration=1s",
        "load.warmup=1s",
        f"hydra.run.dir={run_dir}",
        *NEVER_INVALID,
    )
    assert result.returncode == 0, result.stderr
    return run_dir
