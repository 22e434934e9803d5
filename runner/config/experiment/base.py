"""What the parts of the experiment model share: the strict base model, the pattern of a plain
name, the validation context of a stored experiment, and k6 duration strings."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

__all__ = [
    "K6_MIN_SCENARIO_S",
    "NAME",
    "NAME_PATTERN",
    "STORED",
    "Strict",
    "check_duration",
    "parse_duration",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# k6 refuses a scenario shorter than this.
K6_MIN_SCENARIO_S = 1.0
# A plain name (an experiment, a scenario, a target, a request): letters, digits, '_', '.', '-'.
NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
NAME = re.compile(NAME_PATTERN)
# Validation context of an experiment read back from a run directory (see stored_experiment).
STORED = "stored"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(text: str) -> float:
    """Seconds in a k6 duration string such as `30s`, `1m30s` or `500ms`."""
    text = text.strip()
    if text.startswith("-"):
        raise ValueError(f"{text!r} is negative; a duration is zero or more, such as '30s'")
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        raise ValueError(f"{text!r} is not a duration such as '30s', '1m30s' or '500ms'")
    return sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)


def check_duration(value: object, allow_zero: bool, minimum_s: float = 0.0) -> str:
    """`value` if it is a k6 duration string that is allowed here; ValueError says why not."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} has no unit: write it as '{value}s' or '{value}ms'")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration such as '30s', '1m30s' or '500ms'")
    seconds = parse_duration(value)
    if seconds == 0 and allow_zero:
        return value
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    if seconds < minimum_s:
        raise ValueError(f"{value!r} is shorter than k6 allows for a scenario ({minimum_s:g}s)")
    return value
