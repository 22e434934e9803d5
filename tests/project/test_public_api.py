"""The package's public surface: every name in `runner.__all__` resolves, lazily; the CLI imports
only what its command needs."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import runner
import runner.errors
from runner.lazy import type_checking_imports
from tests.conftest import PROJECT_ROOT, cli_env

LAZY_PACKAGES = ["runner", "runner.measure.k6", "runner.measure.server"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert dir(module) == sorted(module.__all__)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_the_type_checking_imports_are_the_lazy_names(package: str) -> None:
    """A lazy package names each export twice, for mypy and for `import *`: in its
    `if TYPE_CHECKING:` imports (which also tell runner.lazy where it lives) and in `__all__`,
    less any name it imports at once."""
    module = importlib.import_module(package)
    lazy = type_checking_imports(module.__file__ or "")
    eager = set(module.__all__) - set(lazy)
    assert sorted(set(lazy) | eager) == sorted(module.__all__)
    assert all(name in vars(module) for name in eager), eager


def test_from_runner_import_compare_gives_the_function() -> None:
    """runner.compare is also a subpackage, which its import sets as the package's attribute:
    `from runner import compare` used to give that module."""
    code = "from runner import compare; import runner.compare.gate; print(callable(compare))"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert shown == "True"


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


def _exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in runner/ (found by reading the sources, then imported)."""
    root = Path(runner.__path__[0])
    found: list[type[BaseException]] = []
    for path in sorted(root.rglob("*.py")):
        classes = [
            node.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ClassDef)
        ]
        if not any(re.search(r"(Error|Exception|Failed|Refused|Interrupted)$", c) for c in classes):
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(root.parent).with_suffix("").parts)
        )
        found += [
            value
            for name in classes
            if isinstance(value := getattr(module, name, None), type)
            and issubclass(value, BaseException)
            and value.__module__ == module.__name__
        ]
    return found


def test_every_error_derives_from_the_one_base_and_is_in_its_tree() -> None:
    """runner.errors' docstring draws every exception class; all but Interrupted (a
    BaseException, like KeyboardInterrupt) are SweepbenchErrors."""
    classes = _exception_classes()
    assert {c.__name__ for c in classes} >= {"UserError", "TargetError", "RemoteError"}
    tree = runner.errors.__doc__ or ""
    for cls in classes:
        assert re.search(rf"\b{cls.__name__}\b", tree), f"{cls.__name__} is not in the tree"
        if cls is runner.errors.Interrupted:
            assert not issubclass(cls, Exception)
        else:
            assert issubclass(cls, runner.errors.SweepbenchError), cls
