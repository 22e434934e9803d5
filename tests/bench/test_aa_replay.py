"""bench/aa_replay.py on a small stored run of the current results.jsonl format."""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import ModuleType

import numpy as np

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "bench" / "aa_replay.py"


def write_run(run_dir: Path, repetitions: int, noise: float) -> None:
    """Two targets at two levels, as the store writes them (a failure line among the steps)."""
    rng = np.random.default_rng(7)
    lines = []
    for target, rps in (("fastapi", 5_000.0), ("django", 2_000.0)):
        for level in (10, 20):
            for repetition in range(1, repetitions + 1):
                jitter = np.exp(rng.normal(0, noise, 3))
                p95 = level / rps * 2_000 * jitter[1]
                step = {
                    "kind": "step",
                    "target": target,
                    "level": level,
                    "repetition": repetition,
                    "rps": rps * jitter[0],
                    "error_rate": 0.0,
                    "latency_ms": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.5 * jitter[2]},
                }
                lines.append(json.dumps(step))
    lines.insert(3, json.dumps({"kind": "failure", "target": "django", "level": 30}))
    run_dir.mkdir()
    (run_dir / "results.jsonl").write_text("\n".join(lines) + "\n")


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    """`python bench/aa_replay.py ARGS` as it is run."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


@functools.cache
def load_script() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))  # its `from _shared import ...`, as when it is run
    spec = importlib.util.spec_from_file_location("aa_replay", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call_replay(*args: str) -> subprocess.CompletedProcess[str]:
    """The script's main() in this process (scipy imported once, not per replay), its output and
    exit status as `replay` gives them; a SystemExit message goes to stderr, as Python does."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            status = load_script().main(list(args))
        except SystemExit as stop:
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
            status = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess(list(args), status, stdout.getvalue(), stderr.getvalue())


def test_splits_one_run_into_aa_pairs_and_finds_a_large_slowdown(tmp_path: Path) -> None:
    write_run(tmp_path / "run", repetitions=6, noise=0.02)
    result = call_replay(str(tmp_path / "run"), "--families", "20", "--slowdown", "0.3", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["families"] == 20
    assert figures["comparisons_per_family"] == 16  # 2 targets x 2 levels x 4 metrics
    assert figures["false_alarm_rate"] <= 0.1
    assert figures["detection_rate"] == 1.0


def test_prints_its_rates_and_refuses_a_run_too_short_to_split(tmp_path: Path) -> None:
    write_run(tmp_path / "run", repetitions=6, noise=0.03)
    printed = call_replay(str(tmp_path / "run" / "results.jsonl"), "--families", "20")
    assert printed.returncode == 0, printed.stderr
    assert "false-alarm rate:" in printed.stdout
    assert "detection of a 10% slowdown:" in printed.stdout
    write_run(tmp_path / "short", repetitions=4, noise=0.03)
    refused = replay(str(tmp_path / "short"))
    assert refused.returncode == 1
    assert "no cell has 6 valid repetitions" in refused.stderr


def test_invalid_steps_are_left_out_as_the_gate_does(tmp_path: Path) -> None:
    write_run(tmp_path / "run", repetitions=6, noise=0.02)
    path = tmp_path / "run" / "results.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines[0]["validity"] = {"valid": False, "reasons": []}
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    # The cell left with 5 valid repetitions decides nothing, as in the gate; the rest replay.
    replayed = call_replay(str(path), "--families", "20", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert "left out: 1 cell(s) with fewer than 6 valid repetitions: fastapi at 10 (5)" in (
        replayed.stderr
    )
    assert json.loads(replayed.stdout)["comparisons_per_family"] == 12  # 3 cells x 4 metrics
