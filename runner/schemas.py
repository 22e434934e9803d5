"""JSON Schemas of the experiment and of results.json, generated from the pydantic models.
It sits beside the stages, not in config/, because it reads the run record (records/) too.

`python -m runner.schemas` rewrites `schemas/`; a test fails when they are not current.

Besides the whole experiment (what a composed experiment must be), it writes schemas for the
files people edit, for the editor comment at their top (`# yaml-language-server: $schema=...`):
each such file is a fragment Hydra merges with the config groups and the models' defaults, so
its schema keeps every key and type but requires nothing, and an experiment file may also hold
Hydra's `defaults` list and `hydra` settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.config.experiment import Experiment, Load, ReportSettings, Scenario, Target
from runner.records.results import RunRecord

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
EXPERIMENTS_ROOT = SCHEMAS_DIR.parent / "experiments"

# Which schema each folder of experiments/ is edited against.
FRAGMENT_SCHEMAS = {
    "experiment": "experiment-fragment.schema.json",
    "target": "target.schema.json",
    "scenario": "scenario.schema.json",
    "load": "load.schema.json",
    "report": "report.schema.json",
}

# Hydra's own keys in an experiment file: its defaults list and, for a matrix, its sweeper.
HYDRA_KEYS: dict[str, Any] = {
    "defaults": {
        "description": "Hydra's defaults list: config groups to compose, e.g. "
        "`- /target@targets.api: fastapi_uvicorn` or `- override /scenario: io`.",
        "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "type": "array",
    },
    "hydra": {"description": "Hydra's settings, e.g. hydra.sweeper.params.", "type": "object"},
}


def without_required(node: Any) -> Any:
    """The schema with every `required` list dropped, at any depth (a property that happens to
    be named "required" is a schema object, not a list, and stays)."""
    if isinstance(node, dict):
        return {
            k: without_required(v)
            for k, v in node.items()
            if not (k == "required" and isinstance(v, list))
        }
    if isinstance(node, list):
        return [without_required(item) for item in node]
    return node


def fragment(model: Any, title: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = without_required(model.model_json_schema(by_alias=True))
    schema["title"] = title
    schema["properties"] = {**schema["properties"], **(extra or {})}
    return schema


def rendered() -> dict[str, str]:
    """File name -> schema text, exactly as it is stored."""
    schemas = {
        "experiment.schema.json": Experiment.model_json_schema(by_alias=True),
        "results.schema.json": RunRecord.model_json_schema(),
        "experiment-fragment.schema.json": fragment(
            Experiment, "An experiment file (experiments/experiment/)", HYDRA_KEYS
        ),
        "target.schema.json": fragment(Target, "A target file (experiments/target/)"),
        "scenario.schema.json": fragment(Scenario, "A scenario file (experiments/scenario/)"),
        "load.schema.json": fragment(Load, "A load model file (experiments/load/)"),
        "report.schema.json": fragment(ReportSettings, "A report file (experiments/report/)"),
    }
    return {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in schemas.items()
    }


def main() -> None:
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (SCHEMAS_DIR / name).write_text(text)
        print(f"wrote {SCHEMAS_DIR / name}")


if __name__ == "__main__":
    main()
