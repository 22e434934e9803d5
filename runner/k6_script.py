"""Which k6 script a run uses, and a check, before anything starts, that it keeps the contract.

A custom script (`load.script`, in experiments/scripts/) sends whatever requests it likes, but the
runner owns the scenarios (warmup, then measure) and the thresholds that make k6 report the
measure-only figures. k6 lets a script's `export const options` override the --config file, so
the consolidated options are read back with `k6 inspect` and any takeover is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from runner import k6
from runner.errors import UserError
from runner.model import Load

# Options a script must leave to the runner (thresholds: the runner's must all be present).
RUNNER_OWNED = ("scenarios", "thresholds", "summaryTrendStats")
INSPECT_TIMEOUT_S = 60


def resolve(load: Load, scripts_dir: Path) -> Path:
    """The script file for this experiment: the standard one, or the custom one, which must exist."""
    if load.script is None:
        return k6.STANDARD_SCRIPT
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


def check(
    k6_path: Path, script: Path, options: dict[str, Any], env: dict[str, str], work_dir: Path
) -> None:
    """Load the script in k6 (without running it) and refuse it if it takes over the scenarios."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "k6-inspect-options.json"
    config_path.write_text(json.dumps(options, indent=2))
    command = [str(k6_path), "inspect", "--execution-requirements", "--config", str(config_path)]
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
