"""report.md: Test Configuration, Summary, Detailed Results, Failures, all from the stored run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.analysis import Analysis
from runner.load_model import load_model
from runner.model import Scenario, planned_levels
from runner.report import formatting as fmt
from runner.store import RunRecord, StepResult


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def configuration_facts(record: RunRecord) -> list[tuple[str, str]]:
    """(name, value) pairs describing what ran, derived from the stored config and provenance."""
    experiment = record.experiment
    prov = record.provenance
    load = experiment["load"]
    model = load_model(load.get("model", "closed"))
    sweep = experiment["sweep"][model.sweep_key]
    levels = planned_levels(experiment)
    step = f"{sweep['step']}" if sweep.get("step") else "explicit list"
    unit = model.unit
    kind = model.level_kind
    pinning = experiment["pinning"]
    pin_text = (
        f"server on core(s) {pinning['server_cpus']}, k6 on core(s) {pinning['client_cpus']}"
        if pinning["enabled"]
        else "off"
    )
    planned = len(levels) * len(experiment["targets"]) * experiment["repetitions"]
    machine = prov.get("machine", {})
    git = prov.get("git", {})
    software = ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v)
    plural = "s" if len(levels) != 1 else ""
    return [
        ("Load model", model.description),
        ("Scenario", _scenario_text(experiment)),
        (f"{kind} range", f"{min(levels)} to {max(levels)} {unit}"),
        (
            f"{kind} levels",
            f"{', '.join(str(v) for v in levels)} {unit} ({len(levels)} level{plural}, step {step})",
        ),
        (
            "Measured duration",
            f"{load['duration']} per step, after a {load['warmup']} warmup that is not counted",
        ),
        ("Repetitions", f"{experiment['repetitions']} per level"),
        (
            "Steps",
            f"{planned} planned, {len(record.steps)} measured, {len(record.failures)} failure(s) recorded",
        ),
        ("CPU pinning", pin_text),
        ("Load destinations", _destinations(prov)),
        (
            "Machine",
            f"{machine.get('cpu_model', 'unknown')}, {machine.get('logical_cores')} logical cores, "
            f"{machine.get('memory_gib')} GiB, {machine.get('os', '')}",
        ),
        ("Software", f"Python {prov.get('python')}, {prov.get('k6')}, {software}"),
        (
            "Experiment commit",
            (git.get("commit") or "not a git checkout")
            + (" (with uncommitted changes)" if git.get("dirty") else ""),
        ),
        ("Command", prov.get("command", "")),
        (
            "Run",
            f"{fmt.timestamp(prov.get('started_at'))} to {fmt.timestamp(prov.get('ended_at'))}",
        ),
    ]


TARGET_HEADER = ["target", "app", "server", "workers", "worker class", "threads", "settings"]


def target_rows(record: RunRecord) -> list[list[str]]:
    return [_target_row(name, spec) for name, spec in record.experiment["targets"].items()]


def configuration(record: RunRecord) -> list[str]:
    lines = ["## Test Configuration", ""]
    lines += [f"- **{name}**: {_cell_text(value)}" for name, value in configuration_facts(record)]
    lines += ["", "Targets:", ""]
    rows = [[_cell_text(c) for c in row] for row in target_rows(record)]
    return lines + _table(TARGET_HEADER, rows)


def _scenario_text(experiment: dict[str, Any]) -> str:
    if "scenario" not in experiment:  # a run recorded before scenarios existed
        return f"GET {experiment['load'].get('endpoint')}"
    scenario = Scenario.model_validate(experiment["scenario"])
    script = experiment["load"].get("script")
    sent = f"custom k6 script {script}" if script else scenario.describe()
    return f"{scenario.name}: {sent}; database: {experiment['database']['engine']}"


def _destinations(prov: dict[str, Any]) -> str:
    """Where the load went, as decided and recorded before the first step (runner.safety)."""
    destinations = prov.get("load_destinations") or []
    remote = [d for d in destinations if not d["loopback"]]
    external = [d for d in destinations if d["loopback"] and not d["started_by_runner"]]
    text = "loopback only (this machine)"
    if remote:
        text = "remote hosts, allowed by allow_remote: true: " + ", ".join(
            f"{d['target']} at {d['url']} ({', '.join(d['addresses'])})" for d in remote
        )
    if external:
        text += "; already-running servers: " + ", ".join(
            f"{d['target']} at {d['url']}" for d in external
        )
    return text


def _target_row(name: str, spec: dict[str, Any]) -> list[str]:
    if spec.get("url"):
        label = spec.get("label") or name
        cells = [label, f"{spec['url']} (already running)", "not started by sweepbench"]
        return cells + ["-"] * (len(TARGET_HEADER) - len(cells))
    return [
        spec.get("label") or name,
        spec["app"],
        spec["server"],
        str(spec["workers"]),
        spec.get("worker_class") or "default",
        str(spec.get("threads") or "-"),
        _server_settings(spec),
    ]


def _server_settings(spec: dict[str, Any]) -> str:
    """The settings given beyond workers and threads; the rest are the server's defaults."""
    given = [
        f"loop {spec['loop']}" if spec.get("loop") else "",
        f"http {spec['http']}" if spec.get("http") else "",
        f"keep-alive {spec['keep_alive']} s" if spec.get("keep_alive") is not None else "",
        _cell_text(" ".join(spec.get("extra_args") or [])),
    ]
    return ", ".join(filter(None, given)) or "server defaults"


def summary_table(analysis: Analysis) -> tuple[list[str], list[list[str]]]:
    """Exactly one row per level, one column group per target: shared by every writer."""
    open_model = analysis.model.fixed_rate
    header = [analysis.level_name]
    for target in analysis.targets:
        label = analysis.labels[target]
        header += [f"{label} RPS", f"{label} p99 ms", f"{label} Err %"]
        header += [f"{label} Dropped"] if open_model else []
    header.append("Winner")
    rows = []
    for level in analysis.levels:
        row = [str(level)]
        for target in analysis.targets:
            cell = analysis.cell(target, level)
            if cell is None:
                row += ["n/a"] * (4 if open_model else 3)
                continue
            row += [fmt.rps(cell.rps.median), fmt.ms(cell.p99.median), fmt.percent(cell.error_rate)]
            if open_model:
                dropped = cell.dropped_iterations
                row.append("n/a" if dropped is None else f"{dropped:.0f}")
        row.append(analysis.winners[level].text)
        rows.append(row)
    return header, rows


SUMMARY_NOTE = (
    "RPS: requests per second in the measured window. p99: 99th percentile of k6 "
    "`http_req_duration` (ms). Err %: failed requests / all requests. With several "
    "repetitions each cell is the median over them."
)


def summary(analysis: Analysis) -> list[str]:
    header, rows = summary_table(analysis)
    lines = ["## Summary", ""]
    lines += _table([_cell_text(h) for h in header], [[_cell_text(c) for c in r] for r in rows])
    return [*lines, "", summary_note(analysis), "", _cell_text(analysis.rules["winner"])]


def aggregate_rows(analysis: Analysis, target: str) -> list[list[str]]:
    rows = []
    for cell in analysis.series(target):
        ci = (
            f"{fmt.rps(cell.rps.ci_low)} to {fmt.rps(cell.rps.ci_high)}"
            if cell.rps.ci_low is not None and cell.rps.ci_high is not None
            else "n/a (< 3 runs)"
        )
        rows.append(
            [
                str(cell.level),
                str(cell.runs),
                fmt.rps(cell.rps.median),
                f"{fmt.rps(cell.rps.min)} to {fmt.rps(cell.rps.max)}",
                ci,
                fmt.percent(cell.error_rate),
                fmt.ms(cell.latency_p50_ms),
                fmt.ms(cell.p95.median),
                fmt.ms(cell.p99.median),
                fmt.cpu(cell.cpu_percent),
                fmt.mib(cell.memory_max_mib),
            ]
        )
    return rows


AGGREGATE_HEADER = [
    "Concurrency",
    "Runs",
    "Median RPS",
    "RPS min to max",
    "RPS 95% CI of mean",
    "Err %",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "CPU (% of one core)",
    "Mem max MiB",
]
STEP_HEADER = [
    "Concurrency",
    "Rep",
    "Requests",
    "RPS",
    "Err %",
    "avg ms",
    "p50 ms",
    "p90 ms",
    "p95 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "CPU avg (% of one core)",
    "CPU max",
    "Mem avg MiB",
    "Mem max MiB",
    "Processes",
    "k6 CPU avg",
]


def step_row(s: StepResult) -> list[str]:
    lat = s.latency_ms
    return [
        str(s.level),
        str(s.repetition),
        str(s.requests),
        fmt.rps(s.rps),
        fmt.percent(s.error_rate),
        fmt.ms(lat.avg),
        fmt.ms(lat.p50),
        fmt.ms(lat.p90),
        fmt.ms(lat.p95),
        fmt.ms(lat.p99),
        fmt.ms(lat.p99_9),
        fmt.ms(lat.max),
        fmt.cpu(s.cpu_percent.avg if s.cpu_percent else None),
        fmt.cpu(s.cpu_percent.max if s.cpu_percent else None),
        fmt.mib(s.memory_mib.avg if s.memory_mib else None),
        fmt.mib(s.memory_mib.max if s.memory_mib else None),
        str(s.server_processes) if s.server_processes is not None else fmt.NOT_SAMPLED,
        fmt.cpu(s.client_cpu_percent.avg),
    ] + (
        [fmt.rps(s.target_rps or 0.0), str(s.dropped_iterations or 0)]
        if load_model(s.model).fixed_rate
        else []
    )


def step_header(analysis: Analysis) -> list[str]:
    """The per-step columns; an open-model run adds its target rate and dropped iterations."""
    extra = ["Target RPS", "Dropped"] if analysis.model.fixed_rate else []
    return [analysis.level_name, *STEP_HEADER[1:], *extra]


def aggregate_header(analysis: Analysis) -> list[str]:
    return [analysis.level_name, *AGGREGATE_HEADER[1:]]


def summary_note(analysis: Analysis) -> str:
    if not analysis.model.fixed_rate:
        return SUMMARY_NOTE
    return (
        SUMMARY_NOTE + " Dropped: requests k6 could not start on schedule because every allowed "
        "virtual user was still waiting for the server (open model)."
    )


def steps_of(record: RunRecord, target: str) -> list[StepResult]:
    return sorted(
        (s for s in record.steps if s.target == target), key=lambda s: (s.level, s.repetition)
    )


def details(record: RunRecord, analysis: Analysis) -> list[str]:
    lines = ["## Detailed Results"]
    for target in analysis.targets:
        steps = steps_of(record, target)
        lines += ["", f"### {_cell_text(analysis.labels[target])}", ""]
        if not steps:
            lines.append("No step of this target was measured (see Failures).")
            continue
        if any(cell.runs > 1 for cell in analysis.series(target)):
            lines += ["Per level, over repetitions:", ""]
            lines += _table(aggregate_header(analysis), aggregate_rows(analysis, target))
            lines += ["", "Per step:", ""]
        lines += _table(step_header(analysis), [step_row(s) for s in steps])
        for s in (s for s in steps if s.failed_requests):
            causes = ", ".join(f"{cause}: {n}" for cause, n in s.errors.items() if n)
            lines.append(
                f"\n- c={s.level} rep {s.repetition}: {s.failed_requests} failed requests"
                + (f" ({causes})" if causes else "")
            )
    return lines


def analysis_section(analysis: Analysis) -> list[str]:
    lines = ["## Analysis", "", "### Breaking Points", ""]
    lines += [
        f"- **{_cell_text(analysis.labels[t])}**: {_cell_text(analysis.breaking_points[t].text)}"
        for t in analysis.targets
    ]
    lines += ["", _cell_text(analysis.rules["breaking"]), "", "### Saturation Points", ""]
    lines += [
        f"- **{_cell_text(analysis.labels[t])}**: {_cell_text(analysis.saturation[t].text)}"
        for t in analysis.targets
    ]
    lines += ["", _cell_text(analysis.rules["saturation"]), "", "### Findings", ""]
    lines += [f"- {_cell_text(line)}" for line in analysis.findings]
    lines += ["", "### Recommendations", ""]
    if analysis.recommendations:
        lines += [f"- {_cell_text(line)}" for line in analysis.recommendations]
    else:
        lines.append("- Only one target was measured: there is nothing to compare.")
    return lines


def notes(record: RunRecord) -> list[str]:
    lines: list[str] = []
    if record.failures:
        lines += ["", "## Failures", ""]
        for failure in record.failures:
            where = f" at c={failure.level} rep {failure.repetition}" if failure.level else ""
            lines.append(f"- **{_cell_text(failure.label)}**{where}: {_cell_text(failure.message)}")
            if failure.log_tail:
                lines += [
                    "",
                    "  ```",
                    *[f"  {line}" for line in failure.log_tail.splitlines()],
                    "  ```",
                ]
    return lines


def render(record: RunRecord, analysis: Analysis) -> str:
    experiment = record.experiment
    title = (experiment.get("report") or {}).get("title") or experiment["name"]
    lines = [f"# Benchmark report: {_cell_text(title)}", ""]
    if experiment.get("description"):
        lines += [_cell_text(experiment["description"]), ""]
    if not record.complete:
        lines += [
            "> **Partial report**: the run stopped before its last step. "
            "Only the steps below were measured.",
            "",
        ]
    lines += [*configuration(record), "", *summary(analysis), "", *details(record, analysis)]
    lines += ["", *analysis_section(analysis)]
    lines += notes(record)
    lines += ["", "---", "*Every figure above is read from `results.json` in this directory.*", ""]
    return "\n".join(lines)


def write(path: Path, record: RunRecord, analysis: Analysis) -> Path:
    path.write_text(render(record, analysis))
    return path
