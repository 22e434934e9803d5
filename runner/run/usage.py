"""How to invoke the runner: `--help`'s usage text (Hydra's stays behind `--hydra-help`), and the
command that resumes an interrupted run."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import yaml

from runner.errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_SIGINT, EXIT_SIGTERM

HELP_ARGS = ("--help", "-h")

_USAGE = """\
usage: python -m runner +experiment=NAME [key=value ...]
       python -m runner -m +experiment=NAME [key=v1,v2 ...]

Runs an experiment (experiments/experiment/NAME.yaml): starts each target's server, sends load
with k6 at every level, samples CPU and memory, and writes results and a report to
outputs/NAME/<time>/.

  +experiment=NAME        required: the experiment to run (one of those below)
  key=value               override any key, e.g. load.duration=10s repetitions=3
                          (`+key=value` adds a key the experiment leaves unset)
  -m, --multirun          one run per combination of comma-separated values, plus a matrix
                          report, e.g. -m +experiment=quickstart targets.django_wsgi.workers=1,2,4
  runner.dry_run=true     validate and print the plan (to standard output); start nothing
  runner.resume=DIR       continue an interrupted run in DIR, with the same overrides
  --cfg job               print the composed config
  --hydra-help            Hydra's own help

Experiments:
{experiments}

Other commands:
  python -m runner.report DIR      re-render the reports of a stored run or multirun
  python -m runner.compare A B     compare two runs: change, significance, regression gate

Exit statuses:
  0    every planned step was measured
  {failed}    the run ended but something failed (see Failures in the report), or writing failed
  {bad}    bad input or an unusable set-up: one message, nothing started
  {sigint}  stopped by SIGINT (Ctrl-C): partial results and report written
  {sigterm}  stopped by SIGTERM: partial results and report written
"""


def experiment_descriptions(dirs: list[Path]) -> dict[str, str]:
    """Each experiment's one-line description, by name (the first directory to define it wins)."""
    found: dict[str, str] = {}
    for directory in dirs:
        for path in sorted((directory / "experiment").glob("*.yaml")):
            if path.stem in found:
                continue
            try:
                data = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError):
                data = None  # the run itself reports a malformed file, with its line
            description = data.get("description") if isinstance(data, dict) else None
            found[path.stem] = str(description or "").strip()
    return dict(sorted(found.items()))


def usage_text(dirs: list[Path]) -> str:
    descriptions = experiment_descriptions(dirs)
    width = max((len(name) for name in descriptions), default=0)
    listing = "\n".join(
        f"  {name:<{width}}  {description}".rstrip() for name, description in descriptions.items()
    )
    return _USAGE.format(
        experiments=listing or "  (none found)",
        failed=EXIT_RUN_FAILED,
        bad=EXIT_BAD_INPUT,
        sigint=EXIT_SIGINT,
        sigterm=EXIT_SIGTERM,
    )


def _shown_path(path: Path | str) -> str:
    """Relative to the working directory when below it, as a user would type it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def resume_command(task_overrides: list[str], run_dir: Path, argv: list[str]) -> str:
    """The command that continues `run_dir`: the same config directories and overrides, plus
    `runner.resume` (which also makes the run directory that one)."""
    config_args: list[str] = []
    for index, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and index + 1 < len(argv):
            config_args += [arg, argv[index + 1]]
        elif arg.startswith("--config-dir="):
            config_args.append(arg)
    overrides = [o for o in task_overrides if not o.lstrip("+~").startswith("runner.resume=")]
    words = [_shown_path(sys.executable), "-m", "runner", *config_args, *overrides]
    return shlex.join([*words, f"runner.resume={_shown_path(run_dir)}"])
