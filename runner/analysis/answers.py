"""Each level's answer in structured form, for the reports' headline: who won, against whom, by
what ratio (with its confidence interval when both have repetitions), how sure, and what was left
out. Read from the Analysis only.

The winner is the level's Verdict's; the rest is derived from the cells here, in one place
(`answer_at`), so a Verdict that states the runner-up, the lead or a floor itself can be read
instead without touching the headline's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from runner.analysis.analysis import Analysis
from runner.analysis.cells import Cell
from runner.analysis.significance import welch_estimate
from runner.analysis.verdicts import winner_metric


class Outcome(Enum):
    WON = "won"  # the Verdict names a winner
    TIED = "tied"  # two or more ranked, no winner declared (lead too small or not significant)
    ALONE = "alone"  # one target ranked: nothing to compare
    EMPTY = "empty"  # no valid step at this level
    CANNOT_RANK = "cannot rank"  # a floor below the leader may be above it (runner.analysis.floors)


class Bound(Enum):
    """How the ratio is bounded when a figure is a floor (k6 was the limit, not the server)."""

    EXACT = "exact"
    AT_LEAST = "at least"  # the winner's figure is a floor
    AT_MOST = "at most"  # the runner-up's figure is a floor
    UNKNOWN = "unknown"  # both are floors


@dataclass(frozen=True)
class Ratio:
    """The leader's deciding figure over the runner-up's (successful RPS, or p95 under the open
    model): with repetitions on both sides the ratio of geometric means and its interval
    (runner.analysis.significance), else the ratio of the medians."""

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def spread_from_one(self) -> float:
        """How far the interval (or the value) reaches from 1: 'the same within +-X'."""
        ends = [self.low, self.high] if self.low is not None and self.high is not None else []
        return max(abs(end - 1) for end in [self.value, *ends])


@dataclass(frozen=True)
class LevelAnswer:
    level: int
    outcome: Outcome
    leader: Cell | None = None  # the winner, or the best-ranked target of a tie
    runner_up: Cell | None = None
    ratio: Ratio | None = None  # None: no runner-up, or its figure is 0
    bound: Bound = Bound.EXACT
    unranked: tuple[str, ...] = ()  # targets measured here with no valid step

    @property
    def provisional(self) -> bool:
        """Fewer than two valid runs on a side: the lead's noise is unmeasured."""
        return self.runner_up is not None and min(c.runs for c in self._pair()) < 2

    def _pair(self) -> list[Cell]:
        return [c for c in (self.leader, self.runner_up) if c is not None]


def level_answers(analysis: Analysis) -> list[LevelAnswer]:
    return [answer_at(analysis, level) for level in analysis.levels]


def answer_at(analysis: Analysis, level: int) -> LevelAnswer:
    """The one place that reads a level's Verdict, cells and floors into a LevelAnswer. Under
    the closed model a floor (a client-bound cell: k6's limit) ranks as its Verdict ranked it;
    under the open model floors are not ranked."""
    model = analysis.model
    cells = [c for t in analysis.targets if (c := analysis.cell(t, level)) is not None]
    if not model.fixed_rate:
        cells += [f for t in analysis.targets if (f := analysis.floor(t, level)) is not None]
    ranked = sorted(
        cells, key=lambda c: winner_metric(c, model).median, reverse=model.higher_is_better
    )
    in_ranking = {c.target for c in ranked}
    unranked = tuple(
        t for t in analysis.targets if (t, level) in analysis.measured and t not in in_ranking
    )
    if len(ranked) < 2:
        outcome = Outcome.ALONE if ranked else Outcome.EMPTY
        return LevelAnswer(level, outcome, ranked[0] if ranked else None, unranked=unranked)
    verdict = analysis.winners.get(level)
    won = verdict is not None and verdict.target == ranked[0].target
    outcome = Outcome.WON if won else Outcome.TIED
    if not won and verdict is not None and verdict.unranked and not model.fixed_rate:
        outcome = Outcome.CANNOT_RANK
    leader, runner_up = ranked[0], ranked[1]
    return LevelAnswer(
        level=level,
        outcome=outcome,
        leader=leader,
        runner_up=runner_up,
        ratio=_ratio(analysis, leader, runner_up),
        bound=_bound(leader, runner_up) if model.higher_is_better else Bound.EXACT,
        unranked=unranked,
    )


def _ratio(analysis: Analysis, leader: Cell, runner_up: Cell) -> Ratio | None:
    mine = winner_metric(leader, analysis.model)
    theirs = winner_metric(runner_up, analysis.model)
    if theirs.median <= 0 or mine.median <= 0:
        return None
    if min(mine.n, theirs.n) < 2:
        return Ratio(mine.median / theirs.median)
    alpha = 1 - analysis.settings.confidence
    estimate = welch_estimate(theirs.values, mine.values, relative=True, alpha=alpha)
    return Ratio(1 + estimate.change, 1 + estimate.low, 1 + estimate.high)


def _bound(leader: Cell, runner_up: Cell) -> Bound:
    """A client-bound cell's throughput is a floor of what its server can do."""
    # A floor cell, or a client-bound one that counts (a run stored before validity was judged).
    floors = (leader.floor or leader.client_bound, runner_up.floor or runner_up.client_bound)
    return {
        (False, False): Bound.EXACT,
        (True, False): Bound.AT_LEAST,
        (False, True): Bound.AT_MOST,
        (True, True): Bound.UNKNOWN,
    }[floors]
