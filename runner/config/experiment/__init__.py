"""The experiment model: what a composed Hydra config must look like before anything starts.

One module per part of the experiment; every public name is importable from here. Unknown keys
are errors everywhere (`extra="forbid"`), so a typo never silently falls back to a default.
"""

from __future__ import annotations

from runner.config.experiment.base import STORED, parse_duration
from runner.config.experiment.capacity import CapacitySettings
from runner.config.experiment.database import Database
from runner.config.experiment.experiment import Experiment, k6_hosts, server_host, used_hosts
from runner.config.experiment.hosts import Host, HostRef, NamedHost
from runner.config.experiment.load import Load
from runner.config.experiment.scenario import Expect, Request, Scenario
from runner.config.experiment.schedule import AutoRepetitions, Retry
from runner.config.experiment.servers import ServerName
from runner.config.experiment.settings import (
    INVOCATION_KEYS,
    Pinning,
    ReportSettings,
    RunnerSettings,
    Sampler,
)
from runner.config.experiment.sweep import LevelRange, Sweep
from runner.config.experiment.targets import Target
from runner.config.experiment.validation import (
    Origin,
    describe_validation_error,
    stored_experiment,
    validate_experiment,
)
from runner.config.experiment.validity import ValiditySettings

__all__ = [
    "INVOCATION_KEYS",
    "STORED",
    "AutoRepetitions",
    "CapacitySettings",
    "Database",
    "Expect",
    "Experiment",
    "Host",
    "HostRef",
    "LevelRange",
    "Load",
    "NamedHost",
    "Origin",
    "Pinning",
    "ReportSettings",
    "Request",
    "Retry",
    "RunnerSettings",
    "Sampler",
    "Scenario",
    "ServerName",
    "Sweep",
    "Target",
    "ValiditySettings",
    "describe_validation_error",
    "k6_hosts",
    "parse_duration",
    "server_host",
    "stored_experiment",
    "used_hosts",
    "validate_experiment",
]
