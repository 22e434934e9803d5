"""Repetitions and provenance through the command line, with the experiment in its own git repo.

The experiment lives in a temporary git repository (given with --config-dir) whose tree is left
dirty on purpose: run.json must name that repository's commit and say it was dirty.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest

from runner.measure import k6
from runner.records import provenance
from tests.conftest import run_cli, server_like_processes

EXPERIMENT = """\
# @package _global_
name: repeated
targets:
  faulty:
    app: tests.apps.faulty:app
    server: uvicorn
sweep:
  concurrency:
    levels: [4]
load:
  duration: 1s
  warmup: 0s
repetitions: 3
restart_between_repetitions: true
retry:
  max_attempts: 1  # one server start per repetition, even when steal invalidates a step
"""


def git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def committed_repo(directory: Path) -> Path:
    (directory / "experiment").mkdir(parents=True)
    (directory / "experiment" / "repeated.yaml").write_text(EXPERIMENT)
    git(directory, "init", "-q")
    git(directory, "add", ".")
    git(directory, "commit", "-q", "-m", "experiment")
    return directory


def run(repo: Path, run_dir: Path, *overrides: str) -> dict[str, Any]:
    result = run_cli(
        "--config-dir", str(repo), "+experiment=repeated", *overrides, f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr
    return json.loads((run_dir / "results.json").read_text())


@pytest.fixture(scope="module")
def dirty_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = committed_repo(tmp_path_factory.mktemp("definitions"))
    with (repo / "experiment" / "repeated.yaml").open("a") as stream:
        stream.write("# an edit not committed yet\n")
    return repo


@pytest.fixture(scope="module")
def restarted_run(dirty_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run(dirty_repo, tmp_path_factory.mktemp("restarted"))


@pytest.mark.slow
def test_repetitions_are_stored_apart_and_spread(restarted_run: dict[str, Any]) -> None:
    steps = restarted_run["steps"]
    assert sorted(s["repetition"] for s in steps) == [1, 2, 3]
    assert {(s["target"], s["level"]) for s in steps} == {("faulty", 4)}
    rps = [s["rps"] for s in steps]
    assert all(value > 0 for value in rps)
    assert max(rps) > min(rps)  # three measurements, not one copied three times


@pytest.mark.slow
def test_restart_between_repetitions_starts_a_server_each_time(
    restarted_run: dict[str, Any],
) -> None:
    assert len({s["server_pid"] for s in restarted_run["steps"]}) == 3
    assert len(restarted_run["provenance"]["target_start_s"]["faulty"]) == 3
    assert len(restarted_run["provenance"]["target_stop_s"]["faulty"]) == 3


@pytest.mark.slow
def test_without_restart_one_server_serves_every_repetition(
    dirty_repo: Path, tmp_path: Path
) -> None:
    record = run(dirty_repo, tmp_path, "repetitions=2", "restart_between_repetitions=false")
    assert sorted(s["repetition"] for s in record["steps"]) == [1, 2]
    assert len({s["server_pid"] for s in record["steps"]}) == 1
    assert len(record["provenance"]["target_start_s"]["faulty"]) == 1


@pytest.mark.slow
def test_provenance_names_the_dirty_commit_and_everything_else(
    restarted_run: dict[str, Any], dirty_repo: Path
) -> None:
    prov = restarted_run["provenance"]
    assert prov["git"] == {
        "directory": str(dirty_repo),
        "commit": git(dirty_repo, "rev-parse", "HEAD"),
        "dirty": True,
        "changes": [" M experiment/repeated.yaml"],
    }
    composed = restarted_run["experiment"]
    assert composed["restart_between_repetitions"] is True and composed["repetitions"] == 3
    canonical = json.dumps(composed, sort_keys=True, separators=(",", ":")).encode()
    assert prov["config_sha256"] == hashlib.sha256(canonical).hexdigest()
    assert prov["overrides"] == ["+experiment=repeated"]
    assert prov["python"] == platform.python_version()
    assert prov["k6"] == k6.k6_version(k6.find_k6())
    for name in ("uvicorn", "psutil", "fastapi", "django", "gunicorn"):
        assert prov["packages"][name] == importlib.metadata.version(name)
    assert prov["target_packages"]["faulty"] == {"uvicorn": importlib.metadata.version("uvicorn")}
    machine = prov["machine"]
    assert machine["cpu_model"] == provenance.cpu_model() != ""
    assert machine["logical_cores"] == psutil.cpu_count(logical=True)
    assert machine["os"] == platform.platform()
    windows = [s["started_at"] for s in restarted_run["steps"]]
    assert prov["started_at"] < min(windows) <= max(windows) < prov["ended_at"]


def test_a_clean_tree_is_reported_clean(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path)
    state = provenance.git_state(repo)
    assert state["dirty"] is False and state["changes"] == []
    assert state["commit"] == git(repo, "rev-parse", "HEAD")
    (repo / "experiment" / "new.yaml").write_text("name: new\n")
    assert provenance.git_state(repo)["changes"] == ["?? experiment/new.yaml"]


def test_outside_git_there_is_no_commit(tmp_path: Path) -> None:
    assert provenance.git_state(tmp_path) == {
        "directory": str(tmp_path),
        "commit": None,
        "dirty": None,
        "changes": [],
    }


@pytest.mark.slow
def test_no_process_outlives_the_runs(restarted_run: dict[str, Any]) -> None:
    assert server_like_processes() == []
