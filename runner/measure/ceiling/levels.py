"""At which numbers of virtual users k6's ceiling is measured, and which one judges a step.

k6's own cost per request depends on how many users it drives: on this project's machine it
did 12,870 RPS against the responder with 10 users and 10,057 with 64, so one 64-user figure
judges a 10-user step against too low a ceiling. The ceiling is measured at a few of the run's
own levels (at most MAX_LEVELS, spread evenly in log(users) and always the lowest and highest),
and read between them by interpolation (ClientCeiling.rps_at).

Closed model: a step's users are its level. Open model: the users k6 preallocates for the
rate (Load.open_vus), since those are what it drives without dropping iterations.
"""

from __future__ import annotations

import math

from runner.config.experiment import Experiment
from runner.config.experiment.load import Load

# Enough users to keep k6 busy on its core(s) while each waits on a reply: the one level of
# ceilings measured before per-level figures, and the level of a capacity search (its trials
# are not judged against the ceiling).
CEILING_VUS = 64
# Each level costs about CEILING_WARMUP_S + CEILING_DURATION_S (runner.measure.ceiling).
MAX_LEVELS = 4


def step_vus(load: Load, level: int) -> int:
    """The virtual users k6 drives in a step at `level` (the ceiling's level for it)."""
    return load.open_vus(level)[0] if load.kind.fixed_rate else level


def spread_levels(levels: list[int], most: int = MAX_LEVELS) -> list[int]:
    """At most `most` of `levels`: the lowest, the highest, and those nearest to evenly spaced
    points in log(users) between them."""
    distinct = sorted({level for level in levels if level > 0})
    if len(distinct) <= most:
        return distinct
    low, high = math.log(distinct[0]), math.log(distinct[-1])
    wanted = [low + (high - low) * i / (most - 1) for i in range(most)]
    chosen = {min(distinct, key=lambda level: abs(math.log(level) - w)) for w in wanted}
    return sorted(chosen)


def ceiling_levels(experiment: Experiment) -> list[int]:
    """The users to measure k6's ceiling at for this experiment."""
    load = experiment.load
    if load.kind.searched:
        return [CEILING_VUS]
    return spread_levels([step_vus(load, level) for level in experiment.levels()])
