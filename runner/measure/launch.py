"""Start and stop child processes (servers, k6) so that none can outlive the runner.

Every child is started through a tiny launcher that, before exec'ing the real command,
- asks Linux to send it SIGTERM when the runner dies, even by SIGKILL (PR_SET_PDEATHSIG);
  a server master then shuts its own workers down as it does on any SIGTERM;
- pins it to its CPU cores, which its own children (server workers) inherit.
Each child leads its own process group, so stopping it reaches every process it forked.

Linux sends the parent-death signal when the *thread* that forked the child ends, not the
process; so children are spawned from the main thread only (spawn() refuses otherwise), which
lives exactly as long as the runner.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import Any

import psutil

from runner.run import interrupts

# Runs in a fresh interpreter (-I -S: nothing imported but the standard library core).
_LAUNCHER = """
import ctypes, os, signal, sys
parent, cpus, command = int(sys.argv[1]), sys.argv[2], sys.argv[4:]
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != parent:  # the runner died before prctl took effect
    sys.exit(143)
if cpus:
    os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
os.execvp(command[0], command)
"""


def launcher_command(command: list[str], cpus: list[int] | None) -> list[str]:
    cpu_list = ",".join(str(c) for c in cpus) if cpus else ""
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), cpu_list, "--", *command]


def spawn(command: list[str], cpus: list[int] | None, **popen_args: Any) -> subprocess.Popen[Any]:
    """Start `command` in its own process group, tied to this process's life.

    Its stdin is /dev/null unless `popen_args` says otherwise (ssh to a remote agent talks on it).
    """
    if threading.current_thread() is not threading.main_thread():
        # PR_SET_PDEATHSIG would fire when this thread ends, killing the child early.
        raise RuntimeError("runner.measure.launch.spawn must be called from the main thread")
    popen_args.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(launcher_command(command, cpus), start_new_session=True, **popen_args)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_group(process: subprocess.Popen[Any], grace_s: float) -> int:
    """SIGTERM the child's process group, SIGKILL whatever is left after `grace_s`.

    Also kills descendants that left the group (a daemonizing worker), found before the stop.
    Returns the child's exit code. A SIGINT/SIGTERM that arrives meanwhile takes effect after
    the stop, so it cannot leave the group half-stopped.
    """
    with interrupts.deferred():
        return _stop_group(process, grace_s)


def _stop_group(process: subprocess.Popen[Any], grace_s: float) -> int:
    stragglers = descendants(process.pid)
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    _signal_group(process.pid, signal.SIGKILL)
    code = process.wait()
    _gone, alive = psutil.wait_procs(stragglers, timeout=grace_s)
    for leftover in alive:
        with contextlib.suppress(psutil.Error):
            leftover.kill()
    psutil.wait_procs(alive, timeout=2)
    return code


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def wait_or_kill(process: subprocess.Popen[Any], timeout_s: float, grace_s: float = 5) -> int:
    """Wait for a child that should end by itself; stop it if it overstays."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return stop_group(process, grace_s)


def describe_exit(code: int | None) -> str:
    """`exit code 3`, or `killed by SIGKILL` for a child ended by a signal."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def stop_children(grace_s: float = 5) -> list[int]:
    """Stop every child process this process still has, with its process group.

    The last safety net on the way out of the runner: whatever path ended the run, no server
    or k6 outlives it. Returns the pids that were still there.
    """
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return []
    for child in children:
        _signal_group(child.pid, signal.SIGTERM)
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _gone, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        _signal_group(child.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=2)
    return [child.pid for child in children]
