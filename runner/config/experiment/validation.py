"""Validating an experiment, and the one paragraph that says what is wrong with it."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from runner.config.experiment.base import STORED
from runner.config.experiment.experiment import Experiment
from runner.errors import UserError

__all__ = ["Origin", "describe_validation_error", "stored_experiment", "validate_experiment"]


def stored_experiment(data: object) -> Experiment:
    """An experiment as stored in a run directory (dumped by alias, secrets masked)."""
    return Experiment.model_validate(data, context={STORED: True})


# Where a problem came from, given its key path and message: a phrase such as "from the command
# line: load.duration=abc", or None for the experiment's files.
Origin = Callable[[str, str], str | None]


def describe_validation_error(
    error: ValidationError, source: str, origin: Origin | None = None, file: str | None = None
) -> str:
    """One paragraph naming every bad key path and why, and where it was set, for humans.

    `file` is named only when a problem does not come from elsewhere (`origin`).
    """
    problems = []
    from_file = False
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        problem = _problem_text(item, path)
        where = origin(path, problem) if origin else None
        from_file = from_file or where is None
        problems.append(f"{problem} ({where})" if where else problem)
    in_file = f" in {file}" if file and from_file else ""
    return f"Invalid experiment ({source}{in_file}): " + "; ".join(problems) + "."


def _problem_text(item: ErrorDetails, path: str) -> str:
    message = item["msg"].removeprefix("Value error, ")
    if message.startswith(f"'{path}"):  # a check across keys: its message names them
        return message
    if item["type"] == "extra_forbidden":
        return f"'{path}' is not a known key"
    if item["type"] == "missing":
        return f"'{path}' is required but missing"
    shown = path or "(top level)"
    return f"'{shown}': {message} (got {item.get('input')!r})"


def validate_experiment(
    data: object, source: str, origin: Origin | None = None, file: str | None = None
) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as error:
        raise UserError(describe_validation_error(error, source, origin, file)) from None
