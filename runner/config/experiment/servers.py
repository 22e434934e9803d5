"""The server kinds a target may name (`targets.X.server`) and the settings each one takes.

A server kind is the module `python -m` runs (also the package the import probe looks for and
the one a user installs). This is data only: the command line each kind is started with is built
in runner.measure.server.command. To support another server, add its name to ServerName, its
ServerKind here and its argument builder there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["SERVERS", "SERVER_SETTINGS", "ServerKind", "ServerName", "servers_taking"]

ServerName = Literal["uvicorn", "gunicorn", "granian", "hypercorn", "daphne"]
# Target keys that become server flags; each kind lists the ones it accepts.
SERVER_SETTINGS = ("threads", "worker_class", "loop", "http", "keep_alive", "interface")


@dataclass(frozen=True)
class ServerKind:
    """Which target settings reach one server's command line, and what it needs."""

    settings: frozenset[str]
    multiple_workers: bool = True
    # Appended to the error naming a setting this server does not take.
    hint: str = ""
    # Target keys this server cannot run without.
    required: tuple[str, ...] = ()


SERVERS: dict[ServerName, ServerKind] = {
    "uvicorn": ServerKind(frozenset({"loop", "http", "keep_alive"})),
    "gunicorn": ServerKind(
        frozenset({"threads", "worker_class", "keep_alive"}),
        hint="under gunicorn the worker class decides (uvicorn_worker.UvicornWorker: auto loop "
        "and http, uvicorn_worker.UvicornH11Worker: asyncio and h11)",
    ),
    "granian": ServerKind(frozenset({"interface", "loop"}), required=("interface",)),
    "hypercorn": ServerKind(frozenset({"keep_alive"})),
    "daphne": ServerKind(frozenset(), multiple_workers=False),
}
if set(SERVERS) != set(get_args(ServerName)):  # the Literal is the table's keys, spelled out
    raise RuntimeError(
        "runner.config.experiment.servers: ServerName and SERVERS name different servers"
    )


def servers_taking(setting: str) -> list[str]:
    """The server kinds whose command line a target setting reaches."""
    return [name for name, kind in SERVERS.items() if setting in kind.settings]
