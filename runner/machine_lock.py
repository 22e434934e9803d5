"""One load test at a time per machine: two sweeps sharing two cores would both measure noise."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_PATH = Path(tempfile.gettempdir()) / "sweepbench-load.lock"
# Set while a lock is held, so nested runs (a test suite running the CLI) do not wait on it.
HELD_ENV = "SWEEPBENCH_MACHINE_LOCK_HELD"


@contextmanager
def exclusive_machine(notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the machine-wide load lock; wait (saying so) while another run holds it."""
    if os.environ.get(HELD_ENV) or _held_by_wrapper():
        yield
        return
    with LOCK_PATH.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(f"Another sweepbench run holds {LOCK_PATH}; waiting for it to finish.")
            fcntl.flock(handle, fcntl.LOCK_EX)
        os.environ[HELD_ENV] = "1"
        try:
            yield
        finally:
            os.environ.pop(HELD_ENV, None)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _held_by_wrapper() -> bool:
    """True when started as `flock LOCK_PATH python -m runner ...`.

    flock(1) passes its locked descriptor on to the command; locking that same descriptor again
    succeeds at once, whereas opening the file anew would wait for ever on our own wrapper.
    """
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return False
    for entry in fd_dir.iterdir():
        try:
            if Path(os.readlink(entry)) != LOCK_PATH.resolve():
                continue
            fcntl.flock(int(entry.name), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue
        return True
    return False
