"""Every step judged (runner.measure.judging), in order (runner.run.plan, runner.run.server_pool): the pure
parts, then real runs through the CLI with real servers, k6 and a real CPU hog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.config.experiment import Experiment
from runner.measure.cpu_accounting import CounterReading, read_cpu_snapshot
from runner.measure.judging import CoreSet, window_interference
from runner.measure.ports import free_port
from runner.measure.usage import Sample
from runner.records.results import RunRecord, StepKey
from runner.records.store import STEPS_FILE, load_run
from runner.run.plan import build_plan
from tests.conftest import TEST_EXPERIMENTS, compose_config, run_cli, start_cli
from tests.factories import record, step

# --- the order of the steps -------------------------------------------------------------------


def experiment(*overrides: str) -> Experiment:
    from omegaconf import OmegaConf

    config = compose_config("quickstart", "sweep.concurrency.levels=[10,20]", *overrides)
    return Experiment.model_validate(OmegaConf.to_container(config, resolve=True))


def keys(*overrides: str) -> list[StepKey]:
    return [s.key for s in build_plan(experiment(*overrides)).steps]


def test_sequential_is_target_by_target_and_the_default_without_repetitions() -> None:
    plan = build_plan(experiment())
    assert plan.order == "sequential" and not plan.interleaved
    assert [k.target for k in keys()] == ["fastapi"] * 2 + ["django_wsgi"] * 2 + ["django_asgi"] * 2


def test_interleaved_takes_the_targets_in_turn_level_by_level_with_repetitions() -> None:
    plan = build_plan(experiment("repetitions=2"))
    assert plan.order == "interleaved"
    targets = ["fastapi", "django_wsgi", "django_asgi"]
    expected = [(t, level, r) for r in (1, 2) for level in (10, 20) for t in targets]
    assert [s.key for s in plan.steps] == expected


def test_shuffled_is_seeded_and_keeps_every_step_and_each_level_in_turn() -> None:
    first = keys("order=shuffled", "order_seed=7", "repetitions=3")
    assert first == keys("order=shuffled", "order_seed=7", "repetitions=3")
    others = [keys("order=shuffled", f"order_seed={seed}", "repetitions=3") for seed in range(5)]
    assert any(other != first for other in others)
    assert sorted(first) == sorted(keys("order=sequential", "repetitions=3"))
    # Each round of three is one level and repetition, every target once.
    rounds = [first[i : i + 3] for i in range(0, len(first), 3)]
    assert all(
        len({(k.level, k.repetition) for k in r}) == 1 and len({k.target for k in r}) == 3
        for r in rounds
    )


# --- interference over the sampler's span ------------------------------------------------------


def counters(at: float, cpu0_busy: int, cpu1_busy: int, runner_s: float) -> CounterReading:
    """/proc/stat's per-core lines with `busy` ticks of user time (USER_HZ 100 assumed below)."""
    text = f"cpu  0 0 0 0 0 0 0 0\ncpu0 {cpu0_busy} 0 0 1000 0 0 0 0\ncpu1 {cpu1_busy} 0 0 1000 0 0 0 0"
    return CounterReading(at, text, runner_s)


def sample(at: float, cpu_seconds: float) -> Sample:
    return Sample(at=at, cpu_percent=0.0, rss_mib=None, processes=1, cpu_seconds=cpu_seconds)


@pytest.mark.skipif(os.sysconf("SC_CLK_TCK") != 100, reason="the figures assume USER_HZ 100")
def test_interference_is_core_time_the_trees_and_the_runner_did_not_use() -> None:
    readings = [
        counters(9.9, 0, 0, 0.0),
        counters(10.5, 40, 30, 0.05),
        counters(11.9, 200, 100, 0.2),
    ]
    samples = {
        "server": [sample(9.9, 0.0), sample(10.5, 0.3), sample(11.9, 0.5)],
        "k6": [sample(10.5, 0.25), sample(11.9, 0.75)],  # tracked after the first tick
    }
    sets = [
        CoreSet("server", frozenset({0}), ("server",), False),
        CoreSet("client", frozenset({1}), ("k6",), True),
    ]
    # The window [10, 12]: the span runs from the last tick before it to the last inside.
    server, client = window_interference(readings, samples, 10.0, 12.0, sets)
    assert server.usage.window_s == pytest.approx(2.0)
    assert server.share == pytest.approx((2.0 - 0.5) / 2.0)
    assert client.share == pytest.approx((1.0 - 0.75 - 0.2) / 2.0)
    assert window_interference(readings, samples, 20.0, 21.0, sets) == []


def test_the_sampler_tick_reading_parses_as_the_kernel_counters() -> None:
    from runner.measure.cpu_accounting import read_counters

    reading = read_counters(time.time())
    assert "intr" not in reading.proc_stat
    assert set(reading.snapshot().cores) == set(read_cpu_snapshot().cores)


# --- the report -------------------------------------------------------------------------------


def test_a_step_of_a_hundred_requests_prints_no_p99_and_says_why(tmp_path: Path) -> None:
    from runner.report import write_reports

    small = step("a", 10, 20.0)  # 100 requests over 5 s
    rec = record([small, step("a", 20, 3000.0)])
    write_reports(tmp_path, rec)
    report = (tmp_path / "report.md").read_text()
    header, row = _step_row_with(report, requests="100")
    cells = dict(zip(header, row, strict=True))
    assert cells["p99 ms"] == "too few (100 < 1,000 requests)"
    assert cells["p99.9 ms"] == "too few (100 < 10,000 requests)"
    assert cells["p95 ms"] == "too few (100 < 200 requests)"  # a p95 needs 200
    assert cells["p90 ms"] == "9.0"  # a p90 needs 100: printed
    assert "percentile p is printed only from 10" in report  # the rule, in Step validity


def _step_row_with(report: str, requests: str) -> tuple[list[str], list[str]]:
    """The steps table's header and its row of a step with this many requests (Markdown)."""
    lines = [line for line in report.splitlines() if line.startswith("| ")]
    split = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    header = next(cells for cells in split if "Requests" in cells)
    row = next(
        c for c in split if len(c) == len(header) and c[header.index("Requests")] == requests
    )
    return header, row


# --- real runs --------------------------------------------------------------------------------


def _busy_shares(seconds: float = 1.0) -> dict[int, float]:
    before = read_cpu_snapshot()
    time.sleep(seconds)
    after = read_cpu_snapshot()
    return {
        core: (after.cores[core].busy - before.cores[core].busy) / (after.at - before.at)
        for core in after.cores
    }


def _wait_for_quiet_cores(cores: set[int], attempts: int = 30) -> None:
    """A neighbour's work on the measured cores would be interference too: wait it out."""
    seen = []
    for _ in range(attempts):
        shares = _busy_shares()
        seen.append(max(shares[c] for c in cores))
        if seen[-1] < 0.15:
            return
    pytest.skip(f"the machine never went quiet on cores {sorted(cores)}: {seen}")


HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


@contextmanager
def cpu_hog(core: int, seconds: float) -> Iterator[float]:
    """A bounded busy loop pinned to `core`; yields when it started (Unix seconds)."""
    hog = subprocess.Popen(
        [sys.executable, "-c", HOG.format(seconds=seconds)],
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
    )
    try:
        yield time.time()
    finally:
        hog.kill()
        hog.wait()


def _stored_steps(run_dir: Path) -> list[dict[str, object]]:
    path = run_dir / STEPS_FILE
    if not path.is_file():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line.get("kind") == "step"]


def _codes(s: dict[str, object]) -> set[str]:
    validity = s["validity"]
    assert isinstance(validity, dict)
    return {r["code"] for r in validity["reasons"] if r["invalidates"]}


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_cpu_hog_on_the_server_core_invalidates_the_steps_under_it(tmp_path: Path) -> None:
    _wait_for_quiet_cores({0, 1})
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=validity_hog"]
    runner = start_cli(*args, f"hydra.run.dir={tmp_path}", stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _stored_steps(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _stored_steps(tmp_path), "the first step was never stored"
        with cpu_hog(core=0, seconds=60) as hog_started:
            assert runner.wait(timeout=120) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    steps = [s for s in _stored_steps(tmp_path)]
    # A step is before the hog when its window ended before the hog started, under it when its
    # window began after (a step the hog's start fell into is neither).
    before = [s for s in steps if _window(s)[1] < hog_started]
    under = [s for s in steps if _window(s)[0] > hog_started]
    assert before and len(under) >= 2, [_window(s) for s in steps]
    for s in under:
        assert "interference" in _codes(s), s["validity"]
        assert _interference(s).get("server", 0.0) >= 0.3, s["validity"]
    for s in before:
        if _interference(s).get("client", 0.0) > 0.1:
            pytest.skip(f"a neighbour loaded the client core too before the hog: {s['validity']}")
        stolen = max(v for k, v in s["validity"]["measured"].items() if k.endswith("_steal"))
        if stolen > STOLEN:
            pytest.skip(f"the hypervisor took {stolen:.0%} of a core before the hog (steal)")
        assert "interference" not in _codes(s), s["validity"]


# Steal before the hog above which the step before it cannot be quiet (other work counts steal).
STOLEN = 0.05


def _window(s: dict[str, object]) -> tuple[float, float]:
    start, length = s["started_at"], s["duration_s"]
    assert isinstance(start, float) and isinstance(length, float)
    return start, start + length


def _interference(s: dict[str, object]) -> dict[str, float]:
    """Role -> the share of its cores other work took, from the step's interference reasons."""
    validity = s["validity"]
    assert isinstance(validity, dict)
    found = {}
    for reason in validity["reasons"]:
        for name, value in reason["figures"].items():
            if reason["code"] == "interference" and name.endswith("_interference"):
                found[name.removesuffix("_interference")] = value
    return found


@pytest.mark.slow
def test_an_open_step_beyond_capacity_does_not_hold_its_rate(tmp_path: Path) -> None:
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=validity_open"]
    # A neighbour's work on this machine may add interference; the rate is what is tested.
    quiet_enough = ["validity.max_interference=1", "validity.max_steal=1"]
    result = run_cli(*args, *quiet_enough, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    run = load_run(tmp_path)
    by_level = {s.level: s for s in run.steps}
    # 30 preallocated users (300 RPS x 100 ms, capped at 50) in the warmup and in the window.
    assert by_level[300].vus_preallocated == 60
    assert (by_level[300].vus_initialised or 0) >= 60
    beyond = by_level[300].validity
    # The server could not hold the rate while k6 had CPU and users to spare: its result.
    assert beyond is not None and beyond.valid, beyond
    [broke] = [r for r in beyond.reasons if r.code == "rate_not_held"]
    assert not broke.invalidates
    assert broke.text.startswith("could not hold the rate: achieved ")
    assert " of 300 RPS, p99 " in broke.text
    report = (tmp_path / "report.md").read_text()
    assert "300 (could not hold the rate: achieved " in report  # its breaking point
    # The step at half the capacity has about a hundred requests: no p99.9, and the cell says why.
    small = by_level[50]
    assert small.requests < 1000
    _, row = _step_row_with(report, requests=f"{small.requests:,}")
    assert any(cell.startswith("too few (") for cell in row)
    assert small.validity is not None
    withheld = {r.figures["percentile"] for r in small.validity.reasons if not r.invalidates}
    assert {0.99, 0.999} <= withheld


@pytest.mark.slow
def test_a_step_against_the_minimal_responder_is_client_bound(tmp_path: Path) -> None:
    port = free_port()
    responder = subprocess.Popen(
        [sys.executable, "-m", "runner.measure.ceiling.responder", str(port)],
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    try:
        args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=validity_client"]
        env = {"SWEEPBENCH_CACHE_DIR": str(tmp_path / "cache")}
        url = f"targets.responder.url=http://127.0.0.1:{port}"
        result = run_cli(*args, url, f"hydra.run.dir={tmp_path / 'run'}", env=env)
    finally:
        responder.terminate()
        responder.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run: RunRecord = load_run(tmp_path / "run")
    [measured] = run.steps
    assert measured.client_bound
    assert measured.validity is not None and "client_bound" in {
        r.code for r in measured.validity.reasons
    }
    if run.provenance.client_ceiling is None:
        # Measured while a neighbour loaded these cores: neither cached nor used (the log says so).
        assert "could not be measured" in result.stderr + result.stdout
        pytest.skip("k6's ceiling was disturbed by other work on this machine")
    assert run.provenance.client_ceiling.measure_s < 15
    # Recorded against the ceiling measured minutes before (noise on a shared machine moves it).
    assert measured.client_ceiling_share is not None and measured.client_ceiling_share > 0.3
    assert (tmp_path / "cache" / "client_ceiling.json").is_file()


@pytest.mark.slow
def test_interleaved_steps_keep_both_servers_and_restart_each_per_repetition(
    tmp_path: Path,
) -> None:
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=order_interleaved"]
    result = run_cli(*args, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    run = load_run(tmp_path)
    assert run.provenance.step_order is not None
    assert run.provenance.step_order.order == "interleaved"
    ran = [
        f"{s.target}/{s.level}/{s.repetition}"
        for s in sorted(run.steps, key=lambda s: s.started_at)
    ]
    assert ran == run.provenance.step_order.steps
    assert ran[:4] == ["first/1/1", "second/1/1", "first/2/1", "second/2/1"]
    for target in ("first", "second"):
        pids = {s.repetition: s.server_pid for s in run.steps if s.target == target}
        assert pids[1] != pids[2]  # restarted before its second repetition
        assert len(run.provenance.target_start_s[target]) == 2
