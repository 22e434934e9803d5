"""The contract between the runner and a k6 script, and the check that a script keeps it.

The runner's side (runner/scripts/sweepbench.js, documented in the README): every step's
environment (SWEEPBENCH_*), the load-start marker a script prints, and the options the runner
owns. A custom script (`load.script`, in experiments/scripts/) sends whatever requests it likes,
but the runner owns the scenarios (warmup, then measure) and the thresholds that make k6 report
the measure-only figures. k6 lets a script's `export const options` override the --config file,
so the consolidated options are read back with `k6 inspect` and any takeover is refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from runner.config.experiment import Experiment, Load
from runner.errors import UserError
from runner.measure.k6.options import options_for_step
from runner.measure.ports import HOST
from runner.run.plan import Step

STANDARD_SCRIPT = Path(__file__).resolve().parents[3] / "runner" / "scripts" / "http.js"
# markLoadStart() prints this from the script's setup(): the wall-clock start of the load (ms).
LOAD_START_MARKER = re.compile(r"SWEEPBENCH_T0=(\d+)")
# Options a script must leave to the runner (thresholds: the runner's must all be present).
RUNNER_OWNED = ("scenarios", "thresholds", "summaryTrendStats")
INSPECT_TIMEOUT_S = 60
# `k6 inspect` runs only the script's init code, which sends nothing: the base URL it sees is a
# well-formed stand-in on the discard port, so a stray request would go nowhere.
INSPECT_BASE_URL = f"http://{HOST}:9"


def requests_json(experiment: Experiment) -> str:
    """The scenario's requests as k6 scripts read them from SWEEPBENCH_REQUESTS."""
    return json.dumps(
        [
            {
                "name": request.label,
                "method": request.method,
                "path": request.target,
                "headers": request.all_headers,
                "body": request.body_text,
                "weight": request.weight,
            }
            for request in experiment.scenario.requests
        ]
    )


def step_env(base_url: str, experiment: Experiment, step: Step) -> dict[str, str]:
    """The environment every step's script gets (runner/scripts/sweepbench.js documents it)."""
    load = experiment.load
    return {
        "SWEEPBENCH_BASE_URL": base_url,
        "SWEEPBENCH_REQUESTS": requests_json(experiment),
        "SWEEPBENCH_PATH": experiment.scenario.requests[0].target,
        "SWEEPBENCH_TIMEOUT": load.timeout,
        "SWEEPBENCH_LEVEL": str(step.level),
        "SWEEPBENCH_MODEL": load.kind.name,
        "SWEEPBENCH_TARGET": step.target,
        "SWEEPBENCH_REPETITION": str(step.repetition),
        "SWEEPBENCH_DURATION": load.duration,
        "SWEEPBENCH_WARMUP": load.warmup,
    }


def resolve_script(load: Load, scripts_dir: Path) -> Path:
    """The script file for this experiment: the standard one, or the custom one, which must exist."""
    if load.script is None:
        return STANDARD_SCRIPT
    path = Path(load.script)
    if not path.is_absolute():
        path = scripts_dir / path
    if not path.is_file():
        known = sorted(p.name for p in scripts_dir.glob("*.js")) if scripts_dir.is_dir() else []
        raise UserError(
            f"'load.script': the k6 script {path} does not exist. Custom scripts live in "
            f"{scripts_dir} (found: {', '.join(known) or 'none'}); name one relative to it."
        )
    return path


def overridden_options(wanted: dict[str, Any], consolidated: dict[str, Any]) -> list[str]:
    """The runner-owned options that the script's own `options` replaced."""
    replaced = []
    if set(consolidated.get("scenarios") or {}) != set(wanted["scenarios"]):
        replaced.append("scenarios")
    if not set(wanted["thresholds"]) <= set(consolidated.get("thresholds") or {}):
        replaced.append("thresholds")
    if consolidated.get("summaryTrendStats") != wanted["summaryTrendStats"]:
        replaced.append("summaryTrendStats")
    return replaced


def check_script(
    k6_path: Path, script: Path, experiment: Experiment, step: Step, work_dir: Path
) -> None:
    """Load a custom script in k6 with `step`'s options and environment (without running it),
    and refuse it if it does not load or takes over the scenarios. The standard script keeps
    the contract by construction."""
    if script == STANDARD_SCRIPT:
        return
    options = options_for_step(experiment, step)
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "k6-inspect-options.json"
    config_path.write_text(json.dumps(options, indent=2))
    command = [str(k6_path), "inspect", "--execution-requirements", "--config", str(config_path)]
    env = step_env(INSPECT_BASE_URL, experiment, step)
    try:
        result = subprocess.run(
            [*command, str(script)],
            capture_output=True,
            text=True,
            timeout=INSPECT_TIMEOUT_S,
            env={**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            f"k6 took over {INSPECT_TIMEOUT_S} s to load the script {script}."
        ) from None
    if result.returncode != 0:
        problem = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise UserError(f"k6 cannot load the script {script}: {problem}")
    replaced = overridden_options(options, json.loads(result.stdout))
    if replaced:
        raise UserError(
            f"The k6 script {script} sets {', '.join(replaced)} in its `export const options`, "
            "which would replace the runner's: the runner sets the scenarios (warmup, then "
            "measure, from the experiment's sweep and load keys) and the thresholds and trend "
            "statistics it reads the results from. Remove those keys from the script's options."
        )
