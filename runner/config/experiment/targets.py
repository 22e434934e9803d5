"""One application under test and the server that runs it, or a running server's URL (`Target`)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from runner.config.experiment.base import STORED, Strict
from runner.config.experiment.hosts import HostRef
from runner.config.experiment.servers import SERVER_SETTINGS, SERVERS, ServerName, servers_taking

__all__ = ["GUNICORN_WORKER_CLASSES", "Target"]

_APP_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(\))?$")
_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
# gunicorn's own worker class names; anything else must be an import path.
GUNICORN_WORKER_CLASSES = ("sync", "gthread", "eventlet", "gevent", "tornado")
# The only target keys that mean something for a `url` target (the others describe a server
# the runner starts).
_URL_TARGET_KEYS = {"url", "label", "app_label"}


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
    label: str | None = Field(
        default=None,
        description="Display name in reports, written by hand: kept while it names the server "
        "(and gunicorn worker class, worker count) that runs, else shown with what ran beside it.",
    )
    app_label: str | None = Field(
        default=None,
        description="The application's name; unless `label` is given, the reports' label is "
        "derived from it and the server's settings: 'FastAPI (granian, asgi)'.",
    )
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

    @property
    def concurrency_bound(self) -> tuple[int, str] | None:
        """How many requests the server serves at once when each worker thread holds a request
        until it is answered (gunicorn sync: workers; gthread: workers x threads), and what sets
        that; None for servers without such a bound (async workers, an unknown worker class)."""
        if self.server != "gunicorn" or self.worker_class not in (None, "sync", "gthread"):
            return None
        kind = self.worker_class or "sync"
        threads = (self.threads or 1) if kind == "gthread" else 1
        workers = (
            f"the one {kind} worker" if self.workers == 1 else f"{self.workers} {kind} workers"
        )
        if threads > 1:
            workers += f" x {threads} threads"
        return self.workers * threads, workers

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
