"""Configuration matrices: one report comparing every job of a Hydra multirun side by side.

`python -m runner -m +experiment=X targets.django_wsgi.workers=1,2,4` runs one job per
combination into `outputs/X/multirun_<time>/<job>/`; when the sweep ends, the callback below
writes `matrix.md`, `matrix.html` and `matrix.csv` into the sweep directory. Each job is named by
the settings that vary across jobs; levels are rows. `python -m runner.report <sweep dir>`
writes them again from the stored results.

The jobs may run in other processes or on other hosts (hydra/launcher=submitit_local or
submitit_slurm, docs/cluster.md): each writes its run into the sweep directory, a filesystem the
launching process shares, and the report is written once, by the launching process, from what
the jobs stored. Which jobs may be ranked together depends on their hosts (matrix_hosts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from runner.analysis import Analysis, analyze
from runner.analysis import formatting as fmt
from runner.records.results import CapacityRun
from runner.records.store import RUN_FILE, load_run
from runner.report import svg
from runner.report.charts import axis_title, figure
from runner.report.csv_writer import write_table
from runner.report.floor_cells import NOT_THE_SERVERS, floor_figure
from runner.report.markdown import markdown_table, text
from runner.report.matrix_hosts import (
    Hosts,
    Peak,
    hosts_summary,
    job_hosts,
    kinds_table,
    ranking_sentence,
)
from runner.report.tables import CellValue, Heading, Table
from runner.report.templating import ENV

MATRIX_FILES = ("matrix.md", "matrix.html", "matrix.csv")
MATRIX_NOTE = (
    "RPS: median requests per second over a job's repetitions; p99 in ms. Each job's own "
    "report (in its directory) gives the winners, breaking points and their rules."
)


@dataclass(frozen=True)
class Job:
    directory: Path
    settings: str  # the overrides that set this job apart, e.g. "targets.api.workers=2"
    analysis: Analysis
    capacity: CapacityRun | None = None  # a capacity run's results (runner.capacity)
    host: str = "unknown"  # the host it ran on
    letter: str = "A"  # its kind of host (matrix_hosts)
    mark: str = ""  # " [host B]" when the jobs ran on more than one kind of host
    slurm_job: str | None = None  # the SLURM job it ran as, if any

    @property
    def label(self) -> str:
        """The job's name in tables and sentences: its settings, marked with its kind of host."""
        return self.settings + self.mark


@dataclass(frozen=True)
class Matrix:
    jobs: list[Job]
    hosts: Hosts


def job_dirs(sweep_dir: Path) -> list[Path]:
    found = [d for d in sweep_dir.iterdir() if d.is_dir() and (d / RUN_FILE).is_file()]
    return sorted(
        found, key=lambda d: (not d.name.isdigit(), int(d.name) if d.name.isdigit() else 0, d.name)
    )


def load_matrix(sweep_dir: Path) -> Matrix:
    records = {d: load_run(d) for d in job_dirs(sweep_dir)}
    overrides = {d: record.provenance.overrides for d, record in records.items()}
    common = set.intersection(*(set(o) for o in overrides.values())) if overrides else set()
    hosts = job_hosts(list(records.values()))
    jobs = []
    for index, (directory, record) in enumerate(records.items()):
        varying = [o for o in overrides[directory] if o not in common]
        settings = ", ".join(varying) or f"job {directory.name}"
        host = hosts.jobs[index]
        analysis, capacity, mark = analyze(record), record.capacity, hosts.mark(index)
        machine = record.provenance.machine
        slurm = machine.slurm_job if machine else None
        jobs.append(
            Job(directory, settings, analysis, capacity, host.name, host.letter, mark, slurm)
        )
    return Matrix(jobs, hosts)


def _targets(jobs: list[Job]) -> list[str]:
    seen: dict[str, None] = {}
    for job in jobs:
        for target in job.analysis.targets:
            seen.setdefault(target, None)
    return list(seen)


def _label(jobs: list[Job], target: str) -> str:
    for job in jobs:
        if target in job.analysis.labels:
            return job.analysis.labels[target]
    return target


def target_table(jobs: list[Job], target: str) -> Table:
    """Levels as rows; per job, median RPS and p99 (n/a where the job did not measure it)."""
    levels = sorted(
        {
            lv
            for job in jobs
            for (t, lv) in [*job.analysis.cells, *job.analysis.floors]
            if t == target
        }
    )
    header: list[str | Heading] = [jobs[0].analysis.level_name if jobs else "Concurrency"]
    for job in jobs:
        header += [Heading(job.label, "RPS"), Heading(job.label, "p99 ms")]
    rows: list[list[CellValue]] = []
    for level in levels:
        row: list[CellValue] = [fmt.count(level)]
        for job in jobs:
            cell = job.analysis.cell(target, level)
            floor = job.analysis.floor(target, level)
            if cell is not None:
                row += [fmt.rps(cell.rps.median), fmt.ms(cell.p99.median)]
            else:
                row += [floor_figure(floor.rps.median), NOT_THE_SERVERS] if floor else ["n/a"] * 2
        rows.append(row)
    return Table(header, rows)


def capacity_table(jobs: list[Job]) -> Table | None:
    """Capacity runs: one row per job, each target's capacity; None when no job is one."""
    if not any(job.capacity is not None for job in jobs):
        return None
    targets = _targets(jobs)
    header = ["Job", *(f"{_label(jobs, t)} capacity" for t in targets)]
    rows: list[list[CellValue]] = []
    for job in jobs:
        found = [job.capacity.of(t) if job.capacity else None for t in targets]
        rows.append([job.label, *(f.headline if f else "n/a" for f in found)])
    return Table(header, rows)


def job_peak(job: Job, target: str) -> Peak | None:
    """The job's highest successful throughput of `target`: a valid cell's, or a floor's when
    a floor (runner.analysis.floors) is above every valid cell."""
    floors = [c for (t, _level), c in job.analysis.floors.items() if t == target]
    cells = [*job.analysis.series(target), *floors]
    best = max(cells, key=lambda c: c.ok_rps.median, default=None)
    return None if best is None else Peak(job.settings, job.letter, best).named(job.settings)


def peak_sentence(matrix: Matrix, target: str, label: str) -> str:
    peaks = [peak for job in matrix.jobs if (peak := job_peak(job, target)) is not None]
    settings = matrix.jobs[0].analysis.settings if matrix.jobs else None
    return ranking_sentence(label, peaks, matrix.hosts, settings)


def job_line(job: Job) -> str:
    slurm = f" (SLURM job {job.slurm_job})" if job.slurm_job else ""
    return f"`{job.directory.name}`: {text(job.label)}, on {text(job.host)}{slurm}"


def hosts_lines(matrix: Matrix) -> list[str]:
    """The Hosts section: each kind of host, and the rule for ranking jobs across kinds."""
    hosts = matrix.hosts
    table = markdown_table(kinds_table(hosts))
    return ["", "## Hosts", "", *table, "", text(hosts_summary(hosts)), "", text(hosts.rule)]


def _swept(jobs: list[Job]) -> bool:
    """Some job measured sweep levels (capacity runs have per-level tables of nothing)."""
    return any(job.capacity is None for job in jobs)


def write_markdown(path: Path, sweep_dir: Path, matrix: Matrix) -> Path:
    jobs = matrix.jobs
    lines = [f"# Matrix report: {text(sweep_dir.name)}", "", f"{len(jobs)} job(s):", ""]
    lines += [f"- {job_line(job)}" for job in jobs]
    lines += hosts_lines(matrix)
    capacities = capacity_table(jobs)
    if capacities is not None:
        lines += ["", "## Capacity", "", *markdown_table(capacities)]
    for target in _targets(jobs) if _swept(jobs) else []:
        label = _label(jobs, target)
        lines += ["", f"## {text(label)}", "", *markdown_table(target_table(jobs, target))]
        lines += ["", text(peak_sentence(matrix, target, label))]
        if matrix.hosts.mixed:
            lines += ["", text(matrix.hosts.rule)]
    lines += ["", MATRIX_NOTE, ""]
    path.write_text("\n".join(lines))
    return path


CSV_HEADER = ["job", "settings", "target", "label", "level", "runs", "rps_median"] + [
    "latency_p95_ms_median",
    "latency_p99_ms_median",
    "error_rate_median",
    "cpu_avg_percent_of_one_core_median",
    "memory_max_mib",
    "host",
    "host_kind",
]


def csv_table(jobs: list[Job]) -> Table:
    """One row per job x target x level, raw numbers."""
    rows: list[list[CellValue]] = []
    for job in jobs:
        for (target, level), c in sorted(job.analysis.cells.items()):
            row: list[CellValue] = [job.directory.name, job.settings, target, c.label, level]
            row += [c.runs, c.rps.median, c.p95.median, c.p99.median, c.error_rate]
            rows.append([*row, c.cpu_percent, c.memory_max_mib, job.host, job.letter])
    return Table(CSV_HEADER, rows)


def throughput_chart(jobs: list[Job]) -> svg.LineChart:
    """Every job's median throughput per target, on the levels any job measured."""
    levels = sorted({lv for job in jobs for (_t, lv) in job.analysis.cells})
    series: list[svg.Series] = []
    for job in jobs:
        for target in job.analysis.targets:
            if job.analysis.series(target):
                cells = [job.analysis.cell(target, level) for level in levels]
                color = svg.PALETTE[len(series) % len(svg.PALETTE)]
                name = f"{job.analysis.labels[target]} ({job.label})"
                values = [None if c is None else c.rps.median for c in cells]
                series.append(svg.Series(name, values, color=color))
    return svg.LineChart(
        id="chart-matrix",
        title="Median throughput per job",
        x_title=axis_title(jobs[0].analysis) if jobs else "",
        y_title="requests per second",
        categories=[fmt.count(level) for level in levels],
        series=series,
    )


def write_html(path: Path, sweep_dir: Path, matrix: Matrix) -> Path:
    jobs = matrix.jobs
    sections = []
    for target in _targets(jobs) if _swept(jobs) else []:
        label = _label(jobs, target)
        sections.append(
            {
                "target": target,
                "label": label,
                "table": target_table(jobs, target),
                "peak": peak_sentence(matrix, target, label),
            }
        )
    page = ENV.get_template("matrix.html.j2").render(
        title=sweep_dir.name,
        jobs=[(job.directory.name, job.label, job.host) for job in jobs],
        hosts=kinds_table(matrix.hosts),
        rule=matrix.hosts.rule,
        hosts_summary=hosts_summary(matrix.hosts),
        mixed=matrix.hosts.mixed,
        sections=sections,
        capacity=capacity_table(jobs),
        note=MATRIX_NOTE,
        chart=figure(throughput_chart(jobs)),
    )
    path.write_text(page)
    return path


def write_matrix_report(sweep_dir: Path) -> list[Path]:
    matrix = load_matrix(sweep_dir)
    if not matrix.jobs:
        return []
    return [
        write_markdown(sweep_dir / "matrix.md", sweep_dir, matrix),
        write_html(sweep_dir / "matrix.html", sweep_dir, matrix),
        write_table(sweep_dir / "matrix.csv", csv_table(matrix.jobs)),
    ]


class MatrixReportCallback(Callback):
    """Hydra calls this when a multirun ends: write the side-by-side report of its jobs."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            for path in write_matrix_report(sweep_dir):
                print(f"matrix report: {path}")
