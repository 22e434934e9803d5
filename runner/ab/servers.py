"""The two sides of an A/B run: each app's server on the server cores (checked before any load)
and its paused k6 on the client cores; stopped, k6 first, on the way out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.ab.load import PausedK6, RateK6
from runner.ab.settings import APP_DIR_ARGS, AbSettings
from runner.config.experiment import Request, Target
from runner.errors import TargetError, UserError
from runner.measure.k6.binary import find_k6
from runner.measure.server.handles import RunningServer
from runner.measure.server.session import running_server

STARTUP_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class Side:
    name: str  # "baseline" or "candidate"
    app: str
    server: RunningServer
    k6: PausedK6

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    @property
    def k6_pid(self) -> int | None:
        """Its k6's pid; None between blocks under --rate (a k6 per block)."""
        return self.k6.process.pid if self.k6.process is not None else None


def target_for(settings: AbSettings, side: str) -> Target:
    app = settings.baseline if side == "baseline" else settings.candidate
    extra: list[str] = []
    if settings.app_dirs is not None:
        app_dir = settings.app_dirs[0 if side == "baseline" else 1]
        extra = [APP_DIR_ARGS[settings.server], str(app_dir)]
    try:
        return Target(app=app, server=settings.server, extra_args=extra)  # type: ignore[arg-type]
    except ValueError as error:
        raise UserError(f"--{side} {app!r}: {error}") from None


def requests_json(path: str) -> str:
    return json.dumps([{"name": path, "method": "GET", "path": path, "headers": {}, "body": None}])


def side_k6(
    settings: AbSettings, side: str, base_url: str, run_dir: Path, k6_path: Path
) -> PausedK6:
    """A paused k6 kept for the run (closed model), or a k6 per block at the rate (open)."""
    if settings.model == "open":
        block_run_s = settings.warmup_s + settings.block_s
        return RateK6(side, base_url, settings.level, run_dir, k6_path, block_run_s)
    return PausedK6(side, base_url, settings.level, run_dir, k6_path)


@contextmanager
def started_sides(
    settings: AbSettings, order: list[str], run_dir: Path
) -> Iterator[dict[str, Side]]:
    """Both servers started in `order` and checked, then both k6 started paused and ready."""
    checks = [Request(path=settings.path)]
    k6_path = find_k6()
    with ExitStack() as stack:
        servers = {}
        for side in order:
            target = target_for(settings, side)
            try:
                server = running_server(
                    side, target, run_dir / "servers", settings.server_cpus, checks,
                    STARTUP_TIMEOUT_S, STOP_GRACE_S,
                )  # fmt: skip
                servers[side] = stack.enter_context(server)
            except TargetError as error:
                raise UserError(
                    f"Refused: the {side} ({target.app}) does not answer the scenario's check "
                    f"(GET {settings.path}, status 200): {error.describe()}"
                ) from None
        sides = {}
        for side in order:
            k6 = side_k6(settings, side, servers[side].base_url, run_dir, k6_path)
            k6.start(requests_json(settings.path), settings.client_cpus)
            stack.callback(k6.stop)
            sides[side] = Side(side, target_for(settings, side).app or "", servers[side], k6)
        for started in sides.values():
            started.k6.wait_ready()
        yield sides
