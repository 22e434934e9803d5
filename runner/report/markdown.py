"""report.md: Test Configuration, Summary, Detailed Results, Failures, all from the stored run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.analysis import Analysis
from runner.model import LevelRange, Scenario
from runner.report import formatting as fmt
from runner.store import RunRecord


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def configuration(record: RunRecord) -> list[str]:
    experiment = record.experiment
    prov = record.provenance
    load = experiment["load"]
    concurrency = experiment["sweep"]["concurrency"]
    levels = LevelRange.model_validate(concurrency).values()
    step = f"{concurrency['step']}" if concurrency.get("step") else "explicit list"
    pinning = experiment["pinning"]
    pin_text = (
        f"server on core(s) {pinning['server_cpus']}, k6 on core(s) {pinning['client_cpus']}"
        if pinning["enabled"]
        else "off"
    )
    planned = len(levels) * len(experiment["targets"]) * experiment["repetitions"]
    machine = prov.get("machine", {})
    git = prov.get("git", {})
    lines = [
        "## Test Configuration",
        "",
        "- **Load model**: closed, constant virtual users (k6 `constant-vus`)",
        f"- **Scenario**: {_scenario_text(experiment)}",
        f"- **Concurrency levels**: {', '.join(str(v) for v in levels)} virtual users "
        f"({len(levels)} level{'s' if len(levels) != 1 else ''}, step {step})",
        f"- **Measured duration**: {load['duration']} per step, after a {load['warmup']} warmup "
        "that is not counted",
        f"- **Repetitions**: {experiment['repetitions']} per level",
        f"- **Steps**: {planned} planned, {len(record.steps)} measured, "
        f"{len(record.failures)} failure(s) recorded",
        f"- **CPU pinning**: {pin_text}",
        f"- **Machine**: {machine.get('cpu_model', 'unknown')}, {machine.get('logical_cores')} "
        f"logical cores, {machine.get('memory_gib')} GiB, {machine.get('os', '')}",
        f"- **Software**: Python {prov.get('python')}, {prov.get('k6')}, "
        + ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v),
        f"- **Experiment commit**: {git.get('commit') or 'not a git checkout'}"
        + (" (with uncommitted changes)" if git.get("dirty") else ""),
        f"- **Run**: {fmt.timestamp(prov.get('started_at'))} to {fmt.timestamp(prov.get('ended_at'))}",
        "",
        "Targets:",
        "",
    ]
    rows = [_target_row(name, spec) for name, spec in experiment["targets"].items()]
    header = ["target", "app", "server", "workers", "worker class", "threads", "settings"]
    lines += _table(header, rows)
    return lines


def _scenario_text(experiment: dict[str, Any]) -> str:
    if "scenario" not in experiment:  # a run recorded before scenarios existed
        return f"`GET {experiment['load'].get('endpoint')}`"
    scenario = Scenario.model_validate(experiment["scenario"])
    script = experiment["load"].get("script")
    sent = f"custom k6 script `{script}`" if script else f"`{scenario.describe()}`"
    return f"`{scenario.name}`, {sent}; database: {experiment['database']['engine']}"


def _target_row(name: str, spec: dict[str, Any]) -> list[str]:
    return [
        _cell_text(spec.get("label") or name),
        f"`{spec['app']}`",
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


def summary(analysis: Analysis) -> list[str]:
    header = ["Concurrency"]
    for target in analysis.targets:
        label = _cell_text(analysis.labels[target])
        header += [f"{label} RPS", f"{label} p99 ms", f"{label} Err %"]
    header.append("Winner")
    rows = []
    for level in analysis.levels:
        row = [str(level)]
        for target in analysis.targets:
            cell = analysis.cell(target, level)
            if cell is None:
                row += ["n/a", "n/a", "n/a"]
            else:
                row += [
                    fmt.rps(cell.rps),
                    fmt.ms(cell.latency_p99_ms),
                    fmt.percent(cell.error_rate),
                ]
        row.append(_cell_text(analysis.winners[level].verdict))
        rows.append(row)
    lines = ["## Summary", ""]
    lines += _table(header, rows)
    lines += [
        "",
        "RPS: requests per second in the measured window. p99: 99th percentile of k6 "
        "`http_req_duration` (ms). Err %: failed requests / all requests. With several "
        "repetitions each cell is the median over them.",
        "",
        analysis.winner_rule,
    ]
    return lines


def details(record: RunRecord, analysis: Analysis) -> list[str]:
    lines = ["## Detailed Results"]
    header = ["Concurrency", "Rep", "Requests", "RPS", "Err %", "avg ms", "p50 ms", "p90 ms"]
    header += ["p95 ms", "p99 ms", "p99.9 ms", "max ms", "CPU avg (% of one core)"]
    header += ["CPU max", "Mem avg MiB", "Mem max MiB", "Processes", "k6 CPU avg"]
    for target in analysis.targets:
        steps = sorted(
            (s for s in record.steps if s.target == target),
            key=lambda s: (s.concurrency, s.repetition),
        )
        lines += ["", f"### {_cell_text(analysis.labels[target])}", ""]
        if not steps:
            lines.append("No step of this target was measured (see Failures).")
            continue
        rows = [
            [
                str(s.concurrency),
                str(s.repetition),
                str(s.requests),
                fmt.rps(s.rps),
                fmt.percent(s.error_rate),
                fmt.ms(s.latency_ms.avg),
                fmt.ms(s.latency_ms.p50),
                fmt.ms(s.latency_ms.p90),
                fmt.ms(s.latency_ms.p95),
                fmt.ms(s.latency_ms.p99),
                fmt.ms(s.latency_ms.p99_9),
                fmt.ms(s.latency_ms.max),
                fmt.cpu(s.cpu_percent.avg),
                fmt.cpu(s.cpu_percent.max),
                fmt.mib(s.memory_mib.avg),
                fmt.mib(s.memory_mib.max),
                str(s.server_processes),
                fmt.cpu(s.client_cpu_percent.avg),
            ]
            for s in steps
        ]
        lines += _table(header, rows)
        errored = [s for s in steps if s.failed_requests]
        for s in errored:
            causes = ", ".join(f"{cause}: {n}" for cause, n in s.errors.items() if n)
            lines.append(
                f"\n- c={s.concurrency} rep {s.repetition}: {s.failed_requests} failed requests"
                + (f" ({causes})" if causes else "")
            )
    return lines


def notes(record: RunRecord) -> list[str]:
    lines: list[str] = []
    bound = [s for s in record.steps if s.client_bound]
    if bound:
        lines += ["", "## Client-bound steps", ""]
        lines += [
            f"- {_cell_text(s.label)} at c={s.concurrency} rep {s.repetition}: k6 used "
            f"{fmt.cpu(s.client_cpu_percent.avg)} of one core on average, nearly all it may use; "
            "this step measures k6, not the server."
            for s in bound
        ]
    if record.failures:
        lines += ["", "## Failures", ""]
        for failure in record.failures:
            where = (
                f" at c={failure.concurrency} rep {failure.repetition}"
                if failure.concurrency
                else ""
            )
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
    lines += notes(record)
    lines += ["", "---", "*Every figure above is read from `results.json` in this directory.*", ""]
    return "\n".join(lines)


def write(path: Path, record: RunRecord, analysis: Analysis) -> Path:
    path.write_text(render(record, analysis))
    return path
