"""The stall probe wired into a real run: a real server, real k6, and a real-time busy loop on
the server's core in the middle of the measured window."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from runner.records.store import load_run
from tests.conftest import SESSION_ENV, TEST_EXPERIMENTS, start_cli
from tests.measure.test_stall_probe import REALTIME_SPIN, realtime_permitted

STALL_MS = 60
# After k6 starts: its start (a few hundred ms), the 1 s warmup, then about 1 s into the 3 s window.
INJECT_AFTER_K6_S = 2.2


def k6_started(runner: psutil.Process, timeout_s: float = 90) -> bool:
    """The step's `k6 run` started (not `k6 version` or `k6 inspect` before it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in runner.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if child.name() == "k6" and "run" in child.cmdline()[1:2]:
                    return True
        time.sleep(0.02)
    return False


def probes_left() -> list[psutil.Process]:
    """Stall probes started by this test session that are still alive."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if not any("stall_probe.py" in part for part in proc.info["cmdline"] or []):
            continue
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(SESSION_ENV) == os.environ[SESSION_ENV]:
                found.append(proc)
    return found


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_realtime_stall_on_the_server_core_shows_in_the_steps_stall_figures(
    tmp_path: Path,
) -> None:
    if not realtime_permitted():
        pytest.skip("SCHED_FIFO is not permitted here (not root?)")
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=stalls_inject"]
    runner = start_cli(*args, f"hydra.run.dir={tmp_path}", stdout=subprocess.DEVNULL)
    try:
        assert k6_started(psutil.Process(runner.pid)), "k6 never started"
        time.sleep(INJECT_AFTER_K6_S)
        injected_at = time.time()
        spin = [sys.executable, "-c", REALTIME_SPIN, "0", str(STALL_MS)]
        subprocess.run(spin, check=True, timeout=10)
        injected_until = time.time()
        assert runner.wait(timeout=120) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    (step,) = load_run(tmp_path).steps
    assert step.started_at < injected_at and injected_until < step.started_at + step.duration_s
    assert step.stalls is not None and step.stalls.interval_ms == 10
    on_core = {c.core: c for c in step.stalls.cores}
    assert on_core[0].max_ms >= 40, step.stalls  # 50-60 ms, with a margin
    assert step.validity is not None
    stalled = [r for r in step.validity.reasons if r.code == "stalls"]
    assert any("on core 0" in r.text for r in stalled), step.validity
    report = (tmp_path / "report.md").read_text()
    assert "Stall max ms" in report and "Stall probe" in report and "Steal floor" in report
    print(json.dumps(step.stalls.model_dump(), indent=1))  # the figures, for the docs (-s)
    assert probes_left() == []
