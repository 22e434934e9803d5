"""The package's public surface: every name in `runner.__all__` resolves, lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import runner


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
