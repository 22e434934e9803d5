"""bench/capacity.py: its yardstick, the capacity an exhaustive sweep gives, read three ways;
the reference app searched beside the shipped targets, and the spreads it normalizes."""

from __future__ import annotations

import functools
import importlib.util
import math
import sys
from pathlib import Path
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


def test_the_reference_app_is_one_more_target_of_the_shipped_experiment(tmp_path: Path) -> None:
    base = bench().compose_experiment("capacity", [])
    shipped = bench().shipped_experiment(base, "fastapi,django_asgi")
    experiment = bench().with_reference(shipped, 2.0, tmp_path)
    assert list(experiment.targets) == ["fastapi", "django_asgi", "reference_spin_2ms"]
    reference = experiment.targets["reference_spin_2ms"]
    assert (reference.app, reference.server, reference.workers) == ("tests.apps.serial:app", "uvicorn", 1)  # fmt: skip
    assert reference.env == {
        "SERIAL_HOLD_MS": "2",
        "SERIAL_STATS_FILE": str(tmp_path / "reference_spin_2ms.json"),  # where true_rate reads
        "SERIAL_HOLD_KIND": "spin",
        "SERIAL_LOCK_JSON": "1",
    }
    assert [r.path for r in experiment.scenario.requests] == ["/json"]  # served behind its lock
    assert experiment.targets["fastapi"] == shipped.targets["fastapi"]
    assert bench().reference_name(0.5) == "reference_spin_0_5ms"


def test_capacities_over_the_same_runs_reference_rate() -> None:
    # The machine sped up by 20% over the runs; the target moved with it.
    capacities = [1000, None, 1100, 1200]
    rates: list[float | None] = [400.0, 420.0, None, 480.0]
    assert bench().normalized(capacities, rates) == pytest.approx([2.5, 2.5])  # runs 1 and 4
    assert bench().spread([1000, 1100, 1200]) == pytest.approx((1100, 100 / 1100))
    assert bench().spread([2.5, 2.5]) == (2.5, 0.0)
    with pytest.raises(ValueError):
        bench().normalized([1000], [400.0, 420.0])  # one reference rate per run


def test_precision_prints_the_drift_and_the_normalized_spread(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = bench().Found
    runs = [
        found("fastapi", "FastAPI", capacity, capacity, capacity + 50, f"{capacity} RPS", 60.0)
        for capacity in (1000, 1100, 1200)
    ]
    rates: list[float | None] = [400.0, 440.0, 480.0]
    bench().drift(rates)
    bench().precision("fastapi", runs, rates)
    out = capsys.readouterr().out
    assert "reference: its own true rate, run by run: 400, 440, 480 RPS" in out
    assert "reference: spread of its true rate around the median (440 RPS): 9.1%" in out
    assert "FastAPI: spread around the median (1100 RPS): 9.1%  (budget <= 7.5%: OVER)" in out
    normalized = "FastAPI: spread of capacity / the same run's reference rate around the median (2.500): 0.0%"  # fmt: skip
    assert normalized in out and "normalized by the same run's reference" in out
    assert out.rstrip().endswith("3 runs; budget <= 7.5%: within)")
