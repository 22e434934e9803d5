"""Floors with real servers and real k6 (issue 20): a target k6 cannot saturate is shown as a
floor and never ranked below a slower target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.analysis import analyze
from runner.measure.ports import free_port
from runner.records.store import load_run
from tests.conftest import TEST_EXPERIMENTS, run_cli


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_target_k6_cannot_saturate_is_a_floor_ranked_above_a_slower_one(
    tmp_path: Path,
) -> None:
    port = free_port()
    responder = subprocess.Popen(
        [sys.executable, "-m", "runner.measure.ceiling.responder", str(port)],
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    try:
        args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=floors"]
        env = {"SWEEPBENCH_CACHE_DIR": str(tmp_path / "cache")}
        url = f"targets.bare.url=http://127.0.0.1:{port}"
        result = run_cli(*args, url, f"hydra.run.dir={tmp_path / 'run'}", env=env)
    finally:
        responder.terminate()
        responder.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    run = load_run(tmp_path / "run")
    ceiling = run.provenance.client_ceiling
    if ceiling is not None:  # None: disturbed by other work, k6's CPU alone judged the steps
        assert sorted(ceiling.levels) == [10, 20]  # measured at the sweep's own levels
    analysis = analyze(run)
    report = (tmp_path / "run" / "report.md").read_text()
    for level in (10, 20):
        floor = analysis.floor("bare", level)
        assert floor is not None, [
            [(r.code, r.text) for r in s.validity.reasons if r.invalidates]
            for s in run.steps
            if s.target == "bare" and s.validity is not None
        ]
        assert analysis.cell("bare", level) is None  # no latency of the server's from it
        winner = analysis.winners[level]
        # Never ranked below the slower target: it wins by at least its lead.
        assert winner.target == "bare" and winner.at_least, winner.text
        assert "at least" in winner.text and "successful RPS" in winner.text
        assert f"≥ {floor.rps.median:,.0f} (k6's limit)" in report
    assert "load.k6_host" in report
    # The throughput chart draws the floors as marked points, not as gaps.
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.count('class="floor"') >= 2
