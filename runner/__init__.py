"""sweepbench: a declarative, YAML-driven benchmark runner for Python web servers.

From Python, a stored run is loaded, analysed, reported and compared with:

    from runner import analyze, compare, load_run, write_reports

    run_dir = Path("outputs/quickstart/2026-11-30_08-00-00")
    record = load_run(run_dir)  # typed records, older schemas upgraded on load
    analysis = analyze(record)  # cells per level, verdicts with their rules, findings
    write_reports(run_dir, record)  # report.md, report.html, results CSVs
    gate = compare(load_run(baseline_dir), record)  # regression gate; raises Refused
    print(gate.decision, gate.exit_status)

The names below are imported on first use (PEP 562), so `python -m runner` does not pay for
scipy before it needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.lazy import lazy_names

if TYPE_CHECKING:
    from runner.analysis import Analysis, Cell, Spread, Verdict, analyze
    from runner.compare import GateResult, compare
    from runner.config.experiment import Experiment, validate_experiment
    from runner.config.load_model import LoadModel, load_model
    from runner.records.results import SCHEMA_VERSION, Failure, Provenance, RunRecord, StepResult
    from runner.records.store import load_run
    from runner.report import write_reports

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "Cell",
    "Experiment",
    "Failure",
    "GateResult",
    "LoadModel",
    "Provenance",
    "RunRecord",
    "Spread",
    "StepResult",
    "Verdict",
    "analyze",
    "compare",
    "load_model",
    "load_run",
    "validate_experiment",
    "write_reports",
]


__getattr__, __dir__ = lazy_names(__name__, __file__, __all__)
