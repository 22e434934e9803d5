"""The experiment model: what a composed Hydra config must look like before anything starts.

Unknown keys are errors everywhere (`extra="forbid"`), so a typo never silently falls back
to a default.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runner.errors import UserError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# k6 refuses a scenario shorter than this.
K6_MIN_SCENARIO_S = 1.0
_APP_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(\))?$")


def parse_duration(text: str) -> float:
    """Seconds in a k6 duration string such as `30s`, `1m30s` or `500ms`."""
    text = text.strip()
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        raise ValueError(f"{text!r} is not a duration such as '30s', '1m30s' or '500ms'")
    return sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)


def _check_duration(value: object, allow_zero: bool, minimum_s: float = 0.0) -> str:
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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    """One application under test and the server that runs it."""

    app: str = Field(description="Import path `module:attribute` of the ASGI or WSGI app.")
    server: Literal["uvicorn", "gunicorn"] = Field(description="The server that runs the app.")
    label: str | None = Field(default=None, description="Display name in reports.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    threads: int | None = Field(default=None, ge=1, le=256, description="gunicorn gthread threads.")
    worker_class: str | None = Field(default=None, description="gunicorn worker class.")
    extra_args: list[str] = Field(default_factory=list, description="More server CLI arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")

    @field_validator("app")
    @classmethod
    def _app_is_import_path(cls, value: str) -> str:
        if not _APP_REF.match(value):
            raise ValueError(f"{value!r} is not an import path such as 'package.module:app'")
        return value


class LevelRange(Strict):
    """Sweep levels: either `levels: [..]` or `start`, `stop` (inclusive) and `step`."""

    levels: list[Annotated[int, Field(ge=1)]] | None = None
    start: int | None = Field(default=None, ge=1)
    stop: int | None = Field(default=None, ge=1)
    step: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_form(self) -> LevelRange:
        ranged = (self.start, self.stop, self.step)
        if self.levels is not None:
            if any(v is not None for v in ranged):
                raise ValueError(
                    "give either 'levels' or 'start'/'stop'/'step', not both (to replace a range "
                    "on the command line: sweep.concurrency.levels=[..] ~sweep.concurrency.start "
                    "~sweep.concurrency.stop ~sweep.concurrency.step)"
                )
            if not self.levels:
                raise ValueError("'levels' must list at least one level")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("'levels' must not repeat a level")
            return self
        if any(v is None for v in ranged):
            raise ValueError("give 'levels', or all three of 'start', 'stop' and 'step'")
        assert self.start is not None and self.stop is not None
        if self.stop < self.start:
            raise ValueError(f"stop ({self.stop}) must not be below start ({self.start})")
        return self

    def values(self) -> list[int]:
        if self.levels is not None:
            return list(self.levels)
        assert self.start is not None and self.stop is not None and self.step is not None
        return list(range(self.start, self.stop + 1, self.step))


class Sweep(Strict):
    concurrency: LevelRange = Field(description="Virtual users per step (closed load model).")


class Expect(Strict):
    """What the endpoint must answer before any load is sent."""

    status: int = Field(default=200, ge=100, le=599)
    json_body: Any = Field(default=None, alias="json", description="Exact JSON body expected.")
    text: str | None = Field(default=None, description="Exact text body expected.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Load(Strict):
    duration: str = Field(description="Measured time per step, k6 duration string (e.g. '30s').")
    warmup: str = Field(default="0s", description="Unmeasured load before each step.")
    endpoint: str = Field(default="/json", description="Path requested by every virtual user.")
    timeout: str = Field(default="10s", description="k6 request timeout.")
    expect: Expect = Field(default_factory=Expect)

    @field_validator("duration", mode="before")
    @classmethod
    def _positive_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=False, minimum_s=K6_MIN_SCENARIO_S)

    @field_validator("warmup", mode="before")
    @classmethod
    def _warmup_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=True, minimum_s=K6_MIN_SCENARIO_S)

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout_duration(cls, value: object) -> str:
        return _check_duration(value, allow_zero=False)

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} must be a path starting with '/'")
        return value

    @property
    def duration_s(self) -> float:
        return parse_duration(self.duration)

    @property
    def warmup_s(self) -> float:
        return parse_duration(self.warmup)


class Pinning(Strict):
    """CPU cores for the server and for k6, so they do not compete for the same core."""

    enabled: bool = True
    server_cpus: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [0])
    client_cpus: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [1])


class Sampler(Strict):
    interval: float = Field(default=0.1, gt=0.005, le=10, description="Seconds between samples.")


class ReportSettings(Strict):
    """Thresholds of the report's verdicts; each is printed with the rule it feeds."""

    title: str | None = None
    error_threshold: float = Field(
        default=0.01, ge=0, le=1, description="Error rate (fraction) that marks a breaking point."
    )
    latency_slo_ms: float | None = Field(
        default=None, gt=0, description="p95 latency objective in ms; a level above it breaks."
    )
    throughput_drop: float = Field(
        default=0.10, gt=0, lt=1, description="Drop below the best earlier level that breaks."
    )
    min_effect: float = Field(
        default=0.05, ge=0, lt=1, description="Smallest lead (fraction) that can name a winner."
    )
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Confidence level of intervals and tests."
    )
    knee_throughput_gain: float = Field(
        default=0.05, ge=0, description="Throughput gain below which the sweep has saturated."
    )
    knee_latency_rise: float = Field(
        default=0.10, ge=0, description="p95 rise above which the sweep has saturated."
    )


class RunnerSettings(Strict):
    startup_timeout: float = Field(default=30, gt=0, description="Seconds a server may take.")
    stop_grace: float = Field(default=5, ge=0, description="Seconds between SIGTERM and SIGKILL.")
    resume: str | None = Field(
        default=None, description="Run directory of an interrupted run to continue."
    )
    dry_run: bool = Field(default=False, description="Validate and print the plan; start nothing.")


# Keys that say how to invoke a run, not what it measures: they may differ when resuming.
INVOCATION_KEYS = ("runner.resume", "runner.dry_run")


class Experiment(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    targets: dict[str, Target]
    sweep: Sweep
    load: Load
    repetitions: int = Field(default=1, ge=1, le=100)
    pinning: Pinning = Field(default_factory=Pinning)
    sampler: Sampler = Field(default_factory=Sampler)
    report: ReportSettings = Field(default_factory=ReportSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)

    @field_validator("targets")
    @classmethod
    def _at_least_one_target(cls, value: dict[str, Target]) -> dict[str, Target]:
        if not value:
            raise ValueError("an experiment needs at least one target")
        for name in value:
            if not re.match(r"^[A-Za-z0-9_.-]+$", name):
                raise ValueError(
                    f"target name {name!r} may use only letters, digits, '_', '.', '-'"
                )
        return value

    def label(self, target_name: str) -> str:
        return self.targets[target_name].label or target_name


def describe_validation_error(error: ValidationError, source: str) -> str:
    """One paragraph naming every bad key path and why, for humans."""
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(f"'{path}' is not a known key")
        elif item["type"] == "missing":
            problems.append(f"'{path}' is required but missing")
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"'{path}': {message} (got {item.get('input')!r})")
    return f"Invalid experiment ({source}): " + "; ".join(problems) + "."


def validate_experiment(data: object, source: str) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as error:
        raise UserError(describe_validation_error(error, source)) from None
