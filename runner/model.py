"""The experiment model: what a composed Hydra config must look like before anything starts.

Unknown keys are errors everywhere (`extra="forbid"`), so a typo never silently falls back
to a default.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runner.errors import UserError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# k6 refuses a scenario shorter than this.
K6_MIN_SCENARIO_S = 1.0
_APP_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(\))?$")

LoadModel = Literal["closed", "open"]
# Which sweep key holds the levels of each load model, and what a level is.
SWEEP_KEY: dict[str, str] = {"closed": "concurrency", "open": "rate"}
LEVEL_UNIT: dict[str, str] = {"closed": "virtual users", "open": "requests per second"}
# Open-model virtual-user defaults (see Load.open_vus).
OPEN_MIN_VUS = 10
OPEN_MAX_VUS_DEFAULT = 1000
OPEN_PREALLOCATED_FOR_MS = 100.0


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
                    "on the command line: sweep.KEY.levels=[..] ~sweep.KEY.start ~sweep.KEY.stop "
                    "~sweep.KEY.step, with KEY concurrency or rate)"
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
    """The levels of the sweep: virtual users (closed model) or requests per second (open model)."""

    concurrency: LevelRange | None = Field(
        default=None, description="Virtual users per step (closed load model)."
    )
    rate: LevelRange | None = Field(
        default=None, description="Requests per second per step (open load model)."
    )


class Expect(Strict):
    """What the endpoint must answer before any load is sent."""

    status: int = Field(default=200, ge=100, le=599)
    json_body: Any = Field(default=None, alias="json", description="Exact JSON body expected.")
    text: str | None = Field(default=None, description="Exact text body expected.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Load(Strict):
    model: LoadModel = Field(
        default="closed",
        description="closed: constant virtual users (sweep.concurrency); open: constant arrival "
        "rate in requests per second (sweep.rate), with k6's dropped iterations reported.",
    )
    duration: str = Field(description="Measured time per step, k6 duration string (e.g. '30s').")
    warmup: str = Field(default="0s", description="Unmeasured load before each step.")
    endpoint: str = Field(default="/json", description="Path requested by every virtual user.")
    timeout: str = Field(default="10s", description="k6 request timeout.")
    expect: Expect = Field(default_factory=Expect)
    max_vus: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Open model: most virtual users k6 may use at once (default: the rate, "
        f"between {OPEN_MIN_VUS} and {OPEN_MAX_VUS_DEFAULT}).",
    )
    preallocated_vus: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Open model: virtual users k6 starts before the load (default: enough for "
        f"{OPEN_PREALLOCATED_FOR_MS:g} ms responses, at least {OPEN_MIN_VUS}).",
    )

    @model_validator(mode="after")
    def _vus_only_for_open_model(self) -> Load:
        given = [k for k in ("max_vus", "preallocated_vus") if getattr(self, k) is not None]
        if given and self.model != "open":
            raise ValueError(
                f"'load.{given[0]}' applies to the open load model only (load.model is "
                f"'{self.model}', whose virtual users are the sweep levels)"
            )
        maximum, preallocated = self.max_vus, self.preallocated_vus
        if maximum is not None and preallocated is not None and preallocated > maximum:
            raise ValueError(
                f"'load.preallocated_vus' ({self.preallocated_vus}) must not exceed "
                f"'load.max_vus' ({self.max_vus})"
            )
        return self

    def open_vus(self, rate: int) -> tuple[int, int]:
        """(preallocated, maximum) virtual users for an open-model step at `rate` requests/s.

        By Little's law k6 needs rate x response time VUs in flight. The default maximum, one VU
        per request per second, lets responses take up to ~1 s before k6 must drop iterations,
        so dropped iterations mean a server that cannot keep up, not a stingy k6.
        """
        maximum = self.max_vus or max(OPEN_MIN_VUS, min(rate, OPEN_MAX_VUS_DEFAULT))
        preallocated = self.preallocated_vus or max(
            OPEN_MIN_VUS, math.ceil(rate * OPEN_PREALLOCATED_FOR_MS / 1000)
        )
        return min(preallocated, maximum), maximum

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
    interval: float = Field(
        default=0.1, gt=0.005, le=10, description="Seconds between CPU samples."
    )
    memory_interval: float = Field(
        default=1.0,
        gt=0.005,
        le=60,
        description="Seconds between memory samples (RSS; USS and PSS of the server too).",
    )
    uss: bool = Field(
        default=True,
        description="Read the server's USS and PSS (/proc/PID/smaps_rollup, about ten times "
        "the cost of RSS) on each memory sample.",
    )


class ReportSettings(Strict):
    title: str | None = None


class RunnerSettings(Strict):
    startup_timeout: float = Field(default=30, gt=0, description="Seconds a server may take.")
    stop_grace: float = Field(default=5, ge=0, description="Seconds between SIGTERM and SIGKILL.")


class Experiment(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    targets: dict[str, Target]
    sweep: Sweep
    load: Load
    repetitions: int = Field(default=1, ge=1, le=100)
    restart_between_repetitions: bool = Field(
        default=False,
        description="Start a fresh server for every repetition (cold state each time) instead "
        "of one server per target for all repetitions.",
    )
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

    @model_validator(mode="after")
    def _sweep_matches_load_model(self) -> Experiment:
        model = self.load.model
        other_model = "open" if model == "closed" else "closed"
        wanted, other = SWEEP_KEY[model], SWEEP_KEY[other_model]
        if getattr(self.sweep, other) is not None:
            raise ValueError(
                f"'sweep.{other}' is for the {other_model} load model, but load.model is "
                f"'{model}', whose levels are {LEVEL_UNIT[model]}: give 'sweep.{wanted}' instead "
                f"(on the command line: '~sweep.{other}' '+sweep.{wanted}.levels=[..]'), or set "
                f"load.model={other_model}"
            )
        if getattr(self.sweep, wanted) is None:
            raise ValueError(
                f"'sweep.{wanted}' is required: load.model is '{model}', whose levels are "
                f"{LEVEL_UNIT[model]}"
            )
        return self

    def label(self, target_name: str) -> str:
        return self.targets[target_name].label or target_name

    def levels(self) -> list[int]:
        """The sweep levels, in the load model's unit (virtual users or requests per second)."""
        levels = getattr(self.sweep, SWEEP_KEY[self.load.model])
        assert levels is not None  # guaranteed by _sweep_matches_load_model
        return levels.values()


def planned_levels(experiment: dict[str, Any]) -> list[int]:
    """The sweep levels of a stored (dumped) experiment, whichever load model it used."""
    model = experiment.get("load", {}).get("model", "closed")
    return LevelRange.model_validate(experiment["sweep"][SWEEP_KEY[model]]).values()


def describe_validation_error(error: ValidationError, source: str) -> str:
    """One paragraph naming every bad key path and why, for humans."""
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if message.startswith(f"'{path}"):  # a check across keys: its message names them
            problems.append(message)
        elif item["type"] == "extra_forbidden":
            problems.append(f"'{path}' is not a known key")
        elif item["type"] == "missing":
            problems.append(f"'{path}' is required but missing")
        else:
            shown = path or "(top level)"
            problems.append(f"'{shown}': {message} (got {item.get('input')!r})")
    return f"Invalid experiment ({source}): " + "; ".join(problems) + "."


def validate_experiment(data: object, source: str) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as error:
        raise UserError(describe_validation_error(error, source)) from None
