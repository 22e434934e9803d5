"""`python -m runner --help`: our usage, the experiments, the other commands, the exit statuses."""

from __future__ import annotations

from pathlib import Path

import yaml

from runner.config.compose import EXPERIMENTS_DIR
from tests.conftest import run_cli, shipped_experiments


def test_help_gives_usage_experiments_commands_and_exit_statuses(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("usage: python -m runner +experiment=NAME [key=value ...]")
    for fragment in ("required", "key=value", "-m, --multirun", "--hydra-help"):
        assert fragment in text
    for name in shipped_experiments():
        path = EXPERIMENTS_DIR / "experiment" / f"{name}.yaml"
        description = yaml.safe_load(path.read_text())["description"]
        assert f"  {name} " in text and description in text
    assert "python -m runner.report DIR" in text
    assert "python -m runner.compare A B" in text
    for status in ("0", "1", "2", "130", "143"):
        assert f"\n  {status} " in text
    assert "== Flags ==" not in text  # Hydra's generic help
    assert list(tmp_path.iterdir()) == []  # no run directory, no outputs/


def test_short_help_and_experiments_of_a_config_dir(tmp_path: Path) -> None:
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "mine.yaml").write_text("description: My own experiment.\n")
    result = run_cli("-h", "--config-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "mine" in result.stdout and "My own experiment." in result.stdout
    assert "quickstart" in result.stdout


def test_hydra_help_is_still_hydras() -> None:
    result = run_cli("--hydra-help")
    assert result.returncode == 0, result.stderr
    assert "Hydra" in result.stdout and "--hydra-help" in result.stdout
