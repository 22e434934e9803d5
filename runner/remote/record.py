"""What a run record keeps of where things ran: each started server's host, k6's host, and
every remote host with the clock offset measured at the start of its session."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostClock(_Record):
    """The host's clock minus the runner's (runner.remote.clock)."""

    offset_ms: float
    round_trip_ms: float = Field(description="Shortest round trip of the readings: the bound.")
    tries: int


class RemoteHost(_Record):
    """A host reached over SSH, as its agent described itself."""

    name: str = Field(description="The `hosts:` key, or the destination of a host given in place.")
    ssh: str
    address: str = Field(description="Where its servers listened and the load was sent.")
    roles: list[str] = Field(description="'server of TARGET', 'k6'.")
    hostname: str | None = None
    python: str | None = None
    cpu_model: str | None = None
    cores: int | None = Field(default=None, description="Cores the agent could use there.")
    clock: HostClock | None = None


def _here() -> list[str | None]:
    return [None]


class RunHosts(_Record):
    """Where everything ran; null stands for the runner's own machine."""

    servers: dict[str, str | None] = Field(
        default_factory=dict, description="Per started target, the host its server ran on."
    )
    k6: list[str | None] = Field(default_factory=_here, description="The host(s) k6 ran on.")
    remote: list[RemoteHost] = Field(default_factory=list)

    @property
    def used(self) -> bool:
        """Anything ran elsewhere than the runner's machine."""
        return bool(self.remote)
