"""A step split over two real k6 instances (runner.measure.step with load.k6_instances), checked
against what the instances themselves wrote: their summaries and their raw samples, read here
independently of the runner's merge."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runner.measure.server import RunningServer
from tests.measure.test_measurements import experiment, run_step


def summary_metric(directory: Path, name: str) -> dict[str, Any]:
    summary = json.loads((directory / "k6-summary.json").read_text())
    found: dict[str, Any] = summary["metrics"][name]
    return found


def raw_measured_durations(path: Path) -> list[float]:
    with gzip.open(path, "rt", newline="") as stream:
        return [
            float(row["metric_value"])
            for row in csv.DictReader(stream)
            if row["metric_name"] == "http_req_duration" and row["scenario"] == "measure"
        ]


@pytest.mark.slow
def test_split_step_sums_the_instances_and_pools_their_samples(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    spec = experiment(
        {"duration": "2s", "warmup": "1s", "k6_instances": 2}, {"concurrency": {"levels": [4]}}
    )
    entry = run_step(faulty_server, spec, tmp_path)
    instances = [tmp_path / "k6-1", tmp_path / "k6-2"]
    counts = [summary_metric(d, "http_reqs{scenario:measure}")["count"] for d in instances]
    # Each instance ran half of the 4 virtual users, in each of the two scenarios (k6 allocates
    # the warmup's and the window's apart): 2 + 2, where one k6 alone allocates 4 + 4.
    assert [summary_metric(d, "vus_max")["value"] for d in instances] == [4, 4]
    assert min(counts) > 50 and entry.requests == sum(counts)
    pooled = np.asarray(
        [value for d in instances for value in raw_measured_durations(d / "k6-samples.csv.gz")]
    )
    assert pooled.size == entry.requests
    assert entry.latency_ms.p99 == pytest.approx(np.percentile(pooled, 99), abs=0.0006)
    assert entry.latency_ms.p50 == pytest.approx(np.percentile(pooled, 50), abs=0.0006)
    assert entry.latency_ms.max == pytest.approx(pooled.max(), abs=0.0006)
    # One instance's raw samples give back its own summary's percentile (k6's method).
    first = np.asarray(raw_measured_durations(instances[0] / "k6-samples.csv.gz"))
    own_p99 = summary_metric(instances[0], "http_req_duration{scenario:measure}")["p(99)"]
    assert np.percentile(first, 99) == pytest.approx(own_p99, abs=0.0006)
    assert entry.k6_split is not None
    assert [(i.instance, i.segment, i.requests) for i in entry.k6_split] == [
        (1, "0:1/2", counts[0]),
        (2, "1/2:1", counts[1]),
    ]
    assert sum(i.rps for i in entry.k6_split) == pytest.approx(entry.rps, abs=0.02)
    with (tmp_path / "samples.csv").open() as stream:
        trees = {row["tree"] for row in csv.DictReader(stream)}
    assert {"k6", "k6.1", "k6.2", "server"} <= trees


@pytest.mark.slow
def test_open_model_split_shares_the_arrival_rate(
    faulty_server: RunningServer, tmp_path: Path
) -> None:
    spec = experiment(
        {"model": "open", "duration": "2s", "warmup": "1s", "k6_instances": 2},
        {"rate": {"levels": [200]}},
    )
    entry = run_step(faulty_server, spec, tmp_path)
    assert entry.k6_split is not None and entry.dropped_iterations == 0
    assert [i.requests for i in entry.k6_split] == [pytest.approx(200, abs=3)] * 2
    assert entry.requests == sum(i.requests for i in entry.k6_split)
    assert entry.rps == pytest.approx(200, rel=0.03)


@pytest.mark.slow
def test_one_instance_step_is_unchanged(faulty_server: RunningServer, tmp_path: Path) -> None:
    spec = experiment({"duration": "1s", "warmup": "1s"}, {"concurrency": {"levels": [2]}})
    entry = run_step(faulty_server, spec, tmp_path)
    duration = summary_metric(tmp_path, "http_req_duration{scenario:measure}")
    assert entry.k6_split is None
    assert entry.latency_ms.p99 == round(duration["p(99)"], 3)
    assert not [path for path in tmp_path.glob("k6-*") if path.is_dir()]
    assert not list(tmp_path.glob("**/k6-samples.csv*"))
    with (tmp_path / "samples.csv").open() as stream:
        assert {row["tree"] for row in csv.DictReader(stream)} == {"k6", "server"}
