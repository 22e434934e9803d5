"""The experiment model: what a composed Hydra config must look like before anything starts.

Unknown keys are errors everywhere (`extra="forbid"`), so a typo never silently falls back
to a default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from runner.capacity.settings import CapacitySettings
from runner.config.experiment.base import K6_MIN_SCENARIO_S, Strict, parse_duration
from runner.config.experiment.base import check_duration as _check_duration
from runner.config.load_model import LOAD_MODELS, LoadModel, LoadModelName, load_model
from runner.errors import UserError
from runner.measure.server.command import SERVER_SETTINGS, SERVERS, ServerName, servers_taking
from runner.measure.validity import ValiditySettings
from runner.remote.settings import Host, HostRef, check_hosts

_APP_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(\))?$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
# gunicorn's own worker class names; anything else must be an import path.
GUNICORN_WORKER_CLASSES = ("sync", "gthread", "eventlet", "gevent", "tornado")
# The only target keys that mean something for a `url` target (the others describe a server
# the runner starts).
_URL_TARGET_KEYS = {"url", "label"}
# Validation context of an experiment read back from a run directory (see stored_experiment).
STORED = "stored"

# Open-model virtual-user defaults (see Load.open_vus).
OPEN_MIN_VUS = 10
OPEN_MAX_VUS_DEFAULT = 1000
OPEN_PREALLOCATED_FOR_MS = 100.0
# Capacity trials: VUs for responses this many times the objective's latency (see open_vus).
CAPACITY_PREALLOCATED_OBJECTIVES = 3.0


class Target(Strict):
    """One application under test and the server that runs it, or the URL of a running server."""

    app: str | None = Field(
        default=None, description="Import path `module:attribute` of the ASGI or WSGI app."
    )
    server: ServerName | None = Field(default=None, description="The server that runs the app.")
    url: str | None = Field(
        default=None,
        description="Base URL of a server that is already running (instead of app and server): "
        "the runner starts and stops nothing for this target. Loopback only unless "
        "`allow_remote: true`.",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Fixed 127.0.0.1 port for the server (default: a free port).",
    )
    label: str | None = Field(default=None, description="Display name in reports.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    threads: int | None = Field(default=None, ge=1, le=256, description="gunicorn gthread threads.")
    worker_class: str | None = Field(default=None, description="gunicorn worker class.")
    extra_args: list[str] = Field(default_factory=list, description="More server CLI arguments.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    host: HostRef | None = Field(
        default=None,
        description="The host the server runs on, reached over SSH: a name of `hosts`, or a "
        "host described in place (docs/remote.md); this machine when unset.",
    )

    loop: Literal["auto", "asyncio", "uvloop"] | None = Field(
        default=None, description="uvicorn event loop (`--loop`); server default when unset."
    )
    http: Literal["auto", "h11", "httptools"] | None = Field(
        default=None, description="uvicorn HTTP implementation (`--http`)."
    )
    keep_alive: int | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="Seconds an idle keep-alive connection stays open (uvicorn "
        "`--timeout-keep-alive`, gunicorn and hypercorn `--keep-alive`); server default when "
        "unset.",
    )
    interface: Literal["asgi", "wsgi"] | None = Field(
        default=None,
        description="granian only, and required there: the app's interface (`--interface`).",
    )

    @field_validator("app")
    @classmethod
    def _app_is_import_path(cls, value: str | None) -> str | None:
        if value is not None and not _APP_REF.match(value):
            raise ValueError(f"{value!r} is not an import path such as 'package.module:app'")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL such as 'http://127.0.0.1:8000'")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must be a base URL, without '?query' or '#fragment'")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _started_or_external(self, info: ValidationInfo) -> Target:
        if self.url is None:
            missing = [key for key in ("app", "server") if getattr(self, key) is None]
            if missing:
                raise ValueError(
                    f"give 'app' and 'server' (a server the runner starts), or 'url' (one "
                    f"already running); missing: {', '.join(repr(k) for k in missing)}"
                )
            return self
        server_keys = self.model_fields_set - _URL_TARGET_KEYS
        if info.context and info.context.get(STORED):
            # A stored experiment lists every key: only a value off its default was given.
            server_keys = {key for key in server_keys if self._differs_from_default(key)}
        if server_keys:
            raise ValueError(
                "a 'url' target is a server the runner does not start, so "
                f"{', '.join(repr(k) for k in sorted(server_keys))} cannot apply to it"
            )
        return self

    def _differs_from_default(self, key: str) -> bool:
        default = type(self).model_fields[key].get_default(call_default_factory=True)
        return bool(getattr(self, key) != default)

    @property
    def external(self) -> bool:
        """True for a `url` target: already running, never started or stopped by the runner."""
        return self.url is not None

    @field_validator("worker_class")
    @classmethod
    def _known_worker_class(cls, value: str | None) -> str | None:
        if value is None or value in GUNICORN_WORKER_CLASSES or _DOTTED_PATH.match(value):
            return value
        raise ValueError(
            f"{value!r} is neither a gunicorn worker class ({', '.join(GUNICORN_WORKER_CLASSES)}) "
            "nor an import path such as 'uvicorn_worker.UvicornWorker'"
        )

    @model_validator(mode="after")
    def _settings_fit_the_server(self) -> Target:
        if self.server is None:  # a `url` target: checked above
            return self
        kind = SERVERS[self.server]
        given = [k for k in SERVER_SETTINGS if getattr(self, k) is not None]
        foreign = [k for k in given if k not in kind.settings]
        if foreign:
            takers = sorted({s for k in foreign for s in servers_taking(k)})
            hint = f"; {kind.hint}" if kind.hint else ""
            raise ValueError(
                f"{' and '.join(foreign)} apply to {_either(takers)} only, not {self.server}{hint}"
            )
        if self.workers > 1 and not kind.multiple_workers:
            raise ValueError(
                f"'workers' is {self.workers}, but {self.server} runs one process: leave "
                "'workers' at 1 (to compare worker counts, choose a server that has workers)"
            )
        missing = [k for k in kind.required if getattr(self, k) is None]
        if missing:
            what = " ('asgi' or 'wsgi', as the app is)" if "interface" in missing else ""
            raise ValueError(f"{self.server} needs {' and '.join(repr(k) for k in missing)}{what}")
        if self.threads is not None and self.worker_class != "gthread":
            raise ValueError("threads need worker_class 'gthread'")
        return self


def _either(names: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


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


HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
QueryValue = str | int | float | bool


class Expect(Strict):
    """What a request must answer before any load is sent. Every check given must hold."""

    status: int = Field(default=200, ge=100, le=599)
    json_body: Any = Field(default=None, alias="json", description="Exact JSON body expected.")
    text: str | None = Field(default=None, description="Exact text body expected.")
    json_schema: dict[str, Any] | None = Field(
        default=None,
        description="A JSON Schema the body must satisfy: for bodies that vary (random rows), "
        "check their shape, e.g. keys, types and list length.",
    )
    content_type: str | None = Field(
        default=None, description="The Content-Type must start with this, e.g. 'text/plain'."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("json_schema")
    @classmethod
    def _is_a_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            # Imported here: a twentieth of a second that only experiments with a schema need.
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as error:
                raise ValueError(f"not a valid JSON Schema: {error.message}") from None
        return value


class Request(Strict):
    """One request of a scenario, with the answer it must get before load."""

    name: str | None = Field(
        default=None,
        description="Short name (k6 tag `name`); defaults to the path without its query.",
    )
    method: HttpMethod = "GET"
    path: str = Field(description="Path, optionally with a query string, e.g. '/io?ms=50'.")
    query: dict[str, QueryValue] = Field(
        default_factory=dict, description="Query parameters added to the path."
    )
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, description="Request body, sent as is.")
    json_body: Any = Field(
        default=None, alias="json", description="Request body as JSON (sets Content-Type)."
    )
    weight: float = Field(default=1.0, gt=0, description="Share of the requests in a mix.")
    expect: Expect = Field(default_factory=Expect)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("path")
    @classmethod
    def _is_a_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{value!r} must be a path starting with '/'")
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"{value!r} may use only letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> Request:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either 'body' or 'json', not both")
        return self

    @property
    def label(self) -> str:
        return self.name or urlsplit(self.path).path

    @property
    def target(self) -> str:
        """Path and query string as sent on the wire."""
        if not self.query:
            return self.path
        parts = urlsplit(self.path)
        query = "&".join(filter(None, [parts.query, urlencode(self.query)]))
        return urlunsplit(("", "", parts.path, query, ""))

    @property
    def body_text(self) -> str | None:
        if self.json_body is not None:
            return json.dumps(self.json_body)
        return self.body

    @property
    def all_headers(self) -> dict[str, str]:
        if self.json_body is None or any(h.lower() == "content-type" for h in self.headers):
            return dict(self.headers)
        return {**self.headers, "Content-Type": "application/json"}


class Scenario(Strict):
    """What the virtual users request: one request, or a weighted mix of requests."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    requests: list[Request] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_names(self) -> Scenario:
        labels = [r.label for r in self.requests]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"requests share the name(s) {repeated}: give each a distinct 'name'")
        return self

    def describe(self) -> str:
        """`GET /io?ms=50`, or the mix with each request's share."""
        if len(self.requests) == 1:
            only = self.requests[0]
            return f"{only.method} {only.target}"
        total = sum(r.weight for r in self.requests)
        return ", ".join(f"{r.method} {r.target} ({r.weight / total:.0%})" for r in self.requests)


class Load(Strict):
    model: LoadModelName = Field(
        default="closed",
        description="closed: constant virtual users (sweep.concurrency); open: constant arrival "
        "rate in requests per second (sweep.rate), with k6's dropped iterations reported.",
    )
    duration: str = Field(description="Measured time per step, k6 duration string (e.g. '30s').")
    warmup: str = Field(default="0s", description="Unmeasured load before each step.")
    timeout: str = Field(default="10s", description="k6 request timeout.")
    script: str | None = Field(
        default=None,
        description="A custom k6 script, relative to experiments/scripts/; the standard "
        "script (runner/scripts/http.js) when unset.",
    )
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
        description="Open model: virtual users k6 starts before the load; k6 drops an "
        "iteration whenever none is free (default: enough for "
        f"{OPEN_PREALLOCATED_FOR_MS:g} ms responses, in a capacity trial for "
        f"{CAPACITY_PREALLOCATED_OBJECTIVES:g} times the objective's latency, at least "
        f"{OPEN_MIN_VUS}).",
    )
    k6_instances: int = Field(
        default=1,
        ge=1,
        le=64,
        description="k6 processes each step's load is split over (k6 execution segments: each "
        "runs 1/N of the virtual users, or of the arrival rate), side by side on the client's "
        "cores. Above 1 each instance also writes its raw samples, and the step's latency "
        "percentiles are computed from them pooled; see docs/running.md for what that costs.",
    )
    k6_host: HostRef | None = Field(
        default=None,
        description="The host k6 runs on, reached over SSH: a name of `hosts`, or a host "
        "described in place (docs/remote.md); this machine when unset.",
    )
    capacity: CapacitySettings | None = Field(
        default=None,
        description="Capacity load model only (and required there): the latency objective, "
        "precision, rates and time budget of the capacity search (runner.capacity).",
    )

    @model_validator(mode="after")
    def _vus_only_for_open_model(self) -> Load:
        given = [k for k in ("max_vus", "preallocated_vus") if getattr(self, k) is not None]
        if given and not self.kind.fixed_rate:
            raise ValueError(
                f"'load.{given[0]}' applies to the open load model only (load.model is "
                f"'{self.model}', whose virtual users are the sweep levels)"
            )
        if (self.capacity is None) == self.kind.searched:
            raise ValueError(
                "'load.capacity' is required by the capacity load model and applies to it only "
                f"(load.model is '{self.model}')"
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

        By Little's law k6 needs rate x response time VUs in flight. When an iteration is due
        and no VU is free, k6 drops it and only then starts initialising one more VU, in the
        background, up to the maximum: so iterations are dropped as soon as responses outlast
        the preallocated VUs, however high the maximum. Preallocation is therefore what decides
        when a drop means a slow server: responses of OPEN_PREALLOCATED_FOR_MS, and in a
        capacity trial CAPACITY_PREALLOCATED_OBJECTIVES times the objective's latency, by when
        the trial has failed on latency anyway. The maximum, one VU per request per second,
        bounds what a server that stops answering can cost k6.
        """
        maximum = self.max_vus or max(OPEN_MIN_VUS, min(rate, OPEN_MAX_VUS_DEFAULT))
        covered_ms = OPEN_PREALLOCATED_FOR_MS
        if self.capacity is not None:
            covered_ms = max(
                covered_ms, CAPACITY_PREALLOCATED_OBJECTIVES * self.capacity.latency_ms
            )
        preallocated = self.preallocated_vus or max(
            OPEN_MIN_VUS, math.ceil(rate * covered_ms / 1000)
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

    @field_validator("script")
    @classmethod
    def _script_is_js(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith((".js", ".mjs")):
            raise ValueError(f"{value!r} is not a k6 script (a .js file)")
        return value

    @property
    def kind(self) -> LoadModel:
        """The load model itself: what a level means and how k6 drives it."""
        return load_model(self.model)

    def k6_executor(self, level: int) -> dict[str, Any]:
        """k6's executor settings for one step at `level`."""
        vus = self.open_vus(level) if self.kind.fixed_rate else None
        return self.kind.executor(level, vus)

    @property
    def duration_s(self) -> float:
        return parse_duration(self.duration)

    @property
    def warmup_s(self) -> float:
        return parse_duration(self.warmup)


def redacted_dsn(dsn: str) -> str:
    """The DSN with its password replaced by '***', for records and messages."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class Database(Strict):
    """The database behind `/db` and `/queries`."""

    engine: Literal["sqlite", "postgresql"] = Field(
        default="sqlite",
        description="sqlite: a file the runner creates and seeds in the run directory; "
        "postgresql: the database at `dsn`.",
    )
    dsn: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user@host:5432/db). Stored with its password "
        "masked; prefer PGPASSWORD or ${oc.env:VAR} to keep it out of files.",
    )

    @model_validator(mode="after")
    def _dsn_fits_engine(self) -> Database:
        if self.engine == "postgresql" and self.dsn is None:
            raise ValueError("engine 'postgresql' needs a 'dsn' (postgresql://user@host/db)")
        if self.engine == "sqlite" and self.dsn is not None:
            raise ValueError("'dsn' is for engine 'postgresql'; SQLite needs none")
        if self.dsn is not None and urlsplit(self.dsn.get_secret_value()).scheme not in (
            "postgresql",
            "postgres",
        ):
            raise ValueError("'dsn' must be a URL starting with postgresql://")
        return self

    @field_serializer("dsn")
    def _masked(self, dsn: SecretStr | None) -> str | None:
        return redacted_dsn(dsn.get_secret_value()) if dsn is not None else None


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
    compare_across_hosts: bool = Field(
        default=False,
        description="Matrix report: rank jobs that ran on different kinds of host (CPU model, "
        "cores, memory) together and name a highest job across them.",
    )


class RunnerSettings(Strict):
    startup_timeout: float = Field(default=30, gt=0, description="Seconds a server may take.")
    stop_grace: float = Field(default=5, ge=0, description="Seconds between SIGTERM and SIGKILL.")
    resume: str | None = Field(
        default=None, description="Run directory of an interrupted run to continue."
    )
    dry_run: bool = Field(default=False, description="Validate and print the plan; start nothing.")
    min_free_mib: int = Field(
        default=100,
        ge=0,
        description="Free disk space (MiB) the run directory must have before the first step.",
    )


# Keys that say how to invoke a run, not what it measures: they may differ when resuming.
INVOCATION_KEYS = ("runner.resume", "runner.dry_run", "runner.min_free_mib")


class Experiment(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    targets: dict[str, Target]
    sweep: Sweep = Field(
        description="The levels; empty (`sweep: {}`) under the capacity model, whose search "
        "picks the rates."
    )
    load: Load
    scenario: Scenario
    database: Database = Field(default_factory=Database)
    repetitions: int = Field(default=1, ge=1, le=100)
    allow_remote: bool = Field(
        default=False,
        description="Allow load to non-loopback addresses: `url` targets elsewhere, servers on "
        "other hosts (load leaves this machine).",
    )
    hosts: dict[str, Host] = Field(
        default_factory=dict,
        description="Machines reached over SSH, by name, for `targets.NAME.host` and "
        "`load.k6_host` (docs/remote.md).",
    )
    restart_between_repetitions: bool = Field(
        default=False,
        description="Start a fresh server for every repetition (cold state each time) instead "
        "of one server per target for all repetitions.",
    )
    order: Literal["auto", "sequential", "interleaved", "shuffled"] = Field(
        default="auto",
        description="Order of the steps: 'sequential' runs each target's steps in turn; "
        "'interleaved' keeps every target's server up and loads one at a time, level by level, "
        "targets in their order; 'shuffled' does so with the targets in a seeded random order "
        "at each level; 'auto' is interleaved with repetitions > 1, else sequential.",
    )
    order_seed: int = Field(default=0, description="Seed of the 'shuffled' order.")
    pinning: Pinning = Field(default_factory=Pinning)
    sampler: Sampler = Field(default_factory=Sampler)
    validity: ValiditySettings = Field(
        default_factory=ValiditySettings,
        description="Thresholds of the rules that judge each step (runner.measure.validity).",
    )
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
        model = self.load.kind
        wanted = model.sweep_key
        if wanted is None:  # a search picks the levels: a sweep would be ignored, so refuse it
            given = [key for key, value in self.sweep if value is not None]
            if given:
                raise ValueError(
                    f"'sweep.{given[0]}' does not apply to the {model.name} load model, whose "
                    f"rates the search picks (load.capacity); remove it (on the command line: "
                    f"'~sweep.{given[0]}')"
                )
            return self
        for other in LOAD_MODELS.values():
            if other is model or other.sweep_key in (None, wanted):
                continue
            if getattr(self.sweep, other.sweep_key) is None:
                continue
            raise ValueError(
                f"'sweep.{other.sweep_key}' is for the {other.name} load model, but load.model is "
                f"'{model.name}', whose levels are {model.unit}: give 'sweep.{wanted}' instead "
                f"(on the command line: '~sweep.{other.sweep_key}' '+sweep.{wanted}.levels=[..]'), "
                f"or set load.model={other.name}"
            )
        if getattr(self.sweep, wanted) is None:
            raise ValueError(
                f"'sweep.{wanted}' is required: load.model is '{model.name}', whose levels are "
                f"{model.unit}"
            )
        return self

    @model_validator(mode="after")
    def _hosts_are_known(self) -> Experiment:
        check_hosts(self)  # runner.remote.settings
        return self

    def label(self, target_name: str) -> str:
        return self.targets[target_name].label or target_name

    def levels(self) -> list[int]:
        """The sweep levels, in the load model's unit (virtual users or requests per second).

        A capacity search has one: its start rate (the search picks the rest as it goes)."""
        key = self.load.kind.sweep_key
        if key is None:
            assert self.load.capacity is not None  # guaranteed by Load's validation
            return [self.load.capacity.start_rate]
        levels: LevelRange | None = getattr(self.sweep, key)
        assert levels is not None  # guaranteed by _sweep_matches_load_model
        return levels.values()


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
