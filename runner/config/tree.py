"""The experiments' config tree on disk, and the checks of the command line made before Hydra.

Kept apart from runner.config.compose (Hydra, the pydantic models): `python -m runner` with no
experiment, an unknown one or malformed YAML is refused, and `--help` answers, without importing
either (a quarter of a second in a refused command).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from runner.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS_DIR = PROJECT_ROOT / "experiments"

_EXPERIMENT_ARG = re.compile(r"^\+{0,2}experiment=(.*)$")
_HELP_ARGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--version", "--shell-completion"}


def config_dirs(argv: list[str]) -> list[Path]:
    """The project's experiments tree plus any `--config-dir DIR` / `-cd DIR` given."""
    dirs = [EXPERIMENTS_DIR]
    for index, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and index + 1 < len(argv):
            dirs.insert(0, Path(argv[index + 1]))
        elif arg.startswith("--config-dir="):
            dirs.insert(0, Path(arg.split("=", 1)[1]))
    return dirs


def available_experiments(dirs: list[Path]) -> list[str]:
    names = {p.stem for d in dirs for p in (d / "experiment").glob("*.yaml")}
    return sorted(names)


def experiment_source_dir(argv: list[str], name: str | None) -> Path:
    """The config directory that holds `experiment/NAME.yaml` (its git state is recorded)."""
    for directory in config_dirs(argv):
        if name and (directory / "experiment" / f"{name}.yaml").is_file():
            return directory
    return EXPERIMENTS_DIR


def requested_experiments(argv: list[str]) -> list[str]:
    names: list[str] = []
    for arg in argv:
        match = _EXPERIMENT_ARG.match(arg)
        if match:
            names += [n.strip() for n in match.group(1).split(",") if n.strip()]
    return names


def check_yaml(dirs: list[Path]) -> bool:
    """Every YAML file of the tree must parse; report the file, line and problem if not.
    True when a file sets `hydra.mode` (Hydra must then compose once more to read it)."""
    mode_set = False
    for directory in dirs:
        for path in sorted(directory.rglob("*.yaml")):
            try:
                document = yaml.safe_load(path.read_text())
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                problem = getattr(error, "problem", None) or str(error)
                raise UserError(f"Malformed YAML in {path}{where}: {problem}.") from None
            hydra = document.get("hydra") if isinstance(document, dict) else None
            mode_set = mode_set or (isinstance(hydra, dict) and "mode" in hydra)
    return mode_set


_MODE_OVERRIDE = re.compile(r"^[+~]{0,2}hydra\.mode(=|$)")


# Hydra's modes; it takes one at a time and refuses more with a bare ValueError (a traceback).
_MODE_FLAGS = {
    "--run": "--run",
    "-r": "--run",
    "--multirun": "--multirun",
    "-m": "--multirun",
    "--cfg": "--cfg",
    "-c": "--cfg",
    "--info": "--info",
    "-i": "--info",
    "--shell-completion": "--shell-completion",
    "-sc": "--shell-completion",
}


def check_before_compose(argv: list[str]) -> bool:
    """Fail fast, before Hydra, on the mistakes it would not report clearly. True when the
    command line or a config file sets `hydra.mode` (or the command is not a run): only then
    does Hydra need to compose the config to learn the mode (runner.__main__)."""
    _one_mode_at_most(argv)
    if _HELP_ARGS.intersection(argv) or any(a.startswith("--cfg") for a in argv):
        return True
    dirs = config_dirs(argv)
    known = available_experiments(dirs)
    names = requested_experiments(argv)
    listing = ", ".join(known) or "none"
    if not names:
        raise UserError(
            "No experiment chosen. Run `python -m runner +experiment=NAME` with NAME one of: "
            f"{listing} (files in {EXPERIMENTS_DIR / 'experiment'})."
        )
    for name in names:
        if name not in known:
            raise UserError(
                f"Unknown experiment '{name}': there is no experiment/{name}.yaml in "
                f"{', '.join(str(d) for d in dirs)}. Known experiments: {listing}."
            )
    mode_in_files = check_yaml(dirs)
    return mode_in_files or any(_MODE_OVERRIDE.match(arg) for arg in argv)


def _one_mode_at_most(argv: list[str]) -> None:
    modes = sorted({_MODE_FLAGS[a.split("=")[0]] for a in argv if a.split("=")[0] in _MODE_FLAGS})
    if len(modes) > 1:
        raise UserError(
            f"{' and '.join(modes)} cannot be combined: Hydra runs one mode at a time. Drop all "
            "but one (to see the configuration a multirun would use, leave out --multirun: "
            "`python -m runner --cfg job +experiment=NAME`)."
        )
