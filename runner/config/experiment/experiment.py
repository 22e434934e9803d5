"""The whole experiment (`Experiment`): its parts, and the checks that span them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from runner.config.experiment.base import NAME, NAME_PATTERN, Strict
from runner.config.experiment.database import Database
from runner.config.experiment.hosts import Host, NamedHost, resolve, resolve_all
from runner.config.experiment.labels import target_label
from runner.config.experiment.load import Load
from runner.config.experiment.scenario import Scenario
from runner.config.experiment.schedule import AutoRepetitions, Retry
from runner.config.experiment.settings import Pinning, ReportSettings, RunnerSettings, Sampler
from runner.config.experiment.sweep import LevelRange, Sweep
from runner.config.experiment.targets import Target
from runner.config.experiment.validity import ValiditySettings
from runner.config.load_model import LOAD_MODELS

__all__ = ["Experiment", "k6_hosts", "server_host", "used_hosts"]


class Experiment(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    targets: dict[str, Target]
    sweep: Sweep = Field(
        description="The levels; empty (`sweep: {}`) under the capacity model, whose search "
        "picks the rates."
    )
    load: Load
    scenario: Scenario
    database: Database = Field(default_factory=Database)
    repetitions: Annotated[int, Field(ge=1, le=100)] | Literal["auto"] = Field(
        default=1,
        description="How many times each level is measured; 'auto': rounds until each level's "
        "verdict is settled (auto_repetitions).",
    )
    auto_repetitions: AutoRepetitions = Field(
        default_factory=AutoRepetitions,
        description="The rounds of `repetitions: auto`: least and most, budget, equivalence "
        "margin.",
    )
    retry: Retry = Field(
        default_factory=Retry,
        description="Steps invalid for a passing cause (interference, steal) measured again.",
    )
    allow_remote: bool = Field(
        default=False,
        description="Allow load to non-loopback addresses: `url` targets elsewhere, servers on "
        "other hosts (load leaves this machine).",
    )
    hosts: dict[str, Host] = Field(
        default_factory=dict,
        description="Machines reached over SSH, by name, for `targets.NAME.host` and "
        "`load.k6_host` (docs/remote.md).",
    )
    restart_between_repetitions: bool = Field(
        default=False,
        description="Start a fresh server for every repetition (cold state each time) instead "
        "of one server per target for all repetitions.",
    )
    order: Literal["auto", "sequential", "interleaved", "shuffled"] = Field(
        default="auto",
        description="Order of the steps: 'sequential' runs each target's steps in turn; "
        "'interleaved' keeps every target's server up and loads one at a time, level by level, "
        "targets in their order; 'shuffled' does so with the targets in a seeded random order "
        "at each level; 'auto' is interleaved with repetitions > 1, else sequential.",
    )
    order_seed: int = Field(default=0, description="Seed of the 'shuffled' order.")
    pinning: Pinning = Field(default_factory=Pinning)
    sampler: Sampler = Field(default_factory=Sampler)
    validity: ValiditySettings = Field(
        default_factory=ValiditySettings,
        description="Thresholds of the rules that judge each step (runner.measure.validity).",
    )
    report: ReportSettings = Field(default_factory=ReportSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)

    @field_validator("targets")
    @classmethod
    def _at_least_one_target(cls, value: dict[str, Target]) -> dict[str, Target]:
        if not value:
            raise ValueError("an experiment needs at least one target")
        for name in value:
            if not NAME.match(name):
                raise ValueError(
                    f"target name {name!r} may use only letters, digits, '_', '.', '-'"
                )
        return value

    @field_validator("repetitions", mode="before")
    @classmethod
    def _whole_number_or_auto(cls, value: object) -> object:
        # One message for both forms, not one per member of the union.
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ValueError("must be a valid integer (1 to 100) or 'auto'")

    @model_validator(mode="after")
    def _sweep_matches_load_model(self) -> Experiment:
        model = self.load.kind
        wanted = model.sweep_key
        if wanted is None:  # a search picks the levels: a sweep would be ignored, so refuse it
            given = [key for key, value in self.sweep if value is not None]
            if given:
                raise ValueError(
                    f"'sweep.{given[0]}' does not apply to the {model.name} load model, whose "
                    f"rates the search picks (load.capacity); remove it (on the command line: "
                    f"'~sweep.{given[0]}')"
                )
            return self
        for other in LOAD_MODELS.values():
            if other is model or other.sweep_key in (None, wanted):
                continue
            if getattr(self.sweep, other.sweep_key) is None:
                continue
            raise ValueError(
                f"'sweep.{other.sweep_key}' is for the {other.name} load model, but load.model is "
                f"'{model.name}', whose levels are {model.unit}: give 'sweep.{wanted}' instead "
                f"(on the command line: '~sweep.{other.sweep_key}' '+sweep.{wanted}.levels=[..]'), "
                f"or set load.model={other.name}"
            )
        if getattr(self.sweep, wanted) is None:
            raise ValueError(
                f"'sweep.{wanted}' is required: load.model is '{model.name}', whose levels are "
                f"{model.unit}"
            )
        return self

    @model_validator(mode="after")
    def _hosts_are_known(self) -> Experiment:
        check_hosts(self)
        return self

    @property
    def auto_rounds(self) -> bool:
        """`repetitions: auto`: rounds until each level's verdict is settled."""
        return self.repetitions == "auto"

    @property
    def most_repetitions(self) -> int:
        """The repetitions asked for, or the most rounds `repetitions: auto` may run."""
        return self.auto_repetitions.max if self.repetitions == "auto" else self.repetitions

    def label(self, target_name: str) -> str:
        """The target's name in the plan and every report (runner.config.experiment.labels)."""
        return target_label(target_name, self.targets[target_name])

    def levels(self) -> list[int]:
        """The sweep levels, in the load model's unit (virtual users or requests per second).

        A capacity search has one: its start rate (the search picks the rest as it goes)."""
        key = self.load.kind.sweep_key
        if key is None:
            assert self.load.capacity is not None  # guaranteed by Load's validation
            return [self.load.capacity.start_rate]
        levels: LevelRange | None = getattr(self.sweep, key)
        assert levels is not None  # guaranteed by _sweep_matches_load_model
        return levels.values()


def server_host(experiment: Experiment, target: str) -> NamedHost | None:
    """The host a target's server runs on; None: this machine (or a `url` target)."""
    return resolve(experiment.targets[target].host, experiment.hosts)


def k6_hosts(experiment: Experiment) -> list[NamedHost]:
    """The hosts k6 runs on, in order (instance n on the n-th); [] for this machine."""
    return resolve_all(experiment.load.k6_host, experiment.hosts)


def _check_k6_hosts(experiment: Experiment) -> None:
    hosts = [host.name for host in k6_hosts(experiment)]
    if hosts and experiment.load.k6_instances > 1:
        raise ValueError(
            f"'load.k6_instances' ({experiment.load.k6_instances}) splits the load over k6 "
            "processes on this machine; with 'load.k6_host' k6 runs as one instance per host: "
            "to split a step over several hosts, list them ('load.k6_host: [gen1, gen2]')"
        )
    repeated = sorted({name for name in hosts if hosts.count(name) > 1})
    if repeated:
        raise ValueError(
            f"'load.k6_host' lists {', '.join(repeated)} more than once: one k6 instance per "
            "host (for more k6 on one host, give it more cores)"
        )


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
    k6_refs = experiment.load.k6_host
    refs += [("load.k6_host", ref) for ref in (k6_refs if isinstance(k6_refs, list) else [k6_refs])]
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
    _check_k6_hosts(experiment)
    uses_hosts = experiment.load.k6_host is not None or any(
        t.host is not None for t in experiment.targets.values()
    )
    if uses_hosts and experiment.load.kind.searched:
        raise ValueError(
            f"the {experiment.load.model} load model runs on this machine only: leave "
            "'targets.NAME.host' and 'load.k6_host' unset"
        )
