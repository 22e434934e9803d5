"""runner.ab's command line without load: what it refuses (exit 2, one paragraph), an A/B file
as the defaults the command line overrides."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from runner.ab.__main__ import main, parse, settings_from
from tests.conftest import PROJECT_ROOT


def call(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        status = main(list(argv))
    return status, out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["--baseline", "a:app"],
        ["--app", "a:app", "--baseline-rev", "main"],
        ["--baseline", "a:app", "--candidate", "b:app", "--rate", "0"],
        ["--baseline", "a:app", "--candidate", "b:app", "--margin", "lots"],
        ["--baseline", "a:app", "--candidate", "b:app", "--budget", "soon"],
        ["--config", "no/such/file.yaml"],
        ["--app", "a:app", "--baseline-rev", "r1", "--candidate-rev", "r2", "--server", "granian"],
    ],
)
def test_bad_input_is_refused_in_one_paragraph(argv: list[str], tmp_path: Path) -> None:
    status, output = call(*argv, "--markdown", str(tmp_path / "ab.md"))
    assert status == 2
    assert "Traceback" not in output and output.startswith("error:")
    assert "**Refused**" in (tmp_path / "ab.md").read_text()


def test_an_ab_file_gives_defaults_that_the_command_line_overrides() -> None:
    shipped = PROJECT_ROOT / "experiments" / "ab" / "ab_work.yaml"
    settings = settings_from(parse(["--config", str(shipped), "--budget", "30s"]))
    assert settings.candidate == "tests.apps.ab_work:heavier"
    assert settings.level == 4
    assert settings.budget_s == 30


def test_an_unknown_key_in_an_ab_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ab.yaml"
    path.write_text("baseline: a:app\nbogus: 1\n")
    status, output = call("--config", str(path))
    assert status == 2 and "bogus" in output
