"""The JSON Schemas in schemas/ are current, every shipped experiment validates against its schema,
and stored runs validate against theirs.

tests/fixtures/schema1_run/ holds the files a real quickstart (1 s steps) wrote in results schema 1;
loaded, it is upgraded to the current schema (runner.records.migrations) and must then match the current
results schema. A change that makes old runs unreadable fails here.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from omegaconf import OmegaConf

from runner.records.store import RESULTS_FILE, load_run
from runner.schemas import EXPERIMENTS_ROOT, FRAGMENT_SCHEMAS, SCHEMAS_DIR, rendered
from tests.conftest import PROJECT_ROOT, compose_config, shipped_experiments

STORED_RUN = PROJECT_ROOT / "tests" / "fixtures" / "schema1_run"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS_DIR / name).read_text())
    return loaded


@functools.cache
def checked_validator(name: str) -> Any:
    """jsonschema.validate's validator for a schema file, the schema itself checked once: that
    check takes a tenth of a second, and dozens of files are validated against a few schemas."""
    loaded = schema(name)
    validator_class = jsonschema.validators.validator_for(loaded)
    validator_class.check_schema(loaded)
    return validator_class(loaded)


def validate(instance: Any, name: str) -> None:
    """jsonschema.validate(instance, schema(name)), with the schema checked once."""
    error = jsonschema.exceptions.best_match(checked_validator(name).iter_errors(instance))
    if error is not None:
        raise error


def test_schema_files_are_current() -> None:
    for name, text in rendered().items():
        stored = (SCHEMAS_DIR / name).read_text()
        assert stored == text, f"{name} is stale: run `python -m runner.schemas`"


@pytest.mark.parametrize("name", shipped_experiments())
def test_every_shipped_experiment_matches_the_experiment_schema(name: str) -> None:
    composed = OmegaConf.to_container(compose_config(name), resolve=True)
    validate(composed, "experiment.schema.json")


def test_experiment_schema_refuses_an_unknown_key() -> None:
    """The check above can fail: the schema forbids keys the model does not know."""
    composed = OmegaConf.to_container(compose_config("quickstart"), resolve=True)
    assert isinstance(composed, dict)
    composed["load"]["duratoin"] = "1s"
    with pytest.raises(jsonschema.ValidationError, match="duratoin"):
        validate(composed, "experiment.schema.json")


def assert_valid_run(run_dir: Path) -> None:
    results = json.loads((run_dir / RESULTS_FILE).read_text())
    validate(results, "results.schema.json")
    # The stored experiment is a valid experiment too (its DSN password masked).
    validate(results["experiment"], "experiment.schema.json")
    record = load_run(run_dir)
    assert record.complete and record.steps
    assert record.model_dump(mode="json", by_alias=True) == results


def test_schema1_run_upgraded_matches_the_results_schema() -> None:
    record = load_run(STORED_RUN)
    assert record.complete and record.steps
    validate(record.model_dump(mode="json", by_alias=True), "results.schema.json")


@pytest.mark.slow
def test_fresh_run_matches_the_results_schema(quickstart_run: Path) -> None:
    assert_valid_run(quickstart_run)


# --- editor help: every file people edit names the schema it is edited against ----------------

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def edited_files() -> list[tuple[Path, str]]:
    """(file, the schema its folder is edited against) for every YAML file of the groups."""
    return [
        (path, schema_name)
        for folder, schema_name in FRAGMENT_SCHEMAS.items()
        for path in sorted((EXPERIMENTS_ROOT / folder).glob("*.yaml"))
    ]


def header(path: Path) -> list[str]:
    """The comment lines a file starts with."""
    lines = path.read_text().splitlines()
    return list(itertools.takewhile(lambda line: line.startswith("#"), lines))


@pytest.mark.parametrize(("path", "schema_name"), edited_files(), ids=lambda v: str(v)[-40:])
def test_every_edited_file_names_its_schema(path: Path, schema_name: str) -> None:
    comments = header(path)
    # Hydra reads `# @package` only from the first lines, so the editor comment follows it.
    first = 1 if comments and comments[0].startswith("# @package") else 0
    found = MODELINE.match(comments[first]) if len(comments) > first else None
    assert found, (
        f"{path} must start with `# yaml-language-server: $schema=../../schemas/{schema_name}`"
    )
    target = (path.parent / found.group(1)).resolve()
    assert target == SCHEMAS_DIR / schema_name and target.is_file()


@pytest.mark.parametrize(("path", "schema_name"), edited_files(), ids=lambda v: str(v)[-40:])
def test_every_edited_file_passes_its_schema(path: Path, schema_name: str) -> None:
    """What an editor checks as you type: no shipped file shows an error."""
    validate(yaml.safe_load(path.read_text()) or {}, schema_name)


def test_fragment_schema_still_catches_a_typo() -> None:
    fragment = {"load": {"duratoin": "1s"}, "defaults": ["_self_"]}
    with pytest.raises(jsonschema.ValidationError, match="duratoin"):
        validate(fragment, "experiment-fragment.schema.json")
    with pytest.raises(jsonschema.ValidationError, match="wrokers"):
        validate({"wrokers": 2}, "target.schema.json")
