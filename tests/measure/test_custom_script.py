"""Custom k6 scripts and server settings through the command line, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.measure import k6
from tests.config.test_cli_errors import assert_clean_error, assert_nothing_started, refusal
from tests.conftest import run_cli, server_like_processes

SHORT = ["sweep.concurrency.levels=[4]", "load.duration=1s", "load.warmup=1s"]


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("custom")
    result = run_cli(
        "+experiment=custom_script",
        *SHORT,
        "targets.fastapi.workers=2",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr
    return run_dir


@pytest.mark.slow
def test_custom_script_summary_is_ingested(custom_run: Path) -> None:
    results = json.loads((custom_run / "results.json").read_text())
    assert results["complete"] and not results["failures"]
    assert {s["target"] for s in results["steps"]} == {"fastapi", "django_asgi"}
    for step in results["steps"]:
        assert step["requests"] > 0 and step["error_rate"] == 0
        # A disturbed step is measured again in a directory of its own (`c4-r1-a2`).
        attempt = f"-a{step['attempt']}" if step["attempt"] > 1 else ""
        step_dir = custom_run / "steps" / step["target"] / f"c4-r1{attempt}"
        summary = json.loads((step_dir / "k6-summary.json").read_text())
        # browse.js sends two requests per iteration and checks every page it reads.
        iterations = k6.parse_summary(summary).iterations
        assert abs(step["requests"] - 2 * iterations) <= 4
        assert summary["metrics"]["checks"]["passes"] > 0
        assert summary["metrics"]["checks"]["fails"] == 0


@pytest.mark.slow
def test_worker_override_reaches_the_server(custom_run: Path) -> None:
    run = json.loads((custom_run / "run.json").read_text())
    command = run["provenance"]["server_commands"]["fastapi"]
    assert command[command.index("--workers") + 1] == "2"
    assert run["experiment"]["targets"]["fastapi"]["workers"] == 2
    steps = {s["target"]: s for s in json.loads((custom_run / "results.json").read_text())["steps"]}
    # Sampled during the step: uvicorn's supervisor and its two workers; one process otherwise.
    assert steps["fastapi"]["server_processes"] >= 3
    assert steps["django_asgi"]["server_processes"] == 1


@pytest.mark.slow
def test_report_names_the_script_and_settings(custom_run: Path) -> None:
    report = (custom_run / "report.md").read_text()
    assert "custom k6 script browse.js" in report
    assert "database: sqlite" in report


@pytest.mark.slow
def test_no_process_outlives_the_run(custom_run: Path) -> None:
    assert server_like_processes() == []


def test_missing_script_is_bad_input(tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=custom_script", *SHORT, "load.script=nope.js", f"hydra.run.dir={tmp_path}"
    )
    assert_clean_error(result, "'load.script'", "nope.js", "does not exist", "browse.js")
    assert not (tmp_path / "results.jsonl").exists()


def test_script_that_sets_its_own_scenarios_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "greedy.js"
    script.write_text(
        "import http from 'k6/http';\n"
        "export const options = { scenarios: { mine: { executor: 'constant-vus', vus: 1,"
        " duration: '1s' } } };\n"
        "export default function () { http.get(__ENV.SWEEPBENCH_BASE_URL + '/json'); }\n"
    )
    # In this process (the command line's handling of k6's verdict: the script that does not load).
    error = refusal([*SHORT, f"load.script={script}"], tmp_path / "run", "custom_script")
    assert error.exit_code == 2
    for fragment in ("greedy.js", "sets scenarios", "Remove those keys"):
        assert fragment in str(error)
    assert_nothing_started(tmp_path / "run")


def test_script_that_does_not_load_is_bad_input(tmp_path: Path) -> None:
    script = tmp_path / "broken.js"
    script.write_text("export default function ( {\n")
    result = run_cli(
        "+experiment=custom_script", *SHORT, f"load.script={script}", f"hydra.run.dir={tmp_path}"
    )
    assert_clean_error(result, "k6 cannot load the script", "broken.js")


def test_unreachable_postgresql_is_bad_input_without_the_password(tmp_path: Path) -> None:
    result = run_cli(
        "+experiment=quickstart",
        "scenario=db",  # only a run whose scenario reads the database connects to it
        "database.engine=postgresql",
        "database.dsn='postgresql://bench:s3cret@127.0.0.1:1/hello'",
        f"hydra.run.dir={tmp_path}",
    )
    assert_clean_error(result, "could not be prepared", "postgresql://bench:***@127.0.0.1:1/hello")
    assert "s3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "results.jsonl").exists()
