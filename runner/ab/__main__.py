"""The command line of runner.ab (see the package docstring for what it decides)."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from runner import ab as package
from runner.ab.settings import APP_DIR_ARGS, AbSettings, parse_budget, parse_margin
from runner.config.experiment.servers import SERVERS
from runner.errors import EXIT_BAD_INPUT, Interrupted, UserError
from runner.measure import launch
from runner.run import interrupts, machine_lock
from runner.run.terminal import console, report_error


def parser() -> argparse.ArgumentParser:
    doc = package.__doc__ or ""
    made = argparse.ArgumentParser(
        prog="python -m runner.ab",
        description=doc.split("\n\n", 1)[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = made.add_argument
    add("--baseline", metavar="APP", help="the baseline's import path, e.g. mypkg.app:app")
    add("--candidate", metavar="APP", help="the candidate's import path")
    add("--app", metavar="APP", help="with --baseline-rev and --candidate-rev: the one app")
    add("--baseline-rev", metavar="REV", help="a git revision of the current repository")
    add("--candidate-rev", metavar="REV", help="the revision to check against it")
    add("--server", default="uvicorn", choices=sorted(SERVERS), help="the server (uvicorn)")
    load = made.add_mutually_exclusive_group()
    load.add_argument("--level", type=int, metavar="N", help="virtual users, closed model (10)")
    load.add_argument("--rate", type=int, metavar="R", help="requests per second, open model")
    add("--path", default="/", help="the path requested, answered with 200 by both (/)")
    add("--budget", default="5m", help="most load time before 'inconclusive' (5m)")
    add("--margin", default="2%", help="the smallest change that matters (2%%)")
    add("--alpha", type=float, default=0.05, help="false-alarm rate over metrics and looks (0.05)")
    add("--block", type=float, default=2.0, metavar="S", help="seconds measured per block (2)")
    add("--warmup", type=float, default=0.5, metavar="S", help="warmup seconds per block (0.5)")
    add("--seed", type=int, help="seed of the random assignment (drawn and printed if not given)")
    add("--output", type=Path, metavar="DIR", help="run directory (outputs/ab/<timestamp>)")
    add("--markdown", type=Path, metavar="FILE", help="also write the Markdown summary here")
    add("--config", type=Path, metavar="FILE", help="an A/B file: these options as YAML keys")
    return made


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; with --config, its file's keys are the defaults the line overrides."""
    made = parser()
    args = made.parse_args(argv)
    if args.config is None:
        return args
    import yaml

    try:
        loaded = yaml.safe_load(args.config.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"--config {args.config}: cannot read it as YAML ({error}).") from None
    if not isinstance(loaded, dict):
        raise UserError(f"--config {args.config}: expected a mapping of option names to values.")
    known = {action.dest for action in made._actions} - {"help", "config"}
    keys = {str(key).replace("-", "_"): value for key, value in loaded.items()}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise UserError(
            f"--config {args.config}: unknown key(s) {', '.join(unknown)}; the keys are the "
            f"options' names: {', '.join(sorted(known))}."
        )
    made.set_defaults(**{key: _typed(made, key, value) for key, value in keys.items()})
    return made.parse_args(argv)


def _typed(made: argparse.ArgumentParser, key: str, value: object) -> object:
    action = next(a for a in made._actions if a.dest == key)
    if value is None or action.type is None or not callable(action.type):
        return None if value is None else str(value)
    return action.type(str(value))


def settings_from(args: argparse.Namespace) -> AbSettings:
    revisions = (args.baseline_rev, args.candidate_rev)
    if args.app:
        if not all(revisions) or args.baseline or args.candidate:
            raise UserError("--app takes --baseline-rev and --candidate-rev (and no --baseline).")
        if args.server not in APP_DIR_ARGS:
            raise UserError(
                f"--baseline-rev/--candidate-rev serve each revision from its worktree, which "
                f"runner.ab can tell {' and '.join(sorted(APP_DIR_ARGS))} only, not "
                f"{args.server}: use one of those, or check the revisions out yourself and "
                "pass --baseline and --candidate."
            )
        apps = (args.app, args.app)
    elif args.baseline and args.candidate and not any(revisions):
        apps = (args.baseline, args.candidate)
    else:
        raise UserError(
            "Give --baseline APP --candidate APP (two import paths), or --app APP "
            "--baseline-rev REV --candidate-rev REV (one app at two git revisions)."
        )
    if not (args.block > 0 and args.warmup >= 0 and 0 < args.alpha < 0.5):
        raise UserError("--block must be > 0, --warmup >= 0 and --alpha between 0 and 0.5.")
    level = args.rate if args.rate is not None else (args.level or 10)
    if level < 1:
        raise UserError("--level and --rate must be 1 or more.")
    return AbSettings(
        baseline=apps[0], candidate=apps[1], server=args.server, level=level,
        model="open" if args.rate is not None else "closed", path=args.path,
        budget_s=parse_budget(args.budget), margin=parse_margin(args.margin), alpha=args.alpha,
        block_s=args.block, warmup_s=args.warmup,
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(10**6),
        revisions=revisions if args.app else None,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from runner.ab.output import console_lines, exit_status, markdown, record_json
    from runner.ab.session import run_ab
    from runner.ab.worktrees import revision_worktrees

    settings = settings_from(args)
    run_dir = args.output or Path("outputs/ab") / time.strftime("%Y-%m-%d_%H-%M-%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        stack.enter_context(machine_lock.exclusive_machine(lambda text: console.print(text)))
        if settings.revisions:
            dirs = stack.enter_context(revision_worktrees(Path.cwd(), settings.revisions, run_dir))
            settings = replace(settings, app_dirs=dirs)
        console.print(f"runner.ab: {run_dir} (seed {settings.seed})", highlight=False)
        with pinned(settings.client_cpus):
            result = run_ab(settings, run_dir, lambda text: console.print(text, highlight=False))
    (run_dir / "ab.json").write_text(record_json(result))
    summary = markdown(result)
    (run_dir / "summary.md").write_text(summary)
    if args.markdown:
        args.markdown.write_text(summary)
    print("\n".join(console_lines(result)))
    return exit_status(result)


class pinned:
    """This process on the client cores while it measures (its CPU is counted with k6's)."""

    def __init__(self, cpus: list[int]) -> None:
        self.cpus = cpus
        self.before: set[int] = set()

    def __enter__(self) -> None:
        self.before = os.sched_getaffinity(0)
        if set(self.cpus) <= self.before:
            os.sched_setaffinity(0, self.cpus)

    def __exit__(self, *_exc: object) -> None:
        os.sched_setaffinity(0, self.before)


def main(argv: list[str] | None = None) -> int:
    interrupts.install()
    args = parser().parse_args(argv)
    try:
        return run(parse(argv))
    except UserError as error:
        report_error(str(error))
        if args.markdown:
            args.markdown.write_text(f"### sweepbench A/B: **Refused**\n\n{error}\n")
        return error.exit_code if error.exit_code else EXIT_BAD_INPUT
    except Interrupted as stop:
        report_error(f"Interrupted ({stop}): servers, k6 and worktrees stopped and removed.")
        return stop.exit_code
    finally:
        leftovers = launch.stop_children()
        if leftovers:
            console.print(f"warning: stopped child process(es) left running: {leftovers}")


if __name__ == "__main__":
    sys.exit(main())
