"""One load test at a time per machine: two sweeps sharing two cores would both measure noise.

The lock is an flock of LOCK_PATH, so it holds across processes: the jobs of a multirun that
hydra/launcher=submitit_local starts side by side take turns, as do the jobs two SLURM tasks run
on one node (the file is in that node's /tmp: each machine has its own lock).

A process that holds the machine names, in HELD_ENV, a lock of its own for its descendants: a
run it starts (a test suite running the CLI) does not wait for the machine, which its ancestor
already holds, but several it starts side by side (the jobs of a local multirun) still take
turns on that inner lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_PATH = Path(tempfile.gettempdir()) / "sweepbench-load.lock"
# Set while a lock is held: the lock file this process's descendants take turns on.
HELD_ENV = "SWEEPBENCH_MACHINE_LOCK_HELD"


@contextmanager
def exclusive_machine(notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the machine-wide load lock; wait (saying so) while another run holds it."""
    inherited = os.environ.get(HELD_ENV)
    if inherited == str(_inner_lock()):  # this process holds it already
        yield
        return
    if inherited and not Path(inherited).is_absolute():  # set by an older version: held
        yield
        return
    with _locked(Path(inherited) if inherited else LOCK_PATH, notify), _held_for_descendants():
        yield


@contextmanager
def _locked(path: Path, notify: Callable[[str], None]) -> Iterator[None]:
    if path == LOCK_PATH and _held_by_wrapper():
        yield
        return
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(f"Another sweepbench run holds {path}; waiting for it to finish.")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _held_for_descendants() -> Iterator[None]:
    inner = _inner_lock()
    before = os.environ.get(HELD_ENV)
    os.environ[HELD_ENV] = str(inner)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(HELD_ENV, None)
        else:
            os.environ[HELD_ENV] = before
        # Its descendants have ended (they are waited for, or die with this process).
        with contextlib.suppress(OSError):
            inner.unlink()


@contextmanager
def passed_on_to_jobs() -> Iterator[None]:
    """Under `flock LOCK_PATH python -m runner -m ...`, jobs that a launcher starts as new
    processes (submitit_local) do not inherit the wrapper's descriptor and would wait for ever on
    it: they take turns on this process's inner lock instead, as under any other holder."""
    if os.environ.get(HELD_ENV) or not _held_by_wrapper():
        yield
        return
    with _held_for_descendants():
        yield


def _inner_lock() -> Path:
    """The lock this process's descendants take turns on while it holds the machine."""
    return LOCK_PATH.with_name(f"{LOCK_PATH.name}.{os.getpid()}")


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
