"""Composition: defaults live only in the models, and every shipped experiment composes and validates."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from omegaconf import OmegaConf

from runner.config.compose import EXPERIMENTS_DIR, experiment_from_config, model_defaults
from tests.conftest import compose_config, shipped_experiments

# The YAML files that set defaults for every experiment, and where their keys land.
DEFAULT_FILES = {"config.yaml": "", "load/closed.yaml": "load.", "load/open.yaml": "load."}
DEFAULT_FILES |= {
    str(p.relative_to(EXPERIMENTS_DIR)): "report."
    for p in sorted((EXPERIMENTS_DIR / "report").glob("*.yaml"))
}
# Keys of the Hydra tree that are not settings of the experiment.
NOT_SETTINGS = {"defaults", "hydra"}


def leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'a.b': value} for every leaf of nested dicts (lists are leaves)."""
    found: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            found |= leaves(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


def yaml_settings(relative: str) -> dict[str, Any]:
    data = yaml.safe_load((EXPERIMENTS_DIR / relative).read_text()) or {}
    settings = {k: v for k, v in data.items() if k not in NOT_SETTINGS}
    return leaves(settings, DEFAULT_FILES[relative])


def test_shipped_experiments_are_all_found() -> None:
    names = shipped_experiments()
    assert len(names) == len(list((EXPERIMENTS_DIR / "experiment").glob("*.yaml"))) >= 12
    assert "quickstart" in names


@pytest.mark.parametrize("name", shipped_experiments())
def test_every_shipped_experiment_composes_and_validates(name: str) -> None:
    experiment = experiment_from_config(compose_config(name))
    assert experiment.name == name
    assert experiment.targets and experiment.levels() and experiment.scenario.requests
    assert experiment.load.duration_s >= 1


@pytest.mark.parametrize("relative", sorted(DEFAULT_FILES))
def test_yaml_tree_restates_no_model_default(relative: str) -> None:
    """A default written twice drifts: the YAML may set only what differs from the models
    (and `load.model`, which names the load group's option)."""
    defaults = leaves(model_defaults())
    restated = {
        path: value
        for path, value in yaml_settings(relative).items()
        if path in defaults and defaults[path] == value and path != "load.model"
    }
    assert restated == {}, f"{relative} repeats model defaults; remove them there"


@pytest.mark.parametrize("relative", sorted(DEFAULT_FILES))
def test_yaml_tree_sets_only_known_keys(relative: str) -> None:
    known = leaves(model_defaults()) | {"load.duration": None}
    assert set(yaml_settings(relative)) <= set(known)


def test_composed_config_carries_every_model_default() -> None:
    """Every setting the experiment and the groups leave alone composes to the model default."""
    composed = OmegaConf.to_container(compose_config("quickstart"), resolve=True)
    assert isinstance(composed, dict)
    set_by_yaml = (
        set(yaml_settings("load/closed.yaml"))
        | leaves(
            yaml.safe_load((EXPERIMENTS_DIR / "experiment" / "quickstart.yaml").read_text())
        ).keys()
    )
    composed_leaves = leaves(composed)
    for path, default in leaves(model_defaults()).items():
        if path not in set_by_yaml:
            assert composed_leaves[path] == default, path


def test_model_defaults_are_the_validated_defaults() -> None:
    """The node Hydra gets is what the models would fill in themselves."""
    experiment = experiment_from_config(compose_config("quickstart"))
    dumped = leaves(experiment.model_dump(mode="json", by_alias=True))
    for path, default in leaves(model_defaults()).items():
        if not path.startswith("load.") and path != "description":
            assert dumped[path] == default, path


def as_override(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).replace(" ", "")


def test_every_default_can_be_overridden_without_a_plus() -> None:
    """Hydra refuses `key=value` for a key the composed config lacks; none may be missing."""
    overrides = [f"{path}={as_override(v)}" for path, v in leaves(model_defaults()).items()]
    experiment_from_config(compose_config("quickstart", *overrides))


@pytest.mark.parametrize(
    ("override", "path", "expected"),
    [
        ("repetitions=3", "repetitions", 3),
        ("runner.dry_run=true", "runner.dry_run", True),
        ("report.latency_slo_ms=50", "report.latency_slo_ms", 50.0),
        ("restart_between_repetitions=true", "restart_between_repetitions", True),
        ("sampler.uss=false", "sampler.uss", False),
        ("load.timeout=3s", "load.timeout", "3s"),
        ("pinning.server_cpus=[1]", "pinning.server_cpus", [1]),
    ],
)
def test_override_reaches_the_experiment(override: str, path: str, expected: Any) -> None:
    experiment = experiment_from_config(compose_config("quickstart", override))
    assert leaves(experiment.model_dump(mode="json"))[path] == expected
