"""Where a target's server and k6 run: the `hosts:` map, `targets.X.host` and `load.k6_host`.

A host is a machine reached with the user's own OpenSSH client (keys, agent, ~/.ssh/config).
A target or the load names a host of the top-level `hosts:` map, or describes one in place.
This module imports only the model's base, so runner.config.experiment can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, Field, ValidationError, field_validator

from runner.config.experiment.base import Strict

if TYPE_CHECKING:
    from runner.config.experiment import Experiment

# `host`, `user@host`, or an alias of the user's ssh config; never an option (leading '-').
_DESTINATION = re.compile(r"^(?!-)(?:[A-Za-z0-9_.+-]+@)?[A-Za-z0-9_.:\[\]-]+$")
_ADDRESS = re.compile(r"^[A-Za-z0-9_.:-]+$")


class Host(Strict):
    """A machine reached over SSH that runs a target's server or k6 (docs/remote.md)."""

    ssh: str = Field(
        description="Where ssh connects: 'host', 'user@host', or a Host alias of your ssh config "
        "(keys and options come from there: the runner never asks for a password)."
    )
    address: str | None = Field(
        default=None,
        description="The address the server listens on and the load is sent to (default: the "
        "host name of `ssh`); set it when `ssh` is an alias or the bench network differs.",
    )
    python: str = Field(
        default="python3",
        description="The Python on that host with sweepbench installed (e.g. a venv's python).",
    )
    workdir: str | None = Field(
        default=None,
        description="Directory the remote agent starts in (default: the login directory).",
    )
    ssh_options: list[str] = Field(
        default_factory=list,
        description="More ssh arguments, e.g. ['-p', '2222'] or ['-F', 'bench_ssh_config']; "
        "'-o BatchMode=yes' is always given.",
    )

    @field_validator("ssh")
    @classmethod
    def _is_destination(cls, value: str) -> str:
        if not _DESTINATION.match(value):
            raise ValueError(
                f"{value!r} is not an ssh destination such as 'bench1' or 'user@10.0.0.2'"
            )
        return value

    @field_validator("address")
    @classmethod
    def _is_address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError(f"{value!r} is not a host name or IP address such as '10.0.0.2'")
        return value

    @property
    def listen_address(self) -> str:
        """Where the server listens and k6 connects: `address`, else the destination's host."""
        if self.address is not None:
            return self.address
        return self.ssh.rsplit("@", 1)[-1].strip("[]")

    @property
    def address_url(self) -> str:
        """`http://ADDRESS`, the address bracketed when it is an IPv6 literal."""
        address = self.listen_address
        return f"http://[{address}]" if ":" in address else f"http://{address}"


def _host_or_name(value: object) -> object:
    """A host given in place is validated here, so that its errors name its own keys instead
    of listing every way the value failed to be either a name or a host."""
    if value is None or isinstance(value, str | Host):
        return value
    if not isinstance(value, dict):
        raise ValueError("give the name of a host of 'hosts', or a host such as {ssh: user@host}")
    try:
        return Host.model_validate(value)
    except ValidationError as error:
        raise ValueError(f"not a host: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"'{key}' is not a known key")
        elif item["type"] == "missing":
            problems.append(f"'{key}' is required")
        else:
            problems.append(f"'{key}': {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


# A host of the `hosts:` map by its name, or one described in place.
HostRef = Annotated[str | Host, BeforeValidator(_host_or_name)]


@dataclass(frozen=True)
class NamedHost:
    """A resolved host: its name (the `hosts:` key, or the destination of one given in place)."""

    name: str
    host: Host


def resolve(ref: HostRef | None, hosts: dict[str, Host]) -> NamedHost | None:
    """The host a reference stands for; None for this machine. Names are checked by the model."""
    if ref is None:
        return None
    if isinstance(ref, Host):
        return NamedHost(ref.ssh, ref)
    return NamedHost(ref, hosts[ref])


def server_host(experiment: Experiment, target: str) -> NamedHost | None:
    """The host a target's server runs on; None: this machine (or a `url` target)."""
    return resolve(experiment.targets[target].host, experiment.hosts)


def k6_hosts(experiment: Experiment) -> list[NamedHost]:
    """The hosts k6 runs on; [] for this machine. A list, so that load split over several
    hosts fits later."""
    found = resolve(experiment.load.k6_host, experiment.hosts)
    return [found] if found is not None else []


def used_hosts(experiment: Experiment) -> list[NamedHost]:
    """Every host the experiment uses, each once, servers' hosts first."""
    found: dict[str, NamedHost] = {}
    for target in experiment.targets:
        host = server_host(experiment, target)
        if host is not None:
            found.setdefault(host.name, host)
    for host in k6_hosts(experiment):
        found.setdefault(host.name, host)
    return list(found.values())


def check_hosts(experiment: Experiment) -> None:
    """Host names exist; k6 elsewhere loads only servers it can reach; no capacity search.

    Raises ValueError with a message naming the keys (the model's one-paragraph errors).
    """
    refs = [(f"targets.{name}.host", t.host) for name, t in experiment.targets.items()]
    refs.append(("load.k6_host", experiment.load.k6_host))
    for key, ref in refs:
        if isinstance(ref, str) and ref not in experiment.hosts:
            defined = ", ".join(sorted(experiment.hosts)) or "none"
            raise ValueError(
                f"'{key}' names the host '{ref}', which 'hosts' does not define (defined: "
                f"{defined}); add 'hosts.{ref}.ssh' or describe the host in place"
            )
    if experiment.load.k6_host is not None:
        local = [n for n, t in experiment.targets.items() if t.host is None and t.url is None]
        if local:
            raise ValueError(
                f"'load.k6_host' runs k6 on another host, but target(s) {', '.join(local)} "
                "would run on this machine's loopback, out of its reach: give each a "
                "'targets.NAME.host' (or leave 'load.k6_host' unset)"
            )
    if experiment.load.k6_host is not None and experiment.load.k6_instances > 1:
        raise ValueError(
            f"'load.k6_instances' ({experiment.load.k6_instances}) splits the load over k6 "
            "processes on this machine; with 'load.k6_host' k6 runs as one instance on that "
            "host (several k6 hosts are not supported yet): set one of them"
        )
    uses_hosts = experiment.load.k6_host is not None or any(
        t.host is not None for t in experiment.targets.values()
    )
    if uses_hosts and experiment.load.kind.searched:
        raise ValueError(
            f"the {experiment.load.model} load model runs on this machine only: leave "
            "'targets.NAME.host' and 'load.k6_host' unset"
        )
