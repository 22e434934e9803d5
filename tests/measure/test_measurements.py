"""What one step measures, through the runner's step (runner.measure.step) on a real server and k6.

The server is tests/apps/faulty.py: it counts the requests it answers (/count), so what k6 and
the runner counted can be checked against what the server really saw.
"""

from __future__ import annotations

import csv
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from runner.config.experiment import Experiment, validate_experiment
from runner.measure import k6
from runner.measure import step as one_step
from runner.measure.server import RunningServer
from runner.measure.usage import PEAK_WINDOW_S, Sample, summarize
from runner.records.results import StepResult
from runner.run.plan import Step
from runner.run.progress import live_line
from tests.conftest import FAULTY


def experiment(load: dict[str, Any], sweep: dict[str, Any]) -> Experiment:
    """An experiment on the faulty app; `load.endpoint` here is the scenario's one request."""
    load = dict(load)
    path = load.pop("endpoint", "/json")
    scenario = {"name": "m", "requests": [{"path": path}]}
    data = {"name": "m", "targets": {"faulty": FAULTY}, "sweep": sweep, "load": load}
    return validate_experiment({**data, "scenario": scenario}, "test")


def served(server: RunningServer) -> int:
    """Requests the server has answered so far (the count itself not included)."""
    with urllib.request.urlopen(f"{server.base_url}/count", timeout=10) as response:
        return int(json.load(response)["requests"])


def run_step(server: RunningServer, spec: Experiment, work_dir: Path) -> StepResult:
    step = Step("faulty", spec.levels()[0], 1, spec.load.kind)
    entry = one_step.run_step(step, server, spec, k6.find_k6(), work_dir)
    assert isinstance(entry, StepResult), entry
    return entry


@pytest.fixture(scope="module")
def flaky_step(
    faulty_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[StepResult, Path]:
    """Closed model, 8 virtual users on /flaky: every 4th answer is an HTTP 500."""
    spec = experiment(
        {"duration": "2s", "warmup": "1s", "endpoint": "/flaky"},
        {"concurrency": {"levels": [8]}},
    )
    work_dir = tmp_path_factory.mktemp("flaky")
    return run_step(faulty_server, spec, work_dir), work_dir


@pytest.mark.slow
def test_open_model_warmup_requests_are_not_counted(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    """100 requests/s for a 2 s warmup then a 1 s window: the server answers about 300,
    the step counts the window's 100 only."""
    spec = experiment(
        {"model": "open", "duration": "1s", "warmup": "2s", "endpoint": "/json"},
        {"rate": {"levels": [100]}},
    )
    before = served(faulty_server)
    entry = run_step(faulty_server, spec, tmp_path)
    seen_by_server = served(faulty_server) - before
    assert entry.model == "open" and entry.level == 100 and entry.target_rps == 100
    assert entry.dropped_iterations == 0
    assert abs(entry.requests - 100) <= 2
    assert abs(seen_by_server - 300) <= 5
    assert seen_by_server - entry.requests >= 195  # the warmup's 200 are not in the count


@pytest.mark.slow
def test_closed_model_warmup_requests_are_not_counted(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    """2 virtual users, 2 s warmup then a 1 s window: about a third of what the server answered."""
    spec = experiment(
        {"duration": "1s", "warmup": "2s", "endpoint": "/json"},
        {"concurrency": {"levels": [2]}},
    )
    before = served(faulty_server)
    entry = run_step(faulty_server, spec, tmp_path)
    seen_by_server = served(faulty_server) - before
    assert entry.model == "closed" and entry.dropped_iterations is None
    assert entry.requests > 100
    assert entry.requests < 0.6 * seen_by_server


@pytest.mark.slow
def test_open_model_against_a_slow_server_reports_dropped_iterations(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    """/blocking answers at most ~50 requests/s; asked for 200/s, k6 must drop the rest."""
    spec = experiment(
        {"model": "open", "duration": "1s", "endpoint": "/blocking", "max_vus": 10},
        {"rate": {"levels": [200]}},
    )
    entry = run_step(faulty_server, spec, tmp_path)
    assert entry.target_rps == 200 and entry.max_vus == 10
    assert entry.dropped_iterations is not None
    assert entry.dropped_iterations >= 100
    # Every scheduled request was either sent or dropped.
    assert abs(entry.requests + entry.dropped_iterations - 200) <= 5
    assert entry.rps < 0.5 * entry.target_rps
    options = json.loads((tmp_path / "k6-options.json").read_text())
    assert options["scenarios"]["measure"]["executor"] == "constant-arrival-rate"


@pytest.mark.slow
def test_known_share_of_http_500_is_the_error_rate_as_5xx(
    flaky_step: tuple[StepResult, Path],
) -> None:
    entry, _ = flaky_step
    assert entry.requests > 200
    assert entry.error_rate == pytest.approx(0.25, abs=0.01)
    assert entry.errors["status_5xx"] == entry.failed_requests
    assert sum(entry.errors.values()) == entry.failed_requests


@pytest.mark.slow
def test_cpu_is_given_per_core_and_per_allowed_cores(flaky_step: tuple[StepResult, Path]) -> None:
    entry, _ = flaky_step
    assert entry.server_cores == 1  # pinned to core 0
    assert entry.cpu_share_percent is not None
    assert entry.cpu_share_percent.avg == pytest.approx(entry.cpu_percent.avg / 1, abs=0.01)
    assert 0 < entry.cpu_percent.avg <= entry.cpu_percent.max + 1
    # A server pinned to one core cannot use more than 100% of it; the 1 s peak says so
    # (single 0.1 s samples can read 110% because of the 10 ms clock tick).
    assert entry.cpu_percent.max <= 104
    assert entry.client_cores == 1 and entry.client_cpu_percent.avg > 0


@pytest.mark.slow
def test_memory_is_rss_uss_and_pss(flaky_step: tuple[StepResult, Path]) -> None:
    entry, work_dir = flaky_step
    rss, uss, pss = entry.memory_mib, entry.memory_uss_mib, entry.memory_pss_mib
    assert uss is not None and pss is not None
    assert 0 < uss.avg <= pss.avg <= rss.avg
    assert uss.avg <= uss.max <= rss.max
    with (work_dir / "samples.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    server_rows = [row for row in rows if row["tree"] == "server"]
    with_memory = [row for row in server_rows if row["rss_mib"]]
    # CPU every 0.1 s; memory (RSS, and USS and PSS for the server) about once a second.
    assert 1 <= len(with_memory) < len(server_rows) / 4
    assert all(row["uss_mib"] and row["pss_mib"] for row in with_memory)
    k6_rows = [row for row in rows if row["tree"] == "k6"]
    assert any(row["rss_mib"] for row in k6_rows)
    assert all(row["uss_mib"] == "" for row in k6_rows)


def tick_quantized_series(busy_share: float, seconds: float) -> list[Sample]:
    """Samples of a process busy `busy_share` of one core, read as Linux reports CPU time
    (whole 10 ms ticks), every 0.1 s plus the 0.5 ms a sampling round takes."""
    samples: list[Sample] = []
    previous_at, previous_ticks = 0.0, 0
    for index in range(int(seconds / 0.1005)):
        at = (index + 1) * 0.1005
        ticks = int(at * busy_share * 100)  # whole ticks used so far
        percent = 100 * (ticks - previous_ticks) * 0.01 / (at - previous_at)
        samples.append(Sample(at, percent, 50.0, 1, cpu_seconds=ticks * 0.01))
        previous_at, previous_ticks = at, ticks
    return samples


def test_cpu_peak_is_not_an_artifact_of_the_clock_tick() -> None:
    samples = tick_quantized_series(busy_share=1.0, seconds=5)
    assert max(s.cpu_percent for s in samples) > 105  # what a per-sample maximum would say
    usage = summarize(samples, 0.0, 6.0)
    assert usage is not None
    assert 99 <= usage.cpu_percent.max <= 101.5
    assert usage.cpu_percent.avg == pytest.approx(100, abs=1)
    assert PEAK_WINDOW_S == 1.0


@pytest.mark.slow
def test_live_numbers_reach_the_progress_display(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    """While k6 runs, the live feed reports k6's throughput and p95 and the sampler's figures."""
    spec = experiment({"duration": "2s", "warmup": "1s"}, {"concurrency": {"levels": [2]}})
    views: list[k6.LiveView] = []
    step = Step("faulty", 2, 1)
    entry = one_step.run_step(
        step, faulty_server, spec, k6.find_k6(), tmp_path, on_live=views.append
    )
    assert isinstance(entry, StepResult)
    measured = [v for v in views if v.k6 is not None and v.k6.measuring and v.k6.rps]
    assert measured, views
    assert all(v.k6.p95_ms > 0 for v in measured if v.k6 is not None)
    assert any(v.server is not None and v.server.rss_mib for v in views)
    assert "RPS" in live_line(measured[-1]) and "of one core" in live_line(measured[-1])
