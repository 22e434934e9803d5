"""A real short run with the server overridden (issue 20): every report and the console name the
server that ran, and open with the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import NEVER_INVALID, run_cli

# It starts servers and k6: see tests/conftest.py.
pytestmark = pytest.mark.slow

GRANIAN_LABEL = "FastAPI (granian, asgi)"


def test_a_granian_override_is_named_everywhere_and_the_answer_comes_first(
    tmp_path: Path,
) -> None:
    result = run_cli(
        "+experiment=quickstart",
        "targets.fastapi.server=granian",
        "+targets.fastapi.interface=asgi",
        "~targets.django_asgi",
        "sweep.concurrency.levels=[10]",
        "load.duration=1s",
        "load.warmup=1s",
        f"hydra.run.dir={tmp_path}",
        *NEVER_INVALID,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    steps = json.loads((tmp_path / "results.json").read_text())["steps"]
    assert {s["label"] for s in steps} == {GRANIAN_LABEL, "Django WSGI (gunicorn sync)"}
    report = (tmp_path / "report.md").read_text().splitlines()
    assert report[2].startswith("> **") and GRANIAN_LABEL in report[2]
    assert f"| {GRANIAN_LABEL} | targets.fastapi_app:app | granian |" in "\n".join(report)
    page = (tmp_path / "report.html").read_text()
    assert page.index('id="headline"') < page.index("Test Configuration")
    assert GRANIAN_LABEL in page
    # The console: the closing table, then the answer, then where the reports are.
    answer = report[2].removeprefix("> **").removesuffix("**")
    console = result.stderr
    assert console.index("Measured steps") < console.index(answer) < console.index("Run complete")
