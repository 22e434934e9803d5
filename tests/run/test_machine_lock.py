"""The machine-wide load lock, as the team's rules use it: `flock LOCK command`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.run import machine_lock
from tests.conftest import PROJECT_ROOT

ENTER_LOCK = """
import os, sys
from pathlib import Path
from runner.run import machine_lock
machine_lock.LOCK_PATH = Path(sys.argv[1])
os.environ.pop(machine_lock.HELD_ENV, None)
with machine_lock.exclusive_machine(lambda message: print(message, flush=True)):
    print("inside", flush=True)
"""


def test_runner_wrapped_in_flock_does_not_wait_for_its_own_wrapper(tmp_path: Path) -> None:
    """`flock /tmp/sweepbench-load.lock python -m runner ...` used to wait for ever: the runner
    opened the lock anew while its wrapper held it. A private lock file keeps this test apart
    from the real one (held by this test session)."""
    lock = tmp_path / "load.lock"
    process = subprocess.Popen(
        ["flock", str(lock), sys.executable, "-c", ENTER_LOCK, str(lock)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # it waited for itself: stop the whole group
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert output.splitlines() == ["inside"]


SIBLING = """
import os, sys, time
from pathlib import Path
from runner.run import machine_lock
machine_lock.LOCK_PATH = Path(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # siblings ask for the lock together
with machine_lock.exclusive_machine(lambda message: None):
    print(time.time(), flush=True)
    time.sleep(0.5)
    print(time.time(), flush=True)
"""


@pytest.mark.parametrize("holder", [False, True], ids=["no holder", "under a holder"])
def test_runs_started_side_by_side_take_turns(tmp_path: Path, holder: bool) -> None:
    """Parallel jobs of a local multirun (submitit_local) are sibling processes: they take turns
    on the machine lock, or, when an ancestor holds it (a test suite, a flock wrapper), on the
    lock it names for its descendants."""
    lock = tmp_path / "load.lock"
    env = {k: v for k, v in os.environ.items() if k != machine_lock.HELD_ENV}
    if holder:
        env[machine_lock.HELD_ENV] = str(tmp_path / "load.lock.12345")
    start = str(time.time() + 1)  # both started by then (the import takes a twentieth of that)
    siblings = [
        subprocess.Popen(
            [sys.executable, "-c", SIBLING, str(lock), start],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    windows = sorted(tuple(map(float, s.communicate(timeout=30)[0].split())) for s in siblings)
    assert windows[0][1] <= windows[1][0], windows
