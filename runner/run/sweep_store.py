"""A sweep's record: the store opened for a new run (its provenance collected) or reopened to
resume one, the client ceiling a resumed run keeps, and the order the plan runs its steps in."""

from __future__ import annotations

from pathlib import Path

from runner.config.experiment import Experiment
from runner.records import provenance
from runner.records.results import ClientCeiling, StepResult
from runner.records.store import ResultStore, load_run
from runner.run.plan import Plan
from runner.run.preflight import Checked


def open_store(
    experiment: Experiment,
    run_dir: Path,
    experiments_dir: Path,
    overrides: list[str],
    checked: Checked,
) -> tuple[ResultStore, list[StepResult]]:
    """The run recorded (or the interrupted one reopened), with the steps it already holds."""
    store = ResultStore(run_dir)
    composed = experiment.model_dump(mode="json", by_alias=True)
    if experiment.runner.resume:
        store.resume(composed)
        return store, load_run(run_dir).steps
    facts = provenance.collect(composed, experiments_dir, overrides, checked.k6_version)
    store.start(composed, {**facts, "load_destinations": checked.load_destinations})
    return store, []


def stored_ceiling(run_dir: Path) -> ClientCeiling | None:
    return load_run(run_dir).provenance.client_ceiling


def step_order(plan: Plan) -> dict[str, object]:
    """The order the plan runs its steps in, for the run's provenance."""
    shuffled = plan.order == "shuffled"
    return {
        "order": plan.order,
        "seed": plan.experiment.order_seed if shuffled else None,
        "steps": [f"{s.target}/{s.level}/{s.repetition}" for s in plan.steps],
    }
