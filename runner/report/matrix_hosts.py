"""The matrix report's hosts: where each job ran, and which jobs may be ranked together.

Jobs of a multirun launched on a cluster (hydra/launcher=submitit_slurm) may land on different
kinds of node. A faster job on a faster host says nothing about its configuration, so the report
marks each job with its kind of host (A, B, ...) when there is more than one kind, ranks jobs
within a kind only, and names no highest job across kinds unless every job's experiment says
`report.compare_across_hosts: true` (runner.records.host_kind has the rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from runner.analysis import Cell
from runner.analysis import formatting as fmt
from runner.analysis.verdicts import winner_at
from runner.config.experiment import ReportSettings
from runner.config.load_model import CLOSED
from runner.records.host_kind import (
    HostKind,
    cross_host_rule,
    group_kinds,
    host_name,
    kind_letter,
    kind_of,
)
from runner.records.results import RunRecord
from runner.report.tables import CellValue, Table


@dataclass(frozen=True)
class JobHost:
    """Where one job ran: the host's name and its kind's letter."""

    name: str
    kind: HostKind
    letter: str


@dataclass(frozen=True)
class Hosts:
    """Every job's host, the distinct kinds among them, and whether they may be ranked together."""

    jobs: list[JobHost]
    kinds: list[HostKind]
    allowed: bool

    @property
    def mixed(self) -> bool:
        return len(self.kinds) > 1

    def mark(self, index: int) -> str:
        """' [host A]' after a job's name when kinds differ; nothing when every job shares one."""
        return f" [host {self.jobs[index].letter}]" if self.mixed else ""

    @property
    def rule(self) -> str:
        return cross_host_rule(self.allowed)


def job_hosts(records: Sequence[RunRecord]) -> Hosts:
    machines = [r.provenance.machine for r in records]
    kinds = [kind_of(m) for m in machines]
    indices = group_kinds(kinds)
    distinct = [kinds[indices.index(i)] for i in range(max(indices, default=-1) + 1)]
    jobs = [
        JobHost(host_name(m), kind, kind_letter(i))
        for m, kind, i in zip(machines, kinds, indices, strict=True)
    ]
    allowed = all(r.experiment.report.compare_across_hosts for r in records)
    return Hosts(jobs, distinct, allowed)


def kinds_table(hosts: Hosts) -> Table:
    """One row per kind of host: its letter and what it is."""
    rows: list[list[CellValue]] = []
    for index, kind in enumerate(hosts.kinds):
        names = sorted({job.name for job in hosts.jobs if job.letter == kind_letter(index)})
        rows.append([kind_letter(index), kind.describe(), ", ".join(names)])
    return Table(["Kind of host", "CPU, cores, memory", "Hosts"], rows)


def hosts_summary(hosts: Hosts) -> str:
    if not hosts.mixed:
        kind = hosts.kinds[0].describe() if hosts.kinds else "unknown"
        return f"Every job ran on one kind of host: {kind}."
    return (
        f"The jobs ran on {len(hosts.kinds)} kinds of host, marked [host A], [host B], ... "
        "after each job's name."
    )


@dataclass(frozen=True)
class Peak:
    settings: str  # the job's name in the report
    letter: str  # its kind of host
    cell: Cell  # its best cell of the target (a floor when a floor is its best figure)

    def named(self, name: str) -> Peak:
        return replace(self, settings=name, cell=replace(self.cell, target=name, label=name))


def _listing(peaks: list[Peak]) -> str:
    ranked = sorted(peaks, key=lambda p: p.cell.ok_rps.median, reverse=True)
    return ", ".join(
        f"{p.settings}: {'≥ ' if p.cell.floor else ''}{fmt.rps(p.cell.ok_rps.median)} RPS"
        for p in ranked
    )


def _highest(peaks: list[Peak], settings: ReportSettings, outside: bool = False) -> str:
    """The highest job by the Summary's winner rule (censored floors, significance, one run
    provisional), or why none is named."""
    exact = [p.cell for p in peaks if not p.cell.floor]
    floors = [p.cell for p in peaks if p.cell.floor]
    verdict = winner_at(0, exact, settings, CLOSED, floors)
    if verdict.target is not None:
        return f"{'Highest' if outside else 'highest'}: {verdict.text}"
    return f"{'No highest job' if outside else 'no highest job'}: {verdict.text}"


def ranking_sentence(
    label: str, peaks: list[Peak], hosts: Hosts, settings: ReportSettings | None = None
) -> str:
    """Each job's peak successful throughput, ranked; the highest named within a kind of host
    (or across them, when the experiments allow it and say so), by the winner rule."""
    settings = settings or ReportSettings()
    if not peaks:
        return f"{label}: no job measured it."
    lead = f"{label}, peak median successful throughput per job"
    single = len(peaks) == 1
    if not hosts.mixed:
        highest = "" if single else f" {_highest(peaks, settings, outside=True)}."
        return f"{lead}: {_listing(peaks)}.{highest}"
    if hosts.allowed:
        marked = [p.named(f"{p.settings} [host {p.letter}]") for p in peaks]
        return (
            f"{lead}: {_listing(marked)}. {_highest(marked, settings, outside=True)}, ranked "
            "across different kinds of host (report.compare_across_hosts is true)."
        )
    letters = sorted({p.letter for p in peaks})
    parts = []
    for letter in letters:
        group = [p for p in peaks if p.letter == letter]
        best = "" if len(group) == 1 else f" ({_highest(group, settings)})"
        parts.append(f"on host {letter}: {_listing(group)}{best}")
    across = (
        f" No highest job across hosts {', '.join(letters)}: different kinds of host."
        if len(letters) > 1
        else ""
    )
    return f"{lead}, by kind of host: {'; '.join(parts)}.{across}"
