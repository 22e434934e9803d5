"""bench/capacity.py's yardstick: the capacity an exhaustive sweep gives, read three ways."""

from __future__ import annotations

import functools
import importlib.util
import math
import sys
from types import ModuleType

import pytest

from runner.capacity.objective import Objective
from tests.conftest import PROJECT_ROOT
from tests.factories import step

SCRIPT = PROJECT_ROOT / "bench" / "capacity.py"
P99_50MS = Objective("p99", 50.0, 0.01)


@functools.cache
def bench() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))  # its `from _shared import ...`, as when it is run
    spec = importlib.util.spec_from_file_location("bench_capacity", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def figures(*points: tuple[int, float] | tuple[int, float, bool]) -> list[object]:
    """(rate, median p99 ms[, held]) per swept rate."""
    rate_figures = bench().RateFigures
    return [rate_figures(p[0], p[1], p[2] if len(p) > 2 else True) for p in points]


def test_a_clean_knee_reads_the_same_every_way() -> None:
    swept = figures((100, 10.0), (200, 20.0), (300, 40.0), (400, 60.0), (500, 90.0))
    # Between 300 (40 ms) and 400 (60 ms): half way.
    assert bench().monotone_capacity(P99_50MS, swept) == pytest.approx(350.0)
    assert bench().highest_pass_capacity(P99_50MS, swept) == pytest.approx(350.0)


def test_a_lucky_pass_above_a_fail_is_weighed_not_believed() -> None:
    # 300 fails and 400 passes by chance: the highest pass reads beyond 400; the monotone fit
    # pools 300 and 400 (55 ms, failing) and crosses between 200 and there.
    swept = figures((100, 10.0), (200, 30.0), (300, 60.0), (400, 50.0), (500, 90.0))
    assert bench().highest_pass_capacity(P99_50MS, swept) == pytest.approx(400.0)
    monotone = bench().monotone_capacity(P99_50MS, swept)
    assert monotone == pytest.approx(200 + 100 * (50 - 30) / (55 - 30))


def test_a_rate_broken_by_drops_fails_at_any_latency() -> None:
    swept = figures((100, 10.0), (200, 20.0), (300, 25.0, False), (400, 30.0))
    assert bench().monotone_capacity(P99_50MS, swept) == pytest.approx(200.0)


def test_no_rate_passing_and_every_rate_passing() -> None:
    assert bench().monotone_capacity(P99_50MS, figures((100, 60.0), (200, 70.0))) is None
    every_rate_passes = figures((100, 10.0), (200, 20.0))
    assert bench().monotone_capacity(P99_50MS, every_rate_passes) == math.inf  # knee beyond
    assert bench().highest_pass_capacity(P99_50MS, every_rate_passes) == math.inf


def test_single_repetitions_give_the_yardsticks_own_range() -> None:
    steps = [
        step("django", rate, rate, repetition=repetition, p95=p99 / 1.5)
        for repetition, crossings in ((1, (20.0, 40.0, 60.0)), (2, (20.0, 60.0, 70.0)))
        for rate, p99 in zip((100, 200, 300), crossings, strict=True)
    ]
    low, high = bench().repetition_spread(P99_50MS, steps)
    assert low == pytest.approx(100 + 100 * (50 - 20) / (60 - 20))  # repetition 2
    assert high == pytest.approx(250.0)  # repetition 1
    per_rate = bench().figures_by_rate(P99_50MS, steps)
    assert [f.latency_ms for f in per_rate] == pytest.approx([20.0, 50.0, 65.0])
