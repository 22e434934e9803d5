"""Retries and `repetitions: auto` with real servers, real k6 and a real CPU hog (1 s steps
after a 1 s warmup). They assert the mechanism, not the weather: on a noisy VM a retry may be
disturbed too, and then it must have used its attempts and be named in the report."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest

from runner.analysis import analyze
from runner.records.results import RunRecord, StepKey, StepResult
from runner.records.store import STEPS_FILE, load_run
from tests.conftest import TEST_EXPERIMENTS, run_cli, start_cli
from tests.measure.test_step_validity import cpu_hog

pytestmark = pytest.mark.slow
# Long enough to cover at least two of schedule_hog's 2 s steps.
HOG_S = 6
TWO_CORES = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")


def stored_steps(run_dir: Path) -> int:
    path = run_dir / STEPS_FILE
    lines = path.read_text().splitlines() if path.is_file() else []
    return sum(json.loads(line).get("kind") == "step" for line in lines if line.strip())


def attempts_by_key(record: RunRecord) -> dict[StepKey, list[StepResult]]:
    found: dict[StepKey, list[StepResult]] = defaultdict(list)
    for step in sorted(record.steps, key=lambda s: s.attempt):
        found[step.key].append(step)
    return found


def codes(step: StepResult) -> set[str]:
    assert step.validity is not None
    return {r.code for r in step.validity.reasons if r.invalidates}


@TWO_CORES
def test_a_hog_mid_run_leaves_no_empty_cell_and_keeps_the_disturbed_attempts(
    tmp_path: Path,
) -> None:
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=schedule_hog"]
    runner = start_cli(*args, f"hydra.run.dir={tmp_path}", stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while stored_steps(tmp_path) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored_steps(tmp_path) >= 2, "two steps were never stored"
        with cpu_hog(core=0, seconds=HOG_S) as hog_started:
            time.sleep(HOG_S)
        assert runner.wait(timeout=150) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    record = load_run(tmp_path)
    by_key = attempts_by_key(record)
    under = [s for s in record.steps if s.started_at > hog_started and s.started_at + s.duration_s < hog_started + HOG_S]  # fmt: skip
    assert under, [(s.level, s.attempt, s.started_at - hog_started) for s in record.steps]
    for step in under:  # disturbed attempts are kept, marked invalid for interference
        assert "interference" in codes(step), step.validity
        assert len(by_key[step.key]) > step.attempt  # and measured again
    report = (tmp_path / "report.md").read_text()
    assert "Retries: " in report
    analysis = analyze(record)
    for key, attempts in by_key.items():
        if analysis.cell(key.target, key.level) is not None:
            continue  # no empty cell, or else the step used its attempts and is named
        assert len(attempts) == record.experiment.retry.max_attempts, attempts
        assert f"c={key.level} rep 1" in report.split("stayed invalid:")[1]
    retried = [s for s in record.steps if s.attempt > 1]
    assert (
        tmp_path / "steps" / "weighted" / f"c{retried[0].level}-r1-a{retried[0].attempt}"
    ).is_dir()


def auto_run(run_dir: Path, *overrides: str) -> RunRecord:
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=schedule_auto", *overrides]
    result = run_cli(*args, f"hydra.run.dir={run_dir}", timeout=200)
    assert result.returncode == 0, result.stderr[-3000:]
    return load_run(run_dir)


@TWO_CORES
def test_auto_stops_at_the_minimum_for_targets_3x_apart(tmp_path: Path) -> None:
    record = auto_run(tmp_path)
    (level,) = record.provenance.rounds
    # Early: before the most rounds (6). Three when the VM kept still; its CPU speed drifts
    # up to 2x within a minute, and a slow round can cost another.
    assert level.stopped == "lead" and level.text.startswith("light: lead +"), level
    assert level.rounds < record.experiment.auto_repetitions.max, level
    assert analyze(record).winners[4].target == "light"
    report = (tmp_path / "report.md").read_text()
    assert f"| 4 | {level.rounds} | settled: a significant lead (light: lead +" in report


@TWO_CORES
def test_auto_twins_never_name_a_winner(tmp_path: Path) -> None:
    # At most 3 rounds (the minimum): equivalence or the maximum, either way no winner.
    record = auto_run(tmp_path, "targets.heavy.env.WEIGHTED_BUSY_MS='1'", "auto_repetitions.max=3")
    (level,) = record.provenance.rounds
    assert level.stopped in ("equivalent", "max rounds"), level
    assert analyze(record).winners[4].target is None
    rounds = {s.repetition for s in record.steps}
    assert max(rounds) == level.rounds <= record.experiment.auto_repetitions.max
