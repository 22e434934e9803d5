"""Stored-result records built in memory, for tests of analysis and reports (no load involved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.measure.validity import Reason, ReasonCode, Validity
from runner.records.results import Failure, LatencyMs, RunRecord, Stat, StepResult
from runner.records.store import ResultStore
from runner.report import write_reports


def step(
    target: str,
    level: int,
    rps: float,
    repetition: int = 1,
    error_rate: float = 0.0,
    p95: float = 10.0,
    label: str | None = None,
    cpu: float = 90.0,
    rss: float = 55.0,
    pss: float | None = None,
    invalid: ReasonCode | None = None,
    started_at: float = 1_700_000_000.0,
) -> StepResult:
    """A step; `invalid` names the reason its validity verdict gives (valid: no verdict)."""
    requests = int(rps * 5)
    return StepResult(
        target=target,
        label=label or target,
        level=level,
        repetition=repetition,
        started_at=started_at,
        duration_s=5.0,
        requests=requests,
        rps=rps,
        failed_requests=int(requests * error_rate),
        error_rate=error_rate,
        errors={"status_5xx": int(requests * error_rate)},
        latency_ms=LatencyMs(
            avg=p95 / 2,
            min=0.5,
            p50=p95 / 2,
            p90=p95 * 0.9,
            p95=p95,
            p99=p95 * 1.5,
            p99_9=p95 * 2,
            max=p95 * 3,
        ),
        cpu_percent=Stat(avg=cpu, max=100.0),
        memory_mib=Stat(avg=rss - 5, max=rss),
        memory_pss_mib=None if pss is None else Stat(avg=pss - 5, max=pss),
        server_processes=1,
        client_cpu_percent=Stat(avg=40.0, max=50.0),
        k6_exit_code=0,
        validity=None if invalid is None else invalid_verdict(invalid),
    )


def invalid_verdict(code: ReasonCode) -> Validity:
    return Validity(valid=False, reasons=[Reason(code=code, text=f"{code} (test)", figures={})])


def record(
    steps: list[StepResult],
    labels: dict[str, str] | None = None,
    report: dict[str, Any] | None = None,
    failures: list[Failure] | None = None,
    load_model: str = "closed",
) -> RunRecord:
    targets = sorted({s.target for s in steps} | {f.target for f in failures or []})
    levels = sorted({s.level for s in steps})
    labels = labels or {}
    experiment = {
        "name": "synthetic",
        "description": "",
        "targets": {
            t: {"app": "m:app", "server": "uvicorn", "label": labels.get(t), "workers": 1}
            for t in targets
        },
        "sweep": {"concurrency" if load_model == "closed" else "rate": {"levels": levels}},
        "load": {"model": load_model, "duration": "5s", "warmup": "1s"},
        "scenario": {"name": "json", "requests": [{"path": "/json"}]},
        "database": {"engine": "sqlite"},
        "repetitions": max(s.repetition for s in steps),
        "pinning": {"enabled": True, "server_cpus": [0], "client_cpus": [1]},
        "report": report or {},
    }
    provenance = {
        "started_at": 1_700_000_000.0,
        "ended_at": 1_700_000_100.0,
        "k6": "k6 v1",
        "python": "3.11",
    }
    return RunRecord(
        experiment=experiment,
        provenance=provenance,
        steps=steps,
        failures=failures or [],
        complete=True,
    )


def write_synthetic(run_dir: Path, rec: RunRecord) -> Path:
    """Store a record as a run would, then write every report of it."""
    store = ResultStore(run_dir)
    store.start(rec.experiment, rec.provenance)
    for s in rec.steps:
        store.append(s)
    store.finish(True, {})
    write_reports(run_dir, rec)
    return run_dir
