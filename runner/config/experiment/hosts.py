"""The machines a target's server and k6 may run on: `hosts:`, `targets.X.host`, `load.k6_host`.

A host is a machine reached with the user's own OpenSSH client (keys, agent, ~/.ssh/config).
A target or the load names a host of the top-level `hosts:` map, or describes one in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError, field_validator

from runner.config.experiment.base import Strict

__all__ = ["Host", "HostRef", "HostRefs", "NamedHost", "resolve", "resolve_all"]

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


def _hosts_or_name(value: object) -> object:
    """One host, or a list of them (`load.k6_host: [gen1, gen2]`), each checked as one."""
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError("give at least one host, or leave it unset for this machine")
        return [_host_or_name(item) for item in value]
    return _host_or_name(value)


# One host, or several (k6 split over them, one execution segment each).
HostRefs = Annotated[str | Host | list[str | Host], BeforeValidator(_hosts_or_name)]


@dataclass(frozen=True)
class NamedHost:
    """A resolved host: its name (the `hosts:` key, or the destination of one given in place)."""

    name: str
    host: Host


def resolve_all(refs: HostRefs | None, hosts: dict[str, Host]) -> list[NamedHost]:
    """The hosts one reference or a list of them stands for; [] for this machine."""
    listed = refs if isinstance(refs, list) else [refs]
    return [found for ref in listed if (found := resolve(ref, hosts)) is not None]


def resolve(ref: HostRef | None, hosts: dict[str, Host]) -> NamedHost | None:
    """The host a reference stands for; None for this machine. Names are checked by the model."""
    if ref is None:
        return None
    if isinstance(ref, Host):
        return NamedHost(ref.ssh, ref)
    return NamedHost(ref, hosts[ref])
