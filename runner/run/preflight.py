"""Every check that starts nothing, shared by a run and a dry run so the two cannot drift.

A run makes these checks before any server, k6 load or run file; a dry run makes the same ones
and prints the plan. Each failure is bad input (exit status 2), one message naming the key.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config.experiment import Experiment
from runner.errors import TargetError, UserError
from runner.measure import k6
from runner.measure.ports import check_port_free
from runner.measure.server import check_importable
from runner.records.store import check_run_dir
from runner.run import database, safety
from runner.run.plan import Plan, build_plan

# The cores this process may use before a run pins it (a multirun runs several jobs in-process).
AVAILABLE_CPUS = frozenset(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Checked:
    """What the checks found, for the run to use."""

    plan: Plan
    k6_path: Path
    k6_version: str
    script: Path
    load_destinations: list[dict[str, Any]]
    # A fixed port taken now: the run records a start failure for that target (the port may be
    # freed by then); a dry run refuses it.
    busy_ports: list[str]


def check_pinning(experiment: Experiment) -> None:
    if not experiment.pinning.enabled:
        return
    available = AVAILABLE_CPUS
    for key in ("server_cpus", "client_cpus"):
        missing = sorted(set(getattr(experiment.pinning, key)) - available)
        if missing:
            raise UserError(
                f"'pinning.{key}' names CPU core(s) {missing} that this machine does not offer "
                f"(available: {sorted(available)}). Change the cores or set pinning.enabled=false."
            )


def busy_ports(experiment: Experiment) -> list[str]:
    """Why each fixed `port` that something already listens on cannot be used."""
    found = []
    for name, target in experiment.targets.items():
        if target.port is None or target.external or target.host is not None:
            continue  # a port on another host is checked there, when its server starts
        try:
            check_port_free(name, target.port)
        except TargetError as error:
            found.append(str(error))
    return found


def check_everything(experiment: Experiment, experiments_dir: Path, run_dir: Path) -> Checked:
    """k6 found and running, pinning, the plan, the script (`k6 inspect`), where load goes,
    every app and server module, the database DSN, fixed ports, the run directory writable
    with room: nothing is started, and nothing is left in the run directory."""
    k6_path = k6.find_k6()
    version = k6.k6_version(k6_path)
    check_pinning(experiment)
    plan = build_plan(experiment)
    script = k6.resolve_script(experiment.load, experiments_dir / "scripts")
    # A custom script must load in k6 and leave the scenarios to the runner.
    with tempfile.TemporaryDirectory(prefix="sweepbench-inspect-") as work_dir:
        k6.check_script(k6_path, script, experiment, plan.steps[0], Path(work_dir))
    destinations = safety.load_destinations(experiment)
    check_importable(experiment)
    database.check_dsn(experiment.database)
    check_run_dir(run_dir, experiment.runner.min_free_mib)
    return Checked(plan, k6_path, version, script, destinations, busy_ports(experiment))


def check_for_dry_run(experiment: Experiment, experiments_dir: Path, run_dir: Path) -> Plan:
    """The run's checks; what the run would record as a failure is refused here."""
    checked = check_everything(experiment, experiments_dir, run_dir)
    if checked.busy_ports:
        raise UserError(" ".join(checked.busy_ports))
    return checked.plan
