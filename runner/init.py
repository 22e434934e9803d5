"""`python -m runner.init APP`: write an experiment file for your own app (runner.config.scaffold)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner.config.experiment.servers import SERVERS
from runner.config.scaffold import experiment_name, next_steps, scaffold
from runner.errors import UserError
from runner.run.terminal import report_error


def main(argv: list[str] | None = None) -> int:
    made = argparse.ArgumentParser(
        prog="python -m runner.init",
        description="Write experiments/experiment/<name>.yaml for your app, ready to run.",
    )
    made.add_argument("app", help="the app's import path, e.g. myapp:app")
    made.add_argument("--name", help="the experiment's name (from the module's name)")
    made.add_argument("--server", default="uvicorn", choices=sorted(SERVERS))
    made.add_argument("--path", default="/", help="the path requested, must answer 200 (/)")
    made.add_argument("--dir", type=Path, default=Path.cwd(), help="where (this directory)")
    made.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = made.parse_args(argv)
    try:
        written = scaffold(args.app, args.dir, args.name, args.server, args.path, args.force)
    except UserError as error:
        report_error(str(error))
        return error.exit_code
    print(next_steps(written, args.name or experiment_name(args.app), args.app))
    return 0


if __name__ == "__main__":
    sys.exit(main())
