"""The servers a target can name: each one's command line, settings and a real step through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from runner.config.compose import EXPERIMENTS_DIR
from runner.config.experiment import Target, validate_experiment
from runner.measure.server import SERVERS, server_command
from tests.conftest import run_cli, server_like_processes

# The target files of the servers added after uvicorn and gunicorn.
NEW_SERVER_TARGETS = [
    "fastapi_granian",
    "django_granian_wsgi",
    "django_granian_asgi",
    "fastapi_hypercorn",
    "django_hypercorn",
    "django_daphne",
]
# Every new server in one run (one start-up of the runner, not six), one step each.
ALL_NEW_SERVERS = "\n".join(
    [
        "# @package _global_",
        "defaults:",
        *(f"  - /target@targets.{name}: {name}" for name in NEW_SERVER_TARGETS),
        "name: new_servers",
        "sweep: {concurrency: {levels: [5]}}",
        "load: {duration: 1s, warmup: 0s}",
        "retry: {max_attempts: 1}",
    ]
)


def target_file(name: str) -> Target:
    data: Any = OmegaConf.to_container(OmegaConf.load(EXPERIMENTS_DIR / "target" / f"{name}.yaml"))
    return Target.model_validate(data)


def experiment_with(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "t",
        "targets": {"api": target},
        "sweep": {"concurrency": {"levels": [1]}},
        "load": {"duration": "1s"},
        "scenario": {"name": "json", "requests": [{"path": "/json"}]},
    }


def test_every_target_file_names_a_server_of_the_table() -> None:
    servers = {target_file(p.stem).server for p in (EXPERIMENTS_DIR / "target").glob("*.yaml")}
    assert servers == set(SERVERS)


@pytest.mark.parametrize(
    ("target", "flags"),
    [
        (
            Target(app="m:app", server="granian", interface="wsgi", workers=2, loop="uvloop"),
            {"--interface": "wsgi", "--workers": "2", "--loop": "uvloop", "--port": "8000"},
        ),
        (
            Target(app="m:app", server="hypercorn", workers=3, keep_alive=9),
            {"--workers": "3", "--keep-alive": "9", "--bind": "127.0.0.1:8000"},
        ),
        (
            Target(app="m:app", server="daphne"),
            {"--verbosity": "0", "--bind": "127.0.0.1", "--port": "8000"},
        ),
    ],
    ids=["granian", "hypercorn", "daphne"],
)
def test_new_server_settings_reach_the_command_line(target: Target, flags: dict[str, str]) -> None:
    command = server_command(target, "127.0.0.1", 8000)
    assert command[1:3] == ["-m", target.server]
    for flag, value in flags.items():
        assert command[command.index(flag) + 1] == value
    assert "--reload" not in command and "--access-log" not in command


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"server": "daphne", "workers": 2}, "'workers' is 2, but daphne runs one process"),
        ({"server": "granian"}, "granian needs 'interface'"),
        ({"server": "granian", "interface": "asgi", "keep_alive": 5}, "not granian"),
        ({"server": "hypercorn", "loop": "uvloop"}, "loop apply to granian or uvicorn only"),
        ({"server": "uvicorn", "interface": "asgi"}, "interface apply to granian only"),
        ({"server": "tornado"}, "targets.api.server"),
    ],
)
def test_settings_a_server_does_not_take_are_refused(target: dict[str, Any], expected: str) -> None:
    with pytest.raises(Exception, match="Invalid experiment") as caught:
        validate_experiment(experiment_with({"app": "m:app", **target}), "test")
    assert expected in str(caught.value)
    assert "targets.api" in str(caught.value)


@pytest.fixture(scope="module")
def new_servers_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("new_servers")
    (root / "conf" / "experiment").mkdir(parents=True)
    (root / "conf" / "experiment" / "new_servers.yaml").write_text(ALL_NEW_SERVERS)
    run_dir = root / "run"
    result = run_cli(
        "--config-dir", str(root / "conf"), "+experiment=new_servers", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr
    assert server_like_processes() == []
    return run_dir


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW_SERVER_TARGETS)
def test_new_server_answers_its_checks_and_runs_a_step(name: str, new_servers_run: Path) -> None:
    stored = json.loads((new_servers_run / "results.json").read_text())
    assert [f for f in stored["failures"] if f["target"] == name] == []
    (step,) = [s for s in stored["steps"] if s["target"] == name]
    assert step["rps"] > 0 and step["error_rate"] == 0
    server = target_file(name).server
    assert stored["provenance"]["server_commands"][name][1:3] == ["-m", server]
    # Production settings: thousands of requests answered, and no access log line for them.
    assert step["requests"] > 100
    assert len((new_servers_run / "logs" / f"{name}.log").read_text().splitlines()) < 20
