"""The remote hosts of a run: one agent session each, opened (and its clock offset measured)
before the first server starts, closed after the last one stopped."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType

from runner.config.experiment import (
    Experiment,
    NamedHost,
    Request,
    k6_hosts,
    server_host,
    used_hosts,
)
from runner.errors import UserError
from runner.remote.load import Placement
from runner.remote.record import HostClock, RemoteHost, RunHosts
from runner.remote.script import k6_archive
from runner.remote.server import RemoteServer, remote_server
from runner.remote.session import AgentSession, RemoteError, agent_command
from runner.run.plan import Step

# Characters a host's name may hold that have no place in a file name.
_UNSAFE = re.compile(r"[^\w.-]")


class RemoteHosts:
    """The sessions with the experiment's hosts (none when everything runs here)."""

    def __init__(
        self,
        experiment: Experiment,
        log_dir: Path,
        k6_path: Path,
        script: Path,
        first_step: Step,
        notify: Callable[[str], None],
    ) -> None:
        self.experiment = experiment
        self._log_dir = log_dir
        self._k6 = (k6_path, script, first_step)
        self._notify = notify
        self.sessions: dict[str, AgentSession] = {}

    def __enter__(self) -> RemoteHosts:
        try:
            for host in used_hosts(self.experiment):
                self._open(host)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self, host: NamedHost) -> None:
        log_path = self._log_dir / f"ssh-{_UNSAFE.sub('_', host.name)}.log"
        session = AgentSession(host.name, agent_command(host.host), log_path)
        self.sessions[host.name] = session
        try:
            session.greet()
            if host.name in {h.name for h in k6_hosts(self.experiment)}:
                k6_path, script, step = self._k6
                archive = k6_archive(k6_path, script, self.experiment, step)
                session.call("script", data=base64.b64encode(archive).decode())
        except RemoteError as error:
            raise UserError(
                f"Cannot use the host '{host.name}' (ssh {host.host.ssh}): {error}. Check that "
                "`ssh -o BatchMode=yes` reaches it with your keys and that sweepbench is installed "
                f"for {host.host.python} there (docs/remote.md)."
            ) from None
        self._notify(
            f"Host {host.name}: agent pid {session.facts.get('pid')}, Python "
            f"{session.facts.get('python')}; {session.offset.describe(host.name)}."
        )

    def close(self) -> None:
        for session in reversed(list(self.sessions.values())):
            session.close()

    def server(
        self,
        name: str,
        log_dir: Path,
        cpus: list[int] | None,
        checks: Sequence[Request],
        env: Mapping[str, str],
    ) -> AbstractContextManager[RemoteServer]:
        """The target's server on its host (the target must have one)."""
        host = server_host(self.experiment, name)
        assert host is not None
        runner = self.experiment.runner
        target = self.experiment.targets[name]
        session = self.sessions[host.name]
        return remote_server(
            name,
            target,
            host,
            session,
            log_dir,
            cpus,
            checks,
            runner.startup_timeout,
            runner.stop_grace,
            env,
        )

    def runs_here(self, target: str) -> bool:
        return server_host(self.experiment, target) is None

    def placement(self, target: str) -> Placement | None:
        """How a step of `target` runs its load; None when its server and k6 both run here."""
        hosts = k6_hosts(self.experiment)
        if not hosts and self.runs_here(target):
            return None
        return Placement([self.sessions[host.name] for host in hosts])

    def record(self) -> RunHosts:
        """Where each started server and k6 ran, and every host with its clock offset."""
        experiment = self.experiment
        servers: dict[str, str | None] = {}
        roles: dict[str, list[str]] = {}
        for name, target in experiment.targets.items():
            if target.url is not None:
                continue
            host = server_host(experiment, name)
            servers[name] = host.name if host else None
            if host:
                roles.setdefault(host.name, []).append(f"server of {name}")
        k6 = [host.name for host in k6_hosts(experiment)]
        for host_name in k6:
            roles.setdefault(host_name, []).append("k6")
        hosts = {host.name: host for host in used_hosts(experiment)}
        remote = [
            _remote_record(hosts[name], roles.get(name, []), session)
            for name, session in self.sessions.items()
        ]
        k6_where: list[str | None] = [*k6] or [None]
        return RunHosts(servers=servers, k6=k6_where, remote=remote)


def _remote_record(host: NamedHost, roles: list[str], session: AgentSession) -> RemoteHost:
    facts, clock = session.facts, session.offset
    return RemoteHost(
        name=host.name,
        ssh=host.host.ssh,
        address=host.host.listen_address,
        roles=roles,
        hostname=facts.get("hostname"),
        python=facts.get("python"),
        cpu_model=facts.get("cpu_model"),
        cores=facts.get("cores"),
        clock=HostClock(
            offset_ms=round(clock.offset_s * 1000, 3),
            round_trip_ms=round(clock.round_trip_s * 1000, 3),
            tries=clock.tries,
        )
        if clock.tries
        else None,
    )
