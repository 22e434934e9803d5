"""Config composition: Hydra's config store, and validation of what it composed.

Hydra composes `experiments/config.yaml` with the chosen `experiment/NAME.yaml` and its config
groups; pydantic (runner.config.experiment) then validates the result. The checks before Hydra (unknown
experiment, malformed YAML: mistakes Hydra would report with a traceback) are in
runner.config.tree, which imports neither Hydra nor the models.

Defaults live in one place, the pydantic models. They reach Hydra as the `model_defaults` node of
its ConfigStore, first in config.yaml's defaults list: every defaulted key is then in the
composed config, so `repetitions=3` or `report.latency_slo_ms=50` override it without a `+`,
and the YAML tree holds only what differs from the models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel

from runner.config.experiment import Experiment, Load, Origin, validate_experiment

# Where the tree lives (runner.config.tree), for the callers that look for it here.
from runner.config.tree import EXPERIMENTS_DIR as EXPERIMENTS_DIR
from runner.config.tree import available_experiments as available_experiments
from runner.errors import UserError

# `${first_set:a,b}`: a unless it is null (OmegaConf's oc.select returns a null value as is).
OmegaConf.register_new_resolver(
    "first_set", lambda value, default: default if value is None else value, replace=True
)

# The name config.yaml's defaults list gives the node of model defaults.
MODEL_DEFAULTS_NODE = "model_defaults"


def field_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields that have a default, with it, as plain YAML-able data."""
    defaults: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json", by_alias=True)
        defaults[info.alias or name] = value
    return defaults


def model_defaults() -> dict[str, Any]:
    """Every experiment setting that has a default, as the models define it."""
    return {**field_defaults(Experiment), "load": field_defaults(Load)}


def register_model_defaults() -> None:
    ConfigStore.instance().store(name=MODEL_DEFAULTS_NODE, node=model_defaults())


# At import: before Hydra composes anything, in the CLI, the tests and bench/ alike.
register_model_defaults()


def chosen_file(group: str, choice: str | None, sources: list[Any]) -> Path | None:
    """The YAML file Hydra took for `group: choice`, from the job's config search path."""
    if not choice:
        return None
    for source in sources:
        if source.get("schema") == "file":
            path = Path(source["path"]) / group / f"{choice}.yaml"
            if path.is_file():
                return path
    return None


def override_key(override: str) -> str:
    """The key a Hydra override sets or deletes: `+load.duration=1s` -> `load.duration`."""
    return override.lstrip("~+").split("=", 1)[0]


def command_line_origin(overrides: list[str]) -> Origin:
    """Blames a validation problem on the command-line overrides that set its key (or a key
    inside it, or the subtree it is in); a check across keys, on the overrides it names."""
    keyed = [(override_key(o), o) for o in overrides if not override_key(o).startswith("hydra.")]

    def touches(key: str, path: str, message: str) -> bool:
        if not path:
            return (
                "." in key and re.search(rf"(?<![\w.]){re.escape(key)}(?!\w)", message) is not None
            )
        return path == key or path.startswith(key + ".") or key.startswith(path + ".")

    def origin(path: str, message: str) -> str | None:
        blamed = [override for key, override in keyed if touches(key, path, message)]
        return f"from the command line: {' '.join(blamed)}" if blamed else None

    return origin


def experiment_from_config(
    cfg: DictConfig, source_file: Path | None = None, overrides: list[str] | None = None
) -> Experiment:
    """Resolve the composed config and validate it against the experiment model.

    A problem with a key the command line set is blamed on that override; the others on the
    experiment's file.
    """
    try:
        data: Any = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as error:
        raise UserError(f"The composed config could not be resolved: {error}") from None
    name = data.get("name") if isinstance(data, dict) else None
    origin = command_line_origin(overrides or [])
    file = str(source_file) if source_file else None
    return validate_experiment(data, f"experiment '{name}'", origin, file)
