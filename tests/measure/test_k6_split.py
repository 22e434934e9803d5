"""A step split over several k6 instances, without running k6: segments, the exact merge of
counts and pooled latency samples, k6's raw CSV, merged live readings, the summed client trees,
the setting's validation and what the report says."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runner.config.experiment import validate_experiment
from runner.measure import k6
from runner.measure.k6.client_trees import combined_series, with_client_total
from runner.measure.k6.live import merge_readings
from runner.measure.k6.merge import latency_spectrum, merge_metrics
from runner.measure.k6.process import K6Command, spawn_local, spawn_without_user_settings
from runner.measure.k6.raw import measured_durations
from runner.measure.k6.summary import ERROR_CAUSES, K6Metrics
from runner.measure.usage import Sample
from runner.report.configuration import configuration_facts
from tests.config.test_model import VALID, error_for, with_change
from tests.factories import record, step


def k6_percentile(values: list[float], pct: float) -> float:
    """k6's TrendSink.P, written out: linear between the sorted values around pct x (n - 1)."""
    ordered = sorted(values)
    rank = pct * (len(ordered) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    return low + (high - low) * (rank - math.floor(rank))


def metrics(requests: int, durations: list[float], **extra: Any) -> K6Metrics:
    errors = dict.fromkeys(ERROR_CAUSES, 0) | extra.pop("errors", {})
    return K6Metrics(
        requests=requests,
        failed_requests=extra.pop("failed", 0),
        iterations=extra.pop("iterations", requests),
        latency_ms=latency_spectrum(np.asarray(durations)),
        errors=errors,
        dropped_iterations=extra.pop("dropped", 0),
        iteration_duration_avg_ms=extra.pop("iteration_ms", None),
        vus_initialised=extra.pop("vus", None),
    )


# --- segments -----------------------------------------------------------------------------------


def test_one_instance_adds_no_k6_arguments() -> None:
    (only,) = k6.segments(1)
    assert only.k6_args() == [] and only.tree == "k6" and only.number == 1


def test_segments_cover_the_test_exactly_once() -> None:
    three = k6.segments(3)
    assert [s.segment for s in three] == ["0:1/3", "1/3:2/3", "2/3:1"]
    assert {s.sequence for s in three} == {"0,1/3,2/3,1"}
    assert [s.tree for s in three] == ["k6.1", "k6.2", "k6.3"]
    assert three[1].k6_args() == [
        "--execution-segment",
        "1/3:2/3",
        "--execution-segment-sequence",
        "0,1/3,2/3,1",
    ]
    assert sum(s.share for s in three) == 1
    with pytest.raises(ValueError, match="at least one"):
        k6.segments(0)


def test_unsplit_command_is_the_usual_one(tmp_path: Path) -> None:
    command = k6.k6_command(Path("/bin/k6"), Path("s.js"), {"a": 1}, tmp_path, 6000)
    assert command.argv == [
        "/bin/k6",
        "run",
        "--quiet",
        "--no-color",
        "--config",
        str(tmp_path / "k6-options.json"),
        "--summary-export",
        str(tmp_path / "k6-summary.json"),
        "--address",
        "127.0.0.1:6000",
        "s.js",
    ]
    assert command.raw_path is None and list(command.files) == [tmp_path / "k6-options.json"]


def test_split_instances_have_their_own_files_segment_and_raw_output(tmp_path: Path) -> None:
    instances = k6.step_instances(Path("/bin/k6"), Path("s.js"), {}, tmp_path, 2)
    second = instances[1].command
    assert second.summary_path == tmp_path / "k6-2" / "k6-summary.json"
    assert second.raw_path == tmp_path / "k6-2" / "k6-samples.csv.gz"
    assert "--execution-segment" in second.argv and "1/2:1" in second.argv
    assert ["--out", f"csv={second.raw_path}"] == second.argv[-5:-3]
    assert len({i.command.api_port for i in instances}) == 2
    assert instances[1].name == "k6 instance 2 of 2"


# --- the merge ----------------------------------------------------------------------------------


def test_spectrum_is_k6s_percentile_of_the_samples() -> None:
    values = [float(v) for v in np.random.default_rng(7).lognormal(1.0, 0.8, 1001)]
    spectrum = latency_spectrum(np.asarray(values))
    for field, pct in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99_99", 0.9999)]:
        assert spectrum[field] == pytest.approx(k6_percentile(values, pct), rel=1e-12)
    assert spectrum["min"] == min(values) and spectrum["max"] == max(values)
    assert spectrum["avg"] == pytest.approx(sum(values) / len(values))


def test_merge_sums_counts_and_pools_samples_never_averaging_percentiles() -> None:
    fast = [1.0] * 990 + [2.0] * 10
    slow = [50.0] * 90 + [500.0] * 10
    first = metrics(1000, fast, failed=3, errors={"status_5xx": 3}, iteration_ms=1.5)
    second = metrics(100, slow, failed=1, errors={"timeout": 1}, dropped=4, iteration_ms=95.0)
    merged = merge_metrics([first, second], np.asarray(fast + slow))
    assert merged.requests == 1100 and merged.failed_requests == 4
    assert merged.errors["status_5xx"] == 3 and merged.errors["timeout"] == 1
    assert merged.dropped_iterations == 4 and merged.iterations == 1100
    assert merged.iteration_duration_avg_ms == pytest.approx((1.5 * 1000 + 95.0 * 100) / 1100)
    pooled_p99 = k6_percentile(fast + slow, 0.99)
    assert merged.latency_ms["p99"] == pytest.approx(pooled_p99)
    averaged = (first.latency_ms["p99"] or 0) / 2 + (second.latency_ms["p99"] or 0) / 2
    assert merged.latency_ms["p99"] != pytest.approx(averaged)
    assert merged.latency_ms["max"] == 500.0 and merged.latency_ms["min"] == 1.0


def test_virtual_users_initialised_are_summed_and_read_from_vus_max() -> None:
    first, second = metrics(1, [1.0], vus=310), metrics(1, [1.0], vus=307)
    assert merge_metrics([first, second], np.ones(2)).vus_initialised == 617
    unknown = metrics(1, [1.0])
    assert merge_metrics([first, unknown], np.ones(2)).vus_initialised is None
    summary = {"metrics": {"vus_max": {"value": 617, "min": 608, "max": 617}}}
    assert k6.parse_summary(summary).vus_initialised == 617
    assert k6.parse_summary({"metrics": {}}).vus_initialised is None


def test_an_instance_without_requests_changes_nothing() -> None:
    busy = metrics(10, [float(v) for v in range(1, 11)], iteration_ms=3.0)
    idle = metrics(0, [], iterations=0)
    merged = merge_metrics([busy, idle], np.arange(1.0, 11.0))
    assert merged.latency_ms == busy.latency_ms and merged.requests == 10
    assert merged.iteration_duration_avg_ms == 3.0
    assert latency_spectrum(np.empty(0))["p99"] == 0.0


# --- k6's raw output ----------------------------------------------------------------------------

RAW = """metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata
http_reqs,1700000000,1.000000,,,,true,,GET,/json,HTTP/1.1,warmup,,200,,,http://h/json,,
http_req_duration,1700000000,9.500000,,,,true,,GET,/json,HTTP/1.1,warmup,,200,,,http://h/json,,
http_req_duration,1700000001,1.250000,,,,true,,GET,/json,HTTP/1.1,measure,,200,,,http://h/json,,
http_req_waiting,1700000001,1.100000,,,,true,,GET,/json,HTTP/1.1,measure,,200,,,http://h/json,,
http_req_duration,1700000001,3.000000,,"read: connection reset, by peer",1000,false,,GET,/json,HTTP/1.1,measure,,0,,,http://h/json,,
iterations,1700000001,1.000000,,,,,,,,,measure,,,,,,,
"""


def test_raw_samples_are_the_measured_windows_request_durations() -> None:
    found = measured_durations(csv.reader(io.StringIO(RAW)))
    assert found.tolist() == [1.25, 3.0]
    assert measured_durations(iter([])).size == 0


# --- live readings ------------------------------------------------------------------------------


def reading(requests: float, failed_rate: float, p95: float) -> dict[str, dict[str, Any]]:
    return {
        "http_reqs{scenario:measure}": {"count": requests, "rate": requests / 10},
        "http_req_failed{scenario:measure}": {"rate": failed_rate},
        "http_req_duration{scenario:measure}": {
            "avg": p95 / 2,
            "min": 1.0,
            "max": p95 * 2,
            "p(95)": p95,
            "count": requests,
        },
        "sweepbench_latency_b3": {"count": requests / 2, "rate": 1.0},
        "vus": {"value": 4, "min": 4, "max": 4},
    }


def test_live_readings_of_instances_merge_exactly_where_they_can() -> None:
    merged = merge_readings([reading(300, 0.1, 20.0), reading(100, 0.5, 80.0)])
    assert merged["http_reqs{scenario:measure}"] == {"count": 400, "rate": 40.0}
    # The error rate weighted by each instance's requests: (30 + 50) / 400.
    assert merged["http_req_failed{scenario:measure}"]["rate"] == pytest.approx(0.2)
    assert merged["sweepbench_latency_b3"]["count"] == 200
    duration = merged["http_req_duration{scenario:measure}"]
    assert duration["p(95)"] == 80.0 and duration["max"] == 160.0 and duration["min"] == 1.0
    assert duration["avg"] == pytest.approx((10.0 * 300 + 40.0 * 100) / 400)
    assert merged["vus"]["value"] == 8


def test_one_live_reading_is_left_as_it_is() -> None:
    only = reading(300, 0.1, 20.0)
    assert merge_readings([only]) is only


# --- the client's process trees -----------------------------------------------------------------


def sample(at: float, cpu: float, seconds: float, rss: float | None = None) -> Sample:
    return Sample(at=at, cpu_percent=cpu, rss_mib=rss, processes=1, cpu_seconds=seconds)


def test_instances_trees_sum_tick_by_tick() -> None:
    samples = {
        "server": [sample(1.0, 80, 0.08)],
        "k6.1": [sample(1.0, 50, 0.05, rss=30), sample(1.1, 60, 0.11)],
        "k6.2": [sample(1.1, 40, 0.04)],  # tracked a tick later
    }
    total = combined_series(samples, ["k6.1", "k6.2"])
    assert [s.at for s in total] == [1.0, 1.1]
    assert [s.cpu_percent for s in total] == [50, 100]
    assert [s.cpu_seconds for s in total] == [0.05, pytest.approx(0.15)]
    assert total[0].rss_mib == 30 and total[1].rss_mib is None
    assert total[1].processes == 2
    assert with_client_total(samples, ["k6.1", "k6.2"])["k6"] == total
    assert with_client_total(samples, ["k6"]) is samples


# --- the setting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "'load.k6_instances': Input should be greater than or equal to 1 (got 0)"),
        (65, "'load.k6_instances': Input should be less than or equal to 64"),
        ("two", "'load.k6_instances': Input should be a valid integer"),
    ],
)
def test_bad_instance_count_names_the_key(value: Any, expected: str) -> None:
    message = error_for(with_change("load.k6_instances", value))
    assert message.startswith("Invalid experiment (test): ") and expected in message
    assert "\n" not in message


def test_instance_count_defaults_to_one() -> None:
    assert validate_experiment(VALID, "test").load.k6_instances == 1


def test_report_states_the_split_only_when_there_is_one() -> None:
    unsplit = record([step("a", 10, 1)])
    facts = {row[0]: row[1] for row in configuration_facts(unsplit).rows}
    assert "k6 instances" not in facts
    load = unsplit.experiment.load.model_copy(update={"k6_instances": 2})
    split = unsplit.model_copy(
        update={"experiment": unsplit.experiment.model_copy(update={"load": load})}
    )
    text = {row[0]: row[1] for row in configuration_facts(split).rows}["k6 instances"]
    assert isinstance(text, str)
    assert text.startswith("2 k6 processes per step") and "pooled raw samples" in text


def test_the_ceiling_spawns_k6_without_the_users_k6_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's K6_VUS meant for the steps must not change (or break) k6's ceiling."""
    monkeypatch.setenv("K6_VUS", "not-a-number")
    command = K6Command(["env"], {}, tmp_path / "summary.json", 0, None)
    for spawn, inherited in ((spawn_local, True), (spawn_without_user_settings, False)):
        process = spawn(command, {"SWEEPBENCH_BASE_URL": "http://127.0.0.1:9"}, None)
        printed, _ = process.communicate(timeout=10)
        assert ("K6_VUS=not-a-number" in printed) is inherited
        assert "SWEEPBENCH_BASE_URL=http://127.0.0.1:9" in printed
