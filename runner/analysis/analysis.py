"""The whole analysis of a run: its cells, verdicts with their rules, findings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from runner.analysis.cells import Cell, group_cells
from runner.analysis.curve import Curve, breaking_rule, curve_of, saturation_rule
from runner.analysis.findings import (
    client_findings,
    comparison_findings,
    failure_findings,
    target_findings,
)
from runner.analysis.floors import floor_cells, floor_findings, is_floor_step
from runner.analysis.held_rate import limit_findings
from runner.analysis.left_out import (
    left_out_text,
    one_attempt_per_key,
    valid_for_verdicts,
    with_left_out,
)
from runner.analysis.steal_spell import SpellSteps, spell_steps
from runner.analysis.verdicts import Verdict, winner_at, winner_rule
from runner.config.experiment import ReportSettings
from runner.config.load_model import CLOSED, LoadModel
from runner.measure.validity import ValiditySettings
from runner.records.results import RunRecord, StepResult


@dataclass(frozen=True)
class Analysis:
    targets: list[str]
    labels: dict[str, str]
    levels: list[int]
    settings: ReportSettings
    cells: dict[tuple[str, int], Cell]
    winners: dict[int, Verdict]
    breaking_points: dict[str, Verdict]
    saturation: dict[str, Verdict]
    findings: list[str]
    recommendations: list[str]
    rules: dict[str, str] = field(default_factory=dict)
    model: LoadModel = CLOSED
    curves: dict[str, Curve] = field(default_factory=dict)  # peak, knee, break per target
    # (target, level) with any stored step: without a cell there, every step was invalid.
    measured: frozenset[tuple[str, int]] = frozenset()
    # The step-validity thresholds: which percentiles a cell's requests support.
    validity: ValiditySettings = field(default_factory=ValiditySettings)
    # Every stored step, and those judged invalid (in no cell): the headline counts them.
    step_count: int = 0
    left_out: tuple[StepResult, ...] = ()
    # (target, level) -> a cell of client-bound steps where no valid step gives one: its
    # throughput is a floor for the server's (runner.analysis.floors); kept out of `cells`.
    floors: dict[tuple[str, int], Cell] = field(default_factory=dict)
    stopped_early: bool = False  # the run stopped before its last step: a partial report
    # Valid steps measured in a steal spell, by target (runner.analysis.steal_spell).
    steal_spell: tuple[SpellSteps, ...] = ()

    @property
    def level_name(self) -> str:
        """The first column of every per-level table."""
        return self.model.level_header

    @property
    def level_unit(self) -> str:
        return self.model.unit

    def cell(self, target: str, level: int) -> Cell | None:
        return self.cells.get((target, level))

    def floor(self, target: str, level: int) -> Cell | None:
        """The target's floor at `level`, where it has no valid cell there."""
        return self.floors.get((target, level))

    def series(self, target: str) -> list[Cell]:
        return [c for level in self.levels if (c := self.cell(target, level)) is not None]


def analyze(record: RunRecord) -> Analysis:
    """Cells of valid steps only; every verdict names the invalid steps it left out."""
    experiment = record.experiment
    settings = experiment.report
    model = experiment.load.kind
    targets = list(experiment.targets)
    labels = {name: experiment.label(name) for name in targets}
    steps = one_attempt_per_key(record.steps)
    cells = group_cells(steps, settings.confidence)
    floors = floor_cells(steps, cells, settings.confidence)
    levels = sorted({s.level for s in steps} | set(experiment.levels()))
    steps_of = {t: [s for s in steps if s.target == t] for t in targets}
    curves = {
        t: curve_of([c for lv in levels if (c := cells.get((t, lv)))], settings, bool(steps_of[t]))
        for t in targets
    }
    findings = [
        line for t in targets for line in target_findings(labels[t], curves[t], steps_of[t], model)
    ]
    findings += floor_findings(floors, model.unit)
    findings += client_findings(record) + limit_findings(record) + failure_findings(record)
    return Analysis(
        targets=targets,
        labels=labels,
        levels=levels,
        settings=settings,
        cells=cells,
        winners={
            level: _winner(level, (cells, floors), steps, settings, model) for level in levels
        },
        breaking_points={t: _noted(curves[t].breaking, steps_of[t], model) for t in targets},
        saturation={t: _noted(curves[t].knee, steps_of[t], model) for t in targets},
        findings=findings,
        recommendations=comparison_findings(
            curves, labels, settings, left_out_text(steps, model), floors
        ),
        model=model,
        validity=experiment.validity,
        rules={
            "winner": winner_rule(settings, model),
            "breaking": breaking_rule(settings, model),
            "saturation": saturation_rule(settings),
        },
        curves=curves,
        measured=frozenset((s.target, s.level) for s in record.steps),
        step_count=len(steps),
        left_out=tuple(
            s
            for s in steps
            if not valid_for_verdicts(s)
            and not (is_floor_step(s) and (s.target, s.level) in floors)
        ),
        floors=floors,
        stopped_early=not record.complete,
        steal_spell=spell_steps(record, steps),
    )


def _noted(verdict: Verdict, steps: list[StepResult], model: LoadModel) -> Verdict:
    """The verdict with the target's invalid steps it left out named in its text."""
    return replace(verdict, text=with_left_out(verdict.text, steps, model))


def _winner(
    level: int,
    cells_and_floors: tuple[dict[tuple[str, int], Cell], dict[tuple[str, int], Cell]],
    steps: list[StepResult],
    settings: ReportSettings,
    model: LoadModel,
) -> Verdict:
    cells, floors = cells_and_floors
    at_level = [c for (_t, lv), c in cells.items() if lv == level]
    floored = [c for (_t, lv), c in floors.items() if lv == level]
    verdict = winner_at(level, at_level, settings, model, floored)
    # A floor's steps are not left out of the winner: they rank as floors.
    used = [s for s in steps if s.level == level and (s.target, level) not in floors]
    return _noted(verdict, used, model)
