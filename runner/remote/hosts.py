"""The remote hosts of a run: one agent session each, opened (and its clock offset measured)
before the first server starts, closed after the last one stopped."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.config.experiment import (
    Experiment,
    NamedHost,
    Request,
    k6_hosts,
    server_host,
    used_hosts,
)
from runner.errors import UserError
from runner.records.package_probe import PROBE_TIMEOUT_S
from runner.records.provenance import packages_of
from runner.remote.load import Placement
from runner.remote.record import HostClock, RemoteHost, RunHosts
from runner.remote.script import k6_archive
from runner.remote.server import RemoteServer, remote_server
from runner.remote.session import CALL_TIMEOUT_S, AgentSession, RemoteError, agent_command
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
            check_pinning_there(self.experiment, host, session.facts)
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

    def target_packages(self) -> dict[str, dict[str, str | None]]:
        """Per target, the distributions its server and app load, probed where it runs: on
        this machine, or by its host's agent."""
        experiment = self.experiment
        here = {name: t for name, t in experiment.targets.items() if self.runs_here(name)}
        found = packages_of(here)
        for host in used_hosts(experiment):
            served = {
                name: target.model_dump(mode="json", by_alias=True)
                for name, target in experiment.targets.items()
                if server_host(experiment, name) == host
            }
            if not served:
                continue
            try:
                reply = self.sessions[host.name].call(
                    "packages", wait_s=PROBE_TIMEOUT_S + CALL_TIMEOUT_S, targets=served
                )
            except RemoteError:
                continue  # the host is gone: its targets fail when they start
            found.update(reply.get("packages") or {})
        return found

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


def check_pinning_there(experiment: Experiment, host: NamedHost, facts: Mapping[str, Any]) -> None:
    """The pinned cores of what runs on `host` (a server's, k6's) must be cores it offers."""
    pinning = experiment.pinning
    offered = facts.get("cpus")
    if not pinning.enabled or not isinstance(offered, list):
        return
    keys = []
    if any(server_host(experiment, name) == host for name in experiment.targets):
        keys.append("server_cpus")
    if host in k6_hosts(experiment):
        keys.append("client_cpus")
    for key in keys:
        missing = sorted(set(getattr(pinning, key)) - set(offered))
        if missing:
            raise UserError(
                f"'pinning.{key}' names CPU core(s) {missing} that the host '{host.name}' does "
                f"not offer (available there: {offered}). Change the cores or set "
                "pinning.enabled=false."
            )


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
