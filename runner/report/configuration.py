"""What ran: the configuration facts and the targets table, from the stored experiment and
provenance."""

from __future__ import annotations

from runner.analysis import formatting as fmt
from runner.config.experiment import Experiment, LevelRange, Target, k6_hosts
from runner.records.results import Machine, Provenance, RunRecord
from runner.remote.describe import hosts_text
from runner.report.attempts import attempts_text
from runner.report.capacity import capacity_facts
from runner.report.platform import platform_rows
from runner.report.tables import CellValue, Table

FACTS_HEADER = ["Setting", "Value"]


def configuration_facts(record: RunRecord) -> Table:
    """(name, value) rows describing what ran; the writers show them as a list."""
    experiment = record.experiment
    load = experiment.load
    model = load.kind
    if model.searched:
        return Table(FACTS_HEADER, _capacity_rows(record))
    sweep: LevelRange | None = getattr(experiment.sweep, model.sweep_key or "")
    levels = experiment.levels()
    spacing = f"{fmt.count(sweep.step)} apart" if sweep is not None and sweep.step else "as listed"
    unit, kind = model.unit, model.level_kind
    planned = len(levels) * len(experiment.targets) * experiment.most_repetitions
    up_to = "up to " if experiment.auto_rounds else ""
    plural = "s" if len(levels) != 1 else ""
    rows: list[list[CellValue]] = [
        *_what_ran(record),
        [f"{kind} range", f"{fmt.count(min(levels))} to {fmt.count(max(levels))} {unit}"],
        [
            f"{kind} levels",
            f"{fmt.number_list(levels)} {unit} ({len(levels)} level{plural}, {spacing})",
        ],
        [
            "Measured duration",
            f"{load.duration} per step, after a {load.warmup} warmup that is not counted",
        ],
        ["Repetitions", _repetitions_text(record)],
        [
            "Steps",
            f"{up_to}{fmt.count(planned)} planned, {fmt.count(len(record.steps))} measured, "
            f"{fmt.count(len(record.failures))} failure(s) recorded",
        ],
        *_where_it_ran(record),
    ]
    return Table(FACTS_HEADER, rows)


def _repetitions_text(record: RunRecord) -> str:
    experiment = record.experiment
    if not experiment.auto_rounds:
        return f"{experiment.repetitions} per level"
    auto = experiment.auto_repetitions
    return (
        f"auto: {auto.min} to {auto.max} rounds per level within {auto.budget}, until the "
        f"level's verdict is settled (equivalence margin {fmt.setting_percent(auto.margin)})"
    )


def _what_ran(record: RunRecord) -> list[list[CellValue]]:
    experiment = record.experiment
    return [
        ["Load model", experiment.load.kind.description],
        ["Scenario", _scenario_text(experiment)],
    ]


def _where_it_ran(record: RunRecord) -> list[list[CellValue]]:
    experiment, prov = record.experiment, record.provenance
    hosts = hosts_text(prov.hosts)  # only when something ran on another host
    rows: list[list[CellValue]] = [
        ["CPU pinning", _pinning_text(experiment)],
        *_split_rows(experiment),
        ["Load destinations", _destinations(prov)],
        ["Machine", _machine_text(prov.machine or Machine())],
        *platform_rows(record),
        ["Software", _software_text(prov)],
        ["Experiment commit", _commit_text(prov)],
        ["Command", prov.command],
        ["Run", f"{fmt.timestamp(prov.started_at)} to {fmt.timestamp(prov.ended_at)}"],
    ]
    if hosts is not None:
        rows.insert(2, ["Hosts", hosts])
    attempts = attempts_text(record)
    if attempts is not None:
        rows.append(["Attempts", attempts])
    return rows


def _capacity_rows(record: RunRecord) -> list[list[CellValue]]:
    """A capacity run: the objective, search, trials and budget instead of sweep levels."""
    trials = len(record.capacity.trials) if record.capacity else 0
    done = f"{trials} trial(s) run, {len(record.failures)} failure(s) recorded"
    return [
        *_what_ran(record),
        *capacity_facts(record.experiment),
        ["Trials run", done],
        *_where_it_ran(record),
    ]


def _scenario_text(experiment: Experiment) -> str:
    scenario = experiment.scenario
    script = experiment.load.script
    sent = f"custom k6 script {script}" if script else scenario.describe()
    return f"{scenario.name}: {sent}; database: {experiment.database.engine}"


def _pinning_text(experiment: Experiment) -> str:
    pinning = experiment.pinning
    if not pinning.enabled:
        return "off"
    return f"server on core(s) {pinning.server_cpus}, k6 on core(s) {pinning.client_cpus}"


def _split_rows(experiment: Experiment) -> list[list[CellValue]]:
    """How each step's load was split over k6 processes; nothing for the usual one k6."""
    model, instances = experiment.load.kind, experiment.load.k6_instances
    hosts = [host.name for host in k6_hosts(experiment)]
    instances = len(hosts) if len(hosts) > 1 else instances
    if instances == 1:
        return []
    share = "arrival rate" if model.fixed_rate else "virtual users"
    cores = (
        f"core(s) {experiment.pinning.client_cpus}" if experiment.pinning.enabled else "any core"
    )
    where = f"one on each of {', '.join(hosts)}" if len(hosts) > 1 else f"side by side on {cores}"
    return [
        [
            "k6 instances",
            f"{instances} k6 processes per step, {where}, each running 1/"
            f"{instances} of the {share} (k6 execution segments); counts and rates summed, "
            "latency percentiles computed from their pooled raw samples of the measured window",
        ]
    ]


def _machine_text(machine: Machine) -> str:
    host = f"host {machine.hostname}: " if machine.hostname else ""
    return (
        f"{host}{machine.cpu_model}, {machine.logical_cores} logical cores, "
        f"{machine.memory_gib} GiB, {machine.os}"
    )


def _software_text(prov: Provenance) -> str:
    software = ", ".join(f"{name} {version}" for name, version in prov.packages.items() if version)
    return f"Python {prov.python}, {prov.k6}, {software}"


def _commit_text(prov: Provenance) -> str:
    git = prov.git
    commit = (git.commit if git else None) or "not a git checkout"
    return commit + (" (with uncommitted changes)" if git and git.dirty else "")


def _destinations(prov: Provenance) -> str:
    """Where the load went, as decided and recorded before the first step (runner.run.safety)."""
    destinations = prov.load_destinations
    remote = [d for d in destinations if not d.loopback]
    external = [d for d in destinations if d.loopback and not d.started_by_runner]
    text = "loopback only (this machine)"
    if remote:
        text = "remote hosts, allowed by allow_remote: true: " + ", ".join(
            f"{d.target} at {d.url} ({', '.join(d.addresses)})" for d in remote
        )
    if external:
        text += "; already-running servers: " + ", ".join(
            f"{d.target} at {d.url}" for d in external
        )
    return text


TARGET_HEADER = ["target", "app", "server", "workers", "worker class", "threads", "settings"]


def targets_table(record: RunRecord) -> Table:
    experiment = record.experiment
    rows = [_target_row(experiment.label(name), t) for name, t in experiment.targets.items()]
    return Table(TARGET_HEADER, rows)


def _target_row(label: str, target: Target) -> list[CellValue]:
    if target.url is not None:
        cells: list[CellValue] = [
            label,
            f"{target.url} (already running)",
            "not started by sweepbench",
        ]
        return cells + ["-"] * (len(TARGET_HEADER) - len(cells))
    return [
        label,
        target.app,
        target.server,
        str(target.workers),
        target.worker_class or "default",
        str(target.threads or "-"),
        _server_settings(target),
    ]


def _server_settings(target: Target) -> str:
    """The settings given beyond workers and threads; the rest are the server's defaults."""
    given = [
        f"loop {target.loop}" if target.loop else "",
        f"http {target.http}" if target.http else "",
        f"keep-alive {target.keep_alive} s" if target.keep_alive is not None else "",
        " ".join(target.extra_args),
    ]
    return ", ".join(filter(None, given)) or "server defaults"
