"""The bench scripts' harness: their command line, the machine lock, how a figure is printed.

Every script in bench/ imports this module first (`from _shared import ...`: Python puts bench/
on the path of a script it runs), which puts this checkout's `runner` ahead of any installed one.

- `bench_parser(__file__, __doc__, ...)`: the script's arguments; `--help` shows its docstring.
  With `experiment=`, also `--experiment NAME` and `OVERRIDE ...` as `python -m runner` takes
  them, for `compose_experiment`.
- `machine_lock()`: hold the machine-wide load lock (runner.run.machine_lock) around what is
  measured, as the runner and the tests do; a run the script starts takes turns under it.
- `print_figure(name, value, unit, budget=...)`: a measured figure on stdout, one line, always
  `name: value unit  (note; budget B: within|OVER)`; `say()` is progress, on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

if TYPE_CHECKING:
    from runner.config.experiment import Experiment


def bench_parser(
    script: str,
    doc: str | None,
    *,
    experiment: str | None = None,
    overrides: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """The parser of `python bench/SCRIPT`: the docstring's first paragraph as its description and
    the rest as its epilog, as written. With `experiment` (its default name), `--experiment` and
    the Hydra overrides after it (default `overrides`)."""
    head, _, rest = (doc or "").strip().partition("\n\n")
    parser = argparse.ArgumentParser(
        prog=f"python bench/{Path(script).name}",
        description=head,
        epilog=rest or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if experiment is not None:
        parser.add_argument(
            "--experiment", default=experiment, help=f"the experiment to run ({experiment})"
        )
        parser.add_argument(
            "overrides",
            nargs="*",
            metavar="OVERRIDE",
            default=list(overrides),
            help="Hydra overrides, as `python -m runner` takes them"
            + (f" (default: {' '.join(overrides)})" if overrides else ""),
        )
    return parser


def compose_experiment(name: str, overrides: list[str]) -> Experiment:
    """The validated experiment `python -m runner +experiment=NAME OVERRIDES` would run."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    from runner.config.compose import EXPERIMENTS_DIR, experiment_from_config
    from runner.errors import UserError

    try:
        with initialize_config_dir(config_dir=str(EXPERIMENTS_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"+experiment={name}", *overrides])
        return experiment_from_config(cfg)
    except (HydraException, UserError) as error:
        say(f"error: {error}")
        raise SystemExit(2) from None


@contextmanager
def machine_lock() -> Iterator[None]:
    """Hold the machine-wide load lock while measuring; wait for it (saying so) if a run of
    someone else's holds it. Runs started meanwhile (`python -m runner`) take turns under it."""
    from runner.run.machine_lock import exclusive_machine

    with exclusive_machine(say):
        yield


def figure_line(
    name: str,
    value: float | str,
    unit: str = "",
    *,
    spec: str = "",
    note: str | None = None,
    budget: str | None = None,
    within: bool | None = None,
) -> str:
    """`name: value unit  (note; budget B: within)`. `spec` formats a number (",.0f", ".1%");
    a unit starting with "%" follows the number without a space; `within` says whether the
    figure met `budget` (left unsaid when None)."""
    text = f"{name}: {value:{spec}}" if spec and not isinstance(value, str) else f"{name}: {value}"
    if unit:
        text += unit if unit.startswith("%") else f" {unit}"
    extras = [note] if note else []
    if budget:
        verdict = "" if within is None else (": within" if within else ": OVER")
        extras.append(f"budget {budget}{verdict}")
    return f"{text}  ({'; '.join(extras)})" if extras else text


def print_figure(
    name: str,
    value: float | str,
    unit: str = "",
    *,
    spec: str = "",
    note: str | None = None,
    budget: str | None = None,
    within: bool | None = None,
) -> None:
    """Print one measured figure on stdout (figure_line)."""
    line = figure_line(name, value, unit, spec=spec, note=note, budget=budget, within=within)
    print(line, flush=True)


def say(message: str) -> None:
    """Progress and waiting, on stderr (stdout holds the figures)."""
    print(message, file=sys.stderr, flush=True)
