"""The machine-wide load lock, as the team's rules use it: `flock LOCK command`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

ENTER_LOCK = """
import os, sys
from pathlib import Path
from runner import machine_lock
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
