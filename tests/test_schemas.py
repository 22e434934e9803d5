"""The JSON Schemas in schemas/ are current, and a stored run validates against its schema."""

from __future__ import annotations

import json

import jsonschema

from runner.schemas import SCHEMAS_DIR, rendered


def test_schema_files_are_current() -> None:
    for name, text in rendered().items():
        stored = (SCHEMAS_DIR / name).read_text()
        assert stored == text, f"{name} is stale: run `python -m runner.schemas`"


def test_experiment_schema_accepts_the_shipped_experiment_shape() -> None:
    schema = json.loads((SCHEMAS_DIR / "experiment.schema.json").read_text())
    example = {
        "name": "x",
        "targets": {"a": {"app": "m:app", "server": "uvicorn"}},
        "sweep": {"concurrency": {"levels": [1]}},
        "load": {"duration": "1s"},
        "scenario": {"name": "json", "requests": [{"path": "/json"}]},
    }
    jsonschema.validate(example, schema)
