"""Helpers shared by the bench scripts: compose an experiment as the CLI does, hold the lock."""

from __future__ import annotations

import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from runner import config  # noqa: E402
from runner.config.experiment import Experiment  # noqa: E402
from runner.errors import UserError  # noqa: E402


def compose_experiment(name: str, overrides: list[str]) -> Experiment:
    """The validated experiment `python -m runner +experiment=NAME OVERRIDES` would run."""
    try:
        with initialize_config_dir(config_dir=str(config.EXPERIMENTS_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"+experiment={name}", *overrides])
        return config.experiment_from_config(cfg)
    except (HydraException, UserError) as error:
        say(f"error: {error}")
        raise SystemExit(2) from None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
