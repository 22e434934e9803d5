"""`python -m runner.init APP`: the experiment file it writes for a user's own app, and the run
it suggests, in an empty directory with only an app file."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from runner.config.scaffold import SCHEMA, experiment_name
from runner.init import main as init_main
from tests.conftest import PROJECT_ROOT, run_cli

APP = """async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})
"""


def init(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        status = init_main(list(argv))
    return status, out.getvalue()


def test_the_file_names_the_app_the_schema_and_the_command(tmp_path: Path) -> None:
    status, output = init("myapp:app", "--dir", str(tmp_path))
    assert status == 0
    written = tmp_path / "experiments" / "experiment" / "myapp.yaml"
    text = written.read_text()
    assert f"# yaml-language-server: $schema={SCHEMA}" in text
    assert SCHEMA.is_file()
    assert "app: myapp:app" in text
    assert "python -m runner --config-dir experiments +experiment=myapp" in output


def test_an_existing_file_is_kept_and_bad_input_is_one_paragraph(tmp_path: Path) -> None:
    assert init("myapp:app", "--dir", str(tmp_path))[0] == 0
    status, output = init("myapp:app", "--dir", str(tmp_path))
    assert status == 2 and "--force" in output
    status, output = init("not an import path", "--dir", str(tmp_path))
    assert status == 2 and "Traceback" not in output


def test_names() -> None:
    assert experiment_name("mypkg.main:app") == "main"
    assert experiment_name("My-App:app") == "my_app"


@pytest.mark.slow
def test_the_suggested_run_works_in_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(APP)
    assert init("myapp:app", "--dir", str(tmp_path))[0] == 0
    done = run_cli(
        "--config-dir", "experiments", "+experiment=myapp",
        "sweep.concurrency.levels=[4]", "load.duration=1s", "load.warmup=0s",
        "validity.measure_ceiling=never",
        f"hydra.run.dir={tmp_path / 'out'}", cwd=tmp_path,
        env={"PYTHONPATH": str(PROJECT_ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "report.md").is_file()
