"""`python -m runner.init APP`: the experiment file for a user's own app, in their repository.

In the spirit of `k6 new` and `asv quickstart`: one file, `experiments/experiment/<name>.yaml`,
with the editor-schema line (the schema of this sweepbench install), the app on the chosen
server, one request that must answer 200, and a short sweep; then the commands that run it.
Nothing is started: the first run is the user's.
"""

from __future__ import annotations

import re
from pathlib import Path

from runner.config.tree import EXPERIMENTS_DIR
from runner.errors import UserError

SCHEMA = EXPERIMENTS_DIR.parent / "schemas" / "experiment-fragment.schema.json"
_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

TEMPLATE = """\
# @package _global_
# yaml-language-server: $schema={schema}
# Written by `python -m runner.init {app}`: edit freely, it is yours (docs/your-app.md).
# Run it: python -m runner --config-dir experiments +experiment={name}
name: {name}
description: {app} on {server}, GET {path} at 10, 20 and 40 virtual users.
targets:
  {name}:
    app: {app}
    server: {server}
    app_label: {label}
scenario:
  name: {name}
  description: GET {path}, which must answer 200.
  requests:
    - path: {path}
      expect:
        status: 200
sweep:
  concurrency:
    levels: [10, 20, 40]
load:
  duration: 5s
  warmup: 1s
"""


def experiment_name(app: str) -> str:
    """'mypkg.app:app' -> 'app' (the module's last part), as a plain name."""
    module = app.split(":", 1)[0].rsplit(".", 1)[-1]
    name = re.sub(r"[^a-z0-9_]", "_", module.lower()).strip("_") or "mine"
    return name if name[0].isalpha() else f"app_{name}"


def scaffold(
    app: str, directory: Path, name: str | None, server: str, path: str, force: bool
) -> Path:
    """Write the experiment file; refuse to overwrite one unless `force`."""
    if not _APP.match(app):
        raise UserError(f"{app!r} is not an import path such as 'myapp:app' or 'mypkg.main:app'.")
    if not path.startswith("/"):
        raise UserError(f"--path {path!r} must start with '/'.")
    name = name or experiment_name(app)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UserError(f"--name {name!r} must be lower case letters, digits and '_'.")
    target = directory / "experiments" / "experiment" / f"{name}.yaml"
    if target.exists() and not force:
        raise UserError(f"{target} exists already; pass --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    label = app.split(":", 1)[0]
    target.write_text(
        TEMPLATE.format(schema=SCHEMA, app=app, name=name, server=server, path=path, label=label)
    )
    return target


def next_steps(path: Path, name: str, app: str) -> str:
    """What to run next, as the README snippet the scaffold prints."""
    return f"""Wrote {path}.

Run the sweep (servers on core 0, k6 on core 1; about a minute):

    python -m runner --config-dir experiments +experiment={name}

Is a change slower? Two revisions of this repository, decided in pairs:

    python -m runner.ab --app {app} --baseline-rev main --candidate-rev HEAD

More: docs/your-app.md ("Your app, your repository").
"""
