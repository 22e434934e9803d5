"""A target's server on another host: started there by the agent, checked from here over the
network as any server is (runner.measure.server.session.check_answers), stopped for good on exit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.config.experiment import NamedHost, Request, Target
from runner.errors import TargetError
from runner.measure import launch
from runner.measure.server.handles import LOG_TAIL_LINES
from runner.measure.server.session import check_answers
from runner.records.redact import redact_file, redact_text
from runner.remote.session import AgentSession, RemoteError


@dataclass
class RemoteServer:
    """A server the runner started on another host through that host's agent.

    `pid` is None: it names a process of this machine (the local sampler's root). The server's
    own pid on its host is `remote_pid`; the agent samples its tree there.
    """

    name: str
    host: NamedHost
    session: AgentSession
    port: int
    remote_pid: int
    cores: int
    command: list[str]
    log_path: Path
    pid: None = None

    @property
    def base_url(self) -> str:
        return f"{self.host.host.address_url}:{self.port}"

    def alive(self) -> bool:
        return self.session.open and self.name not in self.session.exited

    def exit_description(self) -> str:
        if self.name in self.session.exited:
            return f"{launch.describe_exit(self.session.exited[self.name])} on {self.host.name}"
        if not self.session.open:
            return (
                f"lost with its host: {self.session.ended_text()}; the host's agent stops the "
                "server by itself"
            )
        return "still running"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            reply = self.session.call("log_tail", target=self.name, lines=lines)
        except RemoteError:
            return ""
        return redact_text(str(reply.get("text", "")))


@contextmanager
def remote_server(
    name: str,
    target: Target,
    host: NamedHost,
    session: AgentSession,
    log_dir: Path,
    cpus: list[int] | None,
    checks: Sequence[Request],
    startup_timeout_s: float,
    stop_grace_s: float,
    env: Mapping[str, str] | None = None,
) -> Iterator[RemoteServer]:
    """A server started on `host` that answered every check from here; stopped on exit, its log
    copied to `log_dir` (as a local server's is kept there)."""
    try:
        started = session.call(
            "start",
            target=name,
            spec=target.model_dump(mode="json", by_alias=True),
            address=host.host.listen_address,
            port=target.port,
            cpus=cpus,
            env=dict(env or {}),
        )
    except RemoteError as error:
        raise TargetError(f"Target '{name}' cannot start on {host.name}: {error}.") from None
    log_dir.mkdir(parents=True, exist_ok=True)
    server = RemoteServer(
        name,
        host,
        session,
        int(started["port"]),
        int(started["pid"]),
        int(started["cores"]),
        [str(part) for part in started["command"]],
        log_dir / f"{name}.log",
    )
    try:
        check_answers(server, checks, startup_timeout_s)
        yield server
    finally:
        _stop(server, stop_grace_s)


def _stop(server: RemoteServer, grace_s: float) -> None:
    """Stop the server and keep its log here; a session already gone took the server along."""
    if not server.session.open:
        return
    try:
        stopped = server.session.call("stop", target=server.name, grace_s=grace_s)
    except RemoteError:
        return
    server.log_path.write_text(str(stopped.get("log", "")))
    redact_file(server.log_path)
