"""runner.compare as a CI gate, on stored runs (no load): what it refuses (2), what is missing
or a regression (1), what is inconclusive (3) and what passes (0)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from runner.compare.__main__ import main as compare_main
from runner.records.results import Failure, RunRecord, StepResult
from runner.records.store import RESULTS_FILE, RUN_FILE, STEPS_FILE, ResultStore
from tests.conftest import SCHEMA1_RUN, run_cli
from tests.factories import record, step

NOISE = (1.0, 1.01, 0.99)


def run_compare(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m runner.compare ARGS` as a user types it."""
    return run_cli(*map(str, args), module="runner.compare")


def call_compare(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The same command's main() in this process, its output and exit status as run_compare
    gives them: for the gate's decisions (the tests that start the command check that it
    exits with main()'s status)."""
    argv = [str(arg) for arg in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            status = compare_main(argv)
        except SystemExit as stop:  # argparse
            status = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess(argv, status, stdout.getvalue(), stderr.getvalue())


def store(run_dir: Path, rec: RunRecord, complete: bool = True) -> Path:
    saved = ResultStore(run_dir)
    saved.start(rec.experiment, rec.provenance)
    for entry in [*rec.steps, *rec.failures]:
        saved.append(entry)
    saved.finish(complete, {})
    return run_dir


def steps(scale: dict[tuple[str, int], float] | None = None) -> list[StepResult]:
    """fastapi and django at 10 and 20 users, 3 repetitions; `scale` slows a cell down."""
    made = []
    for target, rps in (("fastapi", 5_000.0), ("django", 2_000.0)):
        for level in (10, 20):
            factor = (scale or {}).get((target, level), 1.0)
            for rep, noise in enumerate(NOISE, 1):
                made.append(step(target, level, rps * noise * factor, rep, p95=5 / factor))
    return made


def test_schema1_run_with_itself_is_inconclusive_with_one_repetition() -> None:
    """Decided: a stored schema-1 run is comparable (complete, same design), but one
    repetition a side decides nothing, so the gate says inconclusive (3), never a pass."""
    result = run_compare(SCHEMA1_RUN, SCHEMA1_RUN)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Decision: inconclusive (exit status 3: inconclusive); 36 inconclusive." in result.stdout
    assert "1 and 1 repetitions; a decision needs 3 a side" in result.stdout


@pytest.fixture
def interrupted(tmp_path: Path) -> Path:
    """The schema-1 run as if interrupted after its first step: one step, no results.json."""
    copy = Path(shutil.copytree(SCHEMA1_RUN, tmp_path / "interrupted"))
    first = (copy / STEPS_FILE).read_text().splitlines()[0]
    (copy / STEPS_FILE).write_text(first + "\n")
    (copy / RESULTS_FILE).unlink()
    return copy


def test_a_run_against_its_interrupted_copy_is_refused(interrupted: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    for pair in ((SCHEMA1_RUN, interrupted), (interrupted, SCHEMA1_RUN)):
        result = call_compare(*pair, "--markdown", summary)
        assert result.returncode == 2, result.stdout
        assert "is incomplete: the run stopped before its last step (1 step(s) stored)" in (
            result.stderr
        )
        assert "refused" in summary.read_text()
    assert "the baseline is partial: 8 planned target/level(s) were never measured" in (
        call_compare(interrupted, SCHEMA1_RUN).stderr
    )


def test_a_target_missing_from_the_candidate_is_a_failure(tmp_path: Path) -> None:
    baseline = store(tmp_path / "a", record(steps()))
    failure = Failure(target="django", label="django", stage="start", message="exit code 3")
    kept = [s for s in steps() if s.target == "fastapi"]
    candidate = store(tmp_path / "b", record(kept, failures=[failure]))
    result = call_compare(baseline, candidate)
    assert result.returncode == 1, result.stdout
    assert "MISSING django at 10: not measured in the candidate: exit code 3" in result.stdout
    assert "MISSING django at 20" in result.stdout


def test_a_design_difference_is_refused_unless_allowed(tmp_path: Path) -> None:
    baseline = store(tmp_path / "a", record(steps()))
    candidate = Path(shutil.copytree(baseline, tmp_path / "b"))
    run = json.loads((candidate / RUN_FILE).read_text())
    run["experiment"]["targets"]["fastapi"]["workers"] = 2
    run["experiment"]["load"]["duration"] = "10s"
    (candidate / RUN_FILE).write_text(json.dumps(run))
    refused = call_compare(baseline, candidate, "--allow-difference", "targets.fastapi")
    assert refused.returncode == 2
    assert "the design differs: load.duration: baseline '5s', candidate '10s'" in refused.stderr
    assert "workers" not in refused.stderr
    allowed = call_compare(
        baseline, candidate, "--allow-difference", "targets.fastapi", "--allow-difference",
        "load.duration",
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Allowed difference: targets.fastapi.workers: baseline 1, candidate 2" in allowed.stdout


def test_identical_runs_with_repetitions_pass_and_write_a_markdown_summary(
    tmp_path: Path,
) -> None:
    baseline = store(tmp_path / "a", record(steps()))
    candidate = store(tmp_path / "b", record(steps()))
    summary = tmp_path / "summary.md"
    result = call_compare(baseline, candidate, "--markdown", summary)
    assert result.returncode == 0, result.stdout
    assert "Decision: no change (exit status 0: no regression); 16 no change." in result.stdout
    text = summary.read_text()
    assert "| Target | Level | Metric | Baseline | Candidate | Change | 95% CI | p (Holm) |" in text
    assert "| fastapi | 10 | successful RPS | 5,000.00 (n=3) | 5,000.00 (n=3) | +0.0% |" in text


def test_a_slower_cell_is_a_regression_in_throughput_and_latency(tmp_path: Path) -> None:
    baseline = store(tmp_path / "a", record(steps()))
    candidate = store(tmp_path / "b", record(steps({("fastapi", 20): 1 / 1.3})))
    result = call_compare(baseline, candidate)
    assert result.returncode == 1, result.stdout
    lines = [line for line in result.stdout.splitlines() if line.endswith("regression │")]
    assert len(lines) == 3 and all("fastapi" in line and " 20 " in line for line in lines)
    assert "successful RPS -23.1%" in result.stdout


def test_invalid_steps_are_left_out_and_a_cell_left_short_is_inconclusive(
    tmp_path: Path,
) -> None:
    baseline = store(tmp_path / "a", record(steps()))
    changed = [
        step(s.target, s.level, s.rps * 3, s.repetition, invalid="interference")
        if (s.target, s.level, s.repetition) == ("django", 10, 2)
        else s
        for s in steps()
    ]
    candidate = store(tmp_path / "b", record(changed))
    result = call_compare(baseline, candidate)
    assert result.returncode == 3, result.stdout
    assert "Left out of the candidate as invalid: django c=10 rep 2 (interference)." in (
        result.stdout
    )
    assert "3 and 2 repetitions; a decision needs 3 a side" in result.stdout


def test_what_is_not_a_run_is_bad_input(tmp_path: Path) -> None:
    result = run_compare(tmp_path, SCHEMA1_RUN)
    assert result.returncode == 2
    assert "is not a sweepbench run directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_the_exit_statuses() -> None:
    text = run_compare("--help").stdout
    for line in ("0  no regression", "1  a regression, or", "2  refused", "3  inconclusive"):
        assert line in text
