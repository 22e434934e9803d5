"""The report's words for where a run's servers and k6 ran, and each host's clock offset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.config.experiment import Host, k6_hosts, server_host
from runner.remote.clock import ClockOffset
from runner.remote.record import RemoteHost, RunHosts

if TYPE_CHECKING:
    from runner.config.experiment import Experiment

HERE = "this machine"


def hosts_text(hosts: RunHosts | None) -> str | None:
    """'server of api on bench1 (10.0.0.2, ...); k6 on this machine; clock offset of bench1:
    +0.4 ms, measured over 5 round trips of at best 0.2 ms'; None when all ran here."""
    if hosts is None or not hosts.used:
        return None
    by_name = {host.name: host for host in hosts.remote}
    parts = [
        f"server of {target} on {_where(host, by_name)}" for target, host in hosts.servers.items()
    ]
    parts += [f"k6 on {_where(host, by_name)}" for host in hosts.k6]
    parts += [_clock_text(host) for host in hosts.remote]
    return "; ".join(parts)


def _where(name: str | None, hosts: dict[str, RemoteHost]) -> str:
    host = hosts.get(name) if name is not None else None
    if host is None:
        return HERE
    facts = [host.address, f"ssh {host.ssh}"]
    if host.python:
        facts.append(f"Python {host.python}")
    if host.cores:
        facts.append(f"{host.cores} cores")
    return f"{host.name} ({', '.join(facts)})"


def _clock_text(host: RemoteHost) -> str:
    if host.clock is None:
        return f"clock offset of {host.name}: not measured"
    clock = host.clock
    return ClockOffset(clock.offset_ms / 1000, clock.round_trip_ms / 1000, clock.tries).describe(
        host.name
    )


def plan_hosts(experiment: Experiment) -> str:
    """'api on bench1 (ssh me@bench1, at 10.0.0.2); k6 on this machine', for a dry run."""
    parts = []
    for name, target in experiment.targets.items():
        if target.url is None:
            host = server_host(experiment, name)
            parts.append(f"{name} on {_planned(host.name, host.host) if host else HERE}")
    k6 = [_planned(host.name, host.host) for host in k6_hosts(experiment)]
    parts.append(f"k6 on {', '.join(k6) or HERE}")
    return "; ".join(parts)


def _planned(name: str, host: Host) -> str:
    return f"{name} (ssh {host.ssh}, at {host.listen_address})"
