"""JSON Schemas of the experiment and of results.json, generated from the pydantic models.

`python -m runner.schemas` rewrites `schemas/`; a test fails when they are not current.
"""

from __future__ import annotations

import json
from pathlib import Path

from runner.model import Experiment
from runner.results import RunRecord

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def rendered() -> dict[str, str]:
    """File name -> schema text, exactly as it is stored."""
    schemas = {
        "experiment.schema.json": Experiment.model_json_schema(by_alias=True),
        "results.schema.json": RunRecord.model_json_schema(),
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
