"""Where load may go: loopback only, unless the experiment says `allow_remote: true`.

Targets the runner starts here always listen on 127.0.0.1; one started on another host
(`targets.X.host`, runner.remote) listens on that host's address. A `url` target points at a
server that is already running. Their hosts are resolved before anything starts, and a host that
is not a loopback address (or that resolves to any address that is not) is refused unless the
experiment allows remote load. What was decided is recorded in the run's provenance and shown in the report.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from typing import Any

from runner.config.experiment import Experiment, server_host
from runner.errors import UserError
from runner.measure.ports import HOST
from runner.records.redact import redact_text


def resolve(host: str) -> list[str]:
    """The addresses a host name stands for (an IP literal stands for itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise UserError(f"Cannot resolve the host '{host}' of a target URL: {error}.") from None
    return sorted({str(info[4][0]) for info in infos})


def is_loopback(addresses: list[str]) -> bool:
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def destination(name: str, url: str) -> dict[str, Any]:
    host = urllib.parse.urlsplit(url).hostname or ""
    addresses = resolve(host)
    return {
        "target": name,
        "url": redact_text(url),
        "host": host,
        "addresses": addresses,
        "loopback": is_loopback(addresses),
        "started_by_runner": False,
    }


def load_destinations(experiment: Experiment) -> list[dict[str, Any]]:
    """Where each target's load goes; refuses non-loopback hosts unless `allow_remote: true`.

    Runs before anything starts, so a refused target means nothing was started.
    """
    destinations = []
    for name, target in experiment.targets.items():
        host = server_host(experiment, name)
        if host is not None:
            destinations.append(_remote_server(experiment, name, host.name, host.host.address_url))
            continue
        if target.url is None:
            destinations.append(
                {
                    "target": name,
                    "url": None,
                    "host": HOST,
                    "addresses": [HOST],
                    "loopback": True,
                    "started_by_runner": True,
                }
            )
            continue
        found = destination(name, target.url)
        if not found["loopback"] and not experiment.allow_remote:
            raise UserError(
                f"'targets.{name}.url' ({found['url']}) points at {found['host']} "
                f"({', '.join(found['addresses'])}), which is not a loopback address. sweepbench "
                "sends load only to this machine unless the experiment says "
                "`allow_remote: true`; set it only for a server you are allowed to load."
            )
        destinations.append(found)
    return destinations


def _remote_server(experiment: Experiment, name: str, host: str, url: str) -> dict[str, Any]:
    """A server the runner starts on another host: the load goes to that host's address."""
    found = {**destination(name, url), "started_by_runner": True}
    if not found["loopback"] and not experiment.allow_remote:
        raise UserError(
            f"'targets.{name}.host' runs the server on {host}, at {found['host']} "
            f"({', '.join(found['addresses'])}), which is not a loopback address. sweepbench "
            "sends load only to this machine unless the experiment says `allow_remote: true`; "
            "set it only for hosts you are allowed to load."
        )
    return found
