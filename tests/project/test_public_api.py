"""The package's public surface: every name in `runner.__all__` resolves, lazily; the CLI imports
only what its command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runner
from tests.conftest import PROJECT_ROOT, cli_env


def test_every_public_name_resolves() -> None:
    for name in runner.__all__:
        assert getattr(runner, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        runner.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("runner.no_such_name should not exist")


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    """`python -m runner` imports the package first: scipy and plotly wait until a report."""
    code = "import sys, runner; print(sorted(m for m in ('scipy', 'plotly') if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"


def test_the_package_is_typed() -> None:
    assert (Path(runner.__path__[0]) / "py.typed").is_file()


# `python -m runner ARGS` in a child that then lists which of the given modules it imported.
RUN_AND_LIST = """
import json, runpy, sys
watched, sys.argv = json.loads(sys.argv[1]), ["runner", *sys.argv[2:]]
try:
    runpy.run_module("runner", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    status = stop.code
print(json.dumps([status, [name for name in watched if name in sys.modules]]), file=sys.stderr)
"""
# What a run needs and a refused command does not wait for (numpy and scipy alone take 0.7 s).
RUN_ONLY = [
    "numpy",
    "scipy",
    "jinja2",
    "runner.run.sweep",
    "runner.measure.k6.split",
    "runner.measure.k6.live",
]


@pytest.mark.parametrize(
    ("args", "status", "not_loaded"),
    [
        (
            ["+experiment=no_such_thing"],
            2,
            [*RUN_ONLY, "hydra", "pydantic", "runner.config.experiment"],
        ),
        (["--help"], 0, [*RUN_ONLY, "hydra", "pydantic", "runner.config.experiment"]),
        (["+experiment=quickstart", "load.duration=-1s"], 2, [*RUN_ONLY, "runner.run.preflight"]),
        (["+experiment=quickstart", "runner.dry_run=true"], 0, RUN_ONLY),
    ],
    ids=["unknown-experiment", "help", "invalid-value", "dry-run"],
)
def test_the_cli_imports_only_what_the_command_needs(
    args: list[str], status: int, not_loaded: list[str], tmp_path: Path
) -> None:
    command = [sys.executable, "-c", RUN_AND_LIST, json.dumps(not_loaded), *args]
    command.append(f"hydra.run.dir={tmp_path / 'run'}")
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=cli_env()
    )
    assert json.loads(result.stderr.splitlines()[-1]) == [status, []], result.stderr
