"""The slow marker cannot be forgotten: a test that starts a server or k6 without it fails."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT_ROOT, load_kind

INNER_TESTS = """
import subprocess, sys

def test_starts_a_server_unmarked():
    # `python -m uvicorn ...` is what the guard looks for; --version keeps it short and harmless.
    subprocess.run([sys.executable, "-m", "uvicorn", "--version"], check=True, timeout=60)

def test_starts_something_else():
    subprocess.run([sys.executable, "-c", "import time; time.sleep(0.3)"], check=True)
"""


def test_unmarked_test_that_starts_a_server_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    pytester.makeconftest("from tests.conftest import *  # noqa: F403\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_starts_a_server_unmarked*", "*started a server or k6 but is not marked slow*"]
    )


@pytest.mark.parametrize(
    ("cmdline", "kind"),
    [
        (["/venv/bin/python", "-m", "uvicorn", "targets.fastapi_app:app"], "server"),
        (["/venv/bin/python", "-m", "gunicorn", "-w", "2", "app:app"], "server"),
        (["/venv/bin/python", "-m", "granian", "--interface", "asgi", "app:app"], "server"),
        (["/venv/bin/python", "-m", "daphne", "app:app"], "server"),
        (["/venv/bin/k6", "run", "--quiet", "http.js"], "k6"),
        (["/venv/bin/k6", "version"], None),
        (["/venv/bin/python", "-m", "runner", "+experiment=quickstart"], None),
    ],
)
def test_load_kind(cmdline: list[str], kind: str | None) -> None:
    assert load_kind(cmdline) == kind
