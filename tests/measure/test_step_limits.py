"""Rules that explain before they blank, with a real server and real k6: one gunicorn sync worker
on /io?ms=50 is limited by its one worker at every level, and the steps say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.records.store import load_run
from tests.conftest import TEST_EXPERIMENTS, run_cli

# The subject is the ceiling's explanation, not this shared machine's noise: other work and
# steal cannot invalidate, and "near the limit" (which reads the server cores' busy time, a
# neighbour's included) cannot excuse the ceiling before the explanation is asked for. A sync
# worker's throughput does not rise 25% from one level to the next, so every level above the
# first is a ceiling. Little's law keeps its default: at 20 users each request waits about 1 s
# and the warmup's users finish theirs when the window opens, so the window's mean duration reads
# about 18% high (19.3/s x 1,220 ms = 23.6 busy), which the rule allows as the warmup's
# carry-over (mean iteration / window = 41% here).
JUDGE_THE_CEILING_ONLY = [
    "validity.max_interference=1",
    "validity.max_steal=1",
    "validity.near_limit=1",
    "validity.ceiling_min_gain=0.25",
]


@pytest.mark.slow
def test_one_sync_worker_keeps_every_level_valid_with_its_limit_named(tmp_path: Path) -> None:
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=validity_sync_worker"]
    result = run_cli(*args, *JUDGE_THE_CEILING_ONLY, f"hydra.run.dir={tmp_path}", timeout=180)
    assert result.returncode == 0, result.stderr
    steps = {s.level: s for s in load_run(tmp_path).steps}
    assert sorted(steps) == [5, 10, 20]
    report = (tmp_path / "report.md").read_text()
    for level, s in steps.items():
        assert s.validity is not None and s.validity.valid, (level, s.validity)
        assert 10 <= s.rps <= 25, (level, s.rps)  # one worker, 50 ms a request: ~20 RPS
        assert "server_cores_busy" in s.validity.measured
    for level in (10, 20):
        validity = steps[level].validity
        assert validity is not None
        [named] = [r for r in validity.reasons if r.code == "explained_ceiling"]
        assert not named.invalidates
        assert "1.0 request in service" in named.text
        assert "the limit of the one sync worker" in named.text
        assert named.figures["at_server"] == pytest.approx(level, rel=0.5)
        assert f"at {level} virtual users (rep 1): {named.text}." in report
