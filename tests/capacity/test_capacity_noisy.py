"""Capacity searches on a noisy machine, with real servers, real k6 and a real CPU hog.

The serial app (tests/apps/serial.py) serves /work?ms=10 one request at a time (capacity near
85 RPS here). A slow spell it is told to serve (SERIAL_SLOW_*: /work requests numbered N to
N+M-1 first wait X ms outside the lock) lands on a trial the test picks by request count: the
search is deterministic, so the requests before that trial are known to within a few (the
quiet server's 3 probes, the pre-flight check, k6's rate x seconds).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.capacity.test_capacity_real import of_kind, search
from tests.conftest import TEST_EXPERIMENTS, start_cli
from tests.measure.test_step_validity import cpu_hog

pytestmark = pytest.mark.slow

SHORT = [
    "load.capacity.short_trial=2s",
    "load.capacity.long_trial=3s",
    "load.capacity.confirmation=2s",
]


def slow_spell(first: int, count: int, ms: float) -> list[str]:
    env = {"SERIAL_SLOW_FROM": first, "SERIAL_SLOW_COUNT": count, "SERIAL_SLOW_MS": ms}
    return [f"+targets.serial.env.{name}='{value}'" for name, value in env.items()]


def at_50_rps(run_dir: Path, *overrides: str | list[str]) -> tuple[int, str, list[Any]]:
    """A search that starts at 50 RPS, its upper bound, in short trials within 30 s."""
    flat = [o for item in overrides for o in ([item] if isinstance(item, str) else item)]
    bounds = ["load.capacity.start_rate=50", "load.capacity.max_rate=50"]
    return search(run_dir, *SHORT, *bounds, "load.capacity.budget=30s", *flat)


def entries_of(run_dir: Path) -> list[Any]:
    path = run_dir / "results.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    return [json.loads(line) for line in lines if line.strip()]


def hog_after_the_first_trial(run_dir: Path, seconds: float) -> float:
    """Once the run stored its first trial, a CPU hog on the server's core (core 0) for
    `seconds`; when it started (Unix seconds)."""
    deadline = time.monotonic() + 60
    while not of_kind(entries_of(run_dir), "trial") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert of_kind(entries_of(run_dir), "trial"), "no trial was stored"
    with cpu_hog(core=0, seconds=seconds) as started:
        time.sleep(seconds)
    return started


def test_a_hog_on_the_server_core_is_waited_out_and_the_search_converges(tmp_path: Path) -> None:
    overrides = [*SHORT, "+load.capacity.precision=0.25", "load.capacity.budget=45s"]
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=capacity_serial"]
    args += [f"hydra.run.dir={tmp_path}", "validity.measure_ceiling=never", *overrides]
    runner = start_cli(*args, stdout=subprocess.DEVNULL)
    try:
        hog_started = hog_after_the_first_trial(tmp_path, 15)
        status = runner.wait(timeout=150)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.wait()
    assert status == 0
    entries = entries_of(tmp_path)
    (found,) = of_kind(entries, "capacity")
    trials = of_kind(entries, "trial")
    under = [t for t in trials if hog_started < t["step"]["started_at"] < hog_started + 14]
    assert under and all(t["verdict"] == "invalid" for t in under), [t["why"] for t in under]
    assert found["disturbed_trials"] >= len(under) and found["pauses_s"] > 0
    assert found["stop_reason"] == "converged", found
    low, high = found["highest_pass"], found["lowest_fail"]
    assert (high - low) / high <= 0.25 or high - low <= 1
    assert low <= 100  # the app cannot pass above its nominal capacity
    report = (tmp_path / "report.md").read_text()
    assert f"| {low}-{high} |" in report  # the interval
    assert f"{found['disturbed_trials']} trial(s) were disturbed" in report


def test_a_single_slow_trial_near_the_objective_leads_to_another_trial(tmp_path: Path) -> None:
    # The first trial (50 RPS for 2 s: about 100 requests after 4 or so) is served 50 ms
    # slower for most of its requests: p99 about 60-70 ms against 50 ms, within the noise
    # (load.capacity.noise 0.5: ±114%); the trials after it are not.
    status, output, entries = at_50_rps(
        tmp_path, "++load.capacity.noise=0.5", slow_spell(1, 80, 50)
    )
    assert status == 0, output
    first, second, *_ = of_kind(entries, "trial")
    assert first["verdict"] == "fail" and first["close"], first["why"]
    assert (second["rate"], second["plan"]) == (50, "settle")  # another trial, not a halving
    (found,) = of_kind(entries, "capacity")
    assert found["lowest_fail"] is None and found["highest_pass"] == 50, found


def test_a_failed_confirmation_is_never_headlined(tmp_path: Path) -> None:
    # 50 RPS passes its 2 s trial (requests about 5-105); the confirmation's requests (about
    # 106-206) are served 200 ms slower from the 120th on, so it fails.
    limits = ["+load.capacity.min_rate=40", "+load.capacity.precision=0.25"]
    status, output, entries = at_50_rps(tmp_path, *limits, slow_spell(120, 70, 200))
    assert status == 0, output
    trials = of_kind(entries, "trial")
    confirmations = [t for t in trials if t["plan"] == "confirm"]
    assert confirmations[0]["rate"] == 50 and confirmations[0]["verdict"] == "fail", trials
    (found,) = of_kind(entries, "capacity")
    assert found["failed_confirmations"] == [50]
    assert found["capacity_rps"] is None or found["capacity_rps"] < 50
    assert not found["headline"].startswith("50 RPS")
    if found["confirmed"] is not True:
        assert "unconfirmed: the confirmation failed at 50 RPS" in found["headline"]
    report = (tmp_path / "report.md").read_text()
    assert "the confirmation failed at 50 RPS" in report
