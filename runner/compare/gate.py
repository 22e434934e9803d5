"""The gate's decision: per baseline cell, the candidate's valid repetitions against the
baseline's, every comparison decided together by runner.analysis.significance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.analysis.left_out import describe_step, valid_for_verdicts
from runner.analysis.significance import (
    METRICS,
    Comparison,
    Key,
    SignificanceSettings,
    compare_repetitions,
    overall_decision,
)
from runner.compare.design import Difference, check_comparable
from runner.measure.validity import withheld_percentiles
from runner.records.results import RunRecord, StepResult

Cell = tuple[str, int]  # target, level
# The latency metrics and the percentile each one reads (a step too short for it withholds it).
PERCENTILES = {"p95_ms": 0.95, "p99_ms": 0.99}
EXIT_NO_REGRESSION, EXIT_REGRESSION, EXIT_INCONCLUSIVE = 0, 1, 3


@dataclass(frozen=True)
class Missing:
    """A cell of the baseline the candidate did not measure: a failure, never skipped."""

    target: str
    level: int
    reason: str


@dataclass(frozen=True)
class GateResult:
    comparisons: list[Comparison]
    missing: list[Missing]
    settings: SignificanceSettings
    allowed: list[Difference] = field(default_factory=list)
    # Steps left out, per side ("baseline", "candidate"): 'FastAPI c=20 rep 1 (client-bound)'.
    left_out: dict[str, list[str]] = field(default_factory=dict)

    @property
    def decision(self) -> str:
        """'missing', or runner.analysis.significance's overall decision."""
        return "missing" if self.missing else overall_decision(self.comparisons)

    @property
    def exit_status(self) -> int:
        """0 no regression, 1 regression or missing, 3 inconclusive (2: refused, raised)."""
        if self.missing or self.decision == "regression":
            return EXIT_REGRESSION
        return EXIT_INCONCLUSIVE if self.decision == "inconclusive" else EXIT_NO_REGRESSION


def metric_values(step: StepResult) -> dict[str, float]:
    """The compared figures of one valid step; a percentile the step has too few requests for
    (its validity withholds it) is absent."""
    withheld = withheld_percentiles(step.validity) if step.validity else {}
    values = {
        "successful_rps": step.rps * (1.0 - step.error_rate),
        "error_rate": step.error_rate,
        "p95_ms": step.latency_ms.p95,
        "p99_ms": step.latency_ms.p99,
    }
    return {m: v for m, v in values.items() if PERCENTILES.get(m) not in withheld}


def side_values(steps: Iterable[StepResult], cells: Iterable[Cell]) -> dict[Key, list[float]]:
    """(target, level, metric) -> the values of the valid repetitions, for every cell given."""
    values: dict[Key, list[float]] = {(t, lv, metric): [] for t, lv in cells for metric in METRICS}
    for step in sorted(steps, key=lambda s: s.repetition):
        if not valid_for_verdicts(step):
            continue
        for metric, value in metric_values(step).items():
            key = (step.target, step.level, metric)
            if key in values:
                values[key].append(value)
    return values


def _missing_reason(candidate: RunRecord, target: str, level: int) -> str:
    failures = [
        f.message
        for f in candidate.failures
        if f.target == target and (f.stage == "start" or f.level == level)
    ]
    if failures:
        return f"not measured in the candidate: {failures[0]}"
    return "not measured in the candidate (no step and no failure recorded)"


def compare(
    baseline: RunRecord,
    candidate: RunRecord,
    settings: SignificanceSettings | None = None,
    allowed: Iterable[str] = (),
) -> GateResult:
    """Decide the gate; raises runner.compare.Refused when the runs cannot be compared."""
    settings = settings or SignificanceSettings()
    differences = check_comparable(baseline, candidate, allowed)
    cells = sorted({(s.target, s.level) for s in baseline.steps})
    measured = {(s.target, s.level) for s in candidate.steps}
    missing = [
        Missing(t, lv, _missing_reason(candidate, t, lv))
        for t, lv in cells
        if (t, lv) not in measured
    ]
    shared = [cell for cell in cells if cell in measured]
    comparisons = compare_repetitions(
        side_values(baseline.steps, shared), side_values(candidate.steps, shared), settings
    )
    model = baseline.experiment.load.kind
    left_out = {
        name: [describe_step(s, model) for s in record.steps if not valid_for_verdicts(s)]
        for name, record in (("baseline", baseline), ("candidate", candidate))
    }
    return GateResult(comparisons, missing, settings, differences, left_out)
