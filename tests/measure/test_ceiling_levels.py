"""k6's ceiling per number of virtual users (runner.measure.ceiling.levels, .cache): which levels
are measured, how a step's level reads between them, and the cache across versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.measure.ceiling import cache
from runner.measure.ceiling.levels import MAX_LEVELS, spread_levels
from runner.measure.judging import Judging
from runner.measure.validity import ValiditySettings
from runner.records.results import ClientCeiling

KEY = {"cpu_model": "test", "k6": "v1"}


def ceiling(levels: dict[int, float], rps: float | None = None) -> ClientCeiling:
    return ClientCeiling(
        rps=rps if rps is not None else max(levels.values()),
        levels=levels,
        measured_at=0.0,
        measure_s=1.0,
        cached=False,
        key=KEY,
    )


def test_a_few_levels_are_all_measured_and_many_are_spread_in_log_users() -> None:
    assert spread_levels([30, 10, 20, 20]) == [10, 20, 30]
    chosen = spread_levels([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    assert len(chosen) == MAX_LEVELS and chosen[0] == 1 and chosen[-1] == 512
    assert chosen == [1, 8, 64, 512]


def test_a_level_between_two_measured_ones_reads_linearly_in_log_users() -> None:
    measured = ceiling({10: 12_870.0, 64: 10_057.0})
    assert measured.rps_at(10) == 12_870.0
    middle = measured.rps_at(25)  # log(25/10) / log(64/10) = 0.49 of the way
    assert 11_450 < middle < 11_500
    # Outside the measured range the nearest figure holds (no extrapolation).
    assert measured.rps_at(2) == 12_870.0 and measured.rps_at(500) == 10_057.0


def test_a_ceiling_of_older_runs_holds_for_every_level() -> None:
    old = ceiling({}, rps=10_068.0)
    assert old.rps_at(10) == old.rps_at(1000) == 10_068.0
    judging = Judging(ValiditySettings(), ceiling({10: 12_870.0, 64: 10_057.0}))
    assert judging.ceiling_rps(10) == 12_870.0
    assert Judging(ValiditySettings()).ceiling_rps(10) is None


def test_an_old_cache_entry_is_its_one_figure_at_64_users(tmp_path: Path) -> None:
    path = tmp_path / "client_ceiling.json"
    old = ceiling({}, rps=10_068.0).model_dump(mode="json")
    del old["levels"]  # written before per-level ceilings
    path.write_text(json.dumps({"entries": [old]}))
    found = cache.cached(KEY, path)
    assert found is not None and found.cached and found.levels == {64: 10_068.0}


def test_new_levels_join_the_cached_ones(tmp_path: Path) -> None:
    path = tmp_path / "client_ceiling.json"
    cache.store(ceiling({64: 10_057.0}), path)
    kept = cache.cached(KEY, path)
    both = cache.merged(kept, ceiling({10: 12_870.0}))
    cache.store(both, path)
    found = cache.cached(KEY, path)
    assert found is not None and found.levels == {10: 12_870.0, 64: 10_057.0}
    assert found.rps == 12_870.0
    assert found.levels_text() == "12,870 at 10, 10,057 at 64 virtual users (RPS)"


@pytest.mark.parametrize("argument", ["--levels=0", "--levels=-3"])
def test_the_command_refuses_levels_that_are_not_users(
    argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from runner.measure.ceiling.__main__ import main

    assert main([argument]) == 2
    assert "positive numbers of virtual users" in capsys.readouterr().err
