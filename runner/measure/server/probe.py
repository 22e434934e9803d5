"""Before anything starts: is every started target's server and app module there at all?"""

from __future__ import annotations

import subprocess
import sys

from runner.config.experiment import Experiment
from runner.errors import UserError
from runner.measure.server.command import PROJECT_ROOT, server_env

# Run with the target's own interpreter and environment: is each module there at all?
_FIND_MODULES = """
import importlib.util, sys
for name in sys.argv[1:]:
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        found = False
    except Exception:
        found = True  # there, but its package fails on import: a start-up failure, with its log
    if not found:
        print(name)
"""
PROBE_TIMEOUT_S = 60


def check_importable(experiment: Experiment) -> None:
    """Every started target's server and app module must exist, before anything starts.

    Only existence is checked (no import, so no side effects): an attribute missing from the
    module or an app that fails on import is a start-up failure of that target, with its log.
    """
    for name, target in experiment.targets.items():
        # A server on another host is that host's to import (its start-up log says what failed).
        if target.app is None or target.server is None or target.host is not None:
            continue
        app_module = target.app.split(":", 1)[0]
        try:
            probe = subprocess.run(
                [sys.executable, "-c", _FIND_MODULES, target.server, app_module],
                env=server_env(target),
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise UserError(f"Could not check the modules of target '{name}': {error}") from None
        missing = probe.stdout.split()
        if target.server in missing:
            raise UserError(
                f"'targets.{name}.server' is {target.server}, which is not installed for "
                f"{sys.executable}. Install it with `pip install {target.server}`."
            )
        if app_module in missing:
            raise UserError(
                f"'targets.{name}.app' is {target.app!r}, but there is no module "
                f"'{app_module}' on the target's Python path ({PROJECT_ROOT}, then PYTHONPATH "
                "and the installed packages). Check the spelling of the module path."
            )
