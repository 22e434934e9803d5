"""The whole analysis of a run: its cells, verdicts with their rules, findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.analysis.cells import Cell, group_cells
from runner.analysis.findings import (
    client_findings,
    comparison_findings,
    failure_findings,
    target_findings,
)
from runner.analysis.verdicts import (
    Verdict,
    breaking_point,
    breaking_rule,
    saturation_point,
    saturation_rule,
    winner_at,
    winner_rule,
)
from runner.load_model import CLOSED, LoadModel
from runner.model import ReportSettings
from runner.results import RunRecord
from runner.validity import ValiditySettings


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
    # The step-validity thresholds: which percentiles a cell's requests support.
    validity: ValiditySettings = field(default_factory=ValiditySettings)

    @property
    def level_name(self) -> str:
        """The first column of every per-level table."""
        return self.model.level_header

    @property
    def level_unit(self) -> str:
        return self.model.unit

    def cell(self, target: str, level: int) -> Cell | None:
        return self.cells.get((target, level))

    def series(self, target: str) -> list[Cell]:
        return [c for level in self.levels if (c := self.cell(target, level)) is not None]


def analyze(record: RunRecord) -> Analysis:
    experiment = record.experiment
    settings = experiment.report
    model = experiment.load.kind
    targets = list(experiment.targets)
    labels = {name: experiment.label(name) for name in targets}
    cells = group_cells(record.steps, settings.confidence)
    levels = sorted({level for (_t, level) in cells} | set(experiment.levels()))
    by_target = {t: [c for lv in levels if (c := cells.get((t, lv)))] for t in targets}
    winners = {
        level: winner_at(
            level, [c for (_t, lv), c in cells.items() if lv == level], settings, model
        )
        for level in levels
    }
    findings = [
        line for t in targets for line in target_findings(labels[t], by_target[t], model.unit)
    ]
    findings += client_findings(record) + failure_findings(record)
    return Analysis(
        targets=targets,
        labels=labels,
        levels=levels,
        settings=settings,
        cells=cells,
        winners=winners,
        breaking_points={t: breaking_point(by_target[t], settings) for t in targets},
        saturation={t: saturation_point(by_target[t], settings) for t in targets},
        findings=findings,
        recommendations=comparison_findings(by_target, labels, settings),
        model=model,
        validity=experiment.validity,
        rules={
            "winner": winner_rule(settings, model),
            "breaking": breaking_rule(settings),
            "saturation": saturation_rule(settings),
        },
    )
