"""What the console shows while a sweep runs and when it ends, on a terminal and in a log."""

from __future__ import annotations

import io
import re
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console

from runner.config.compose import experiment_from_config
from runner.measure.k6.live import LiveNumbers, LiveView
from runner.run.plan import Plan, build_plan
from runner.run.progress import SweepProgress
from runner.run.usage import resume_command
from tests.conftest import compose_config
from tests.factories import step as stored_step

LIVE = LiveView(k6=LiveNumbers(1234.0, 2.5, 0.0, True), server=None, client=None)


def two_step_plan() -> Plan:
    experiment = experiment_from_config(
        compose_config(
            "quickstart",
            "sweep.concurrency.levels=[10,20]",
            "~targets.django_wsgi",
            "~targets.django_asgi",
        )
    )
    return build_plan(experiment)


def drawn(console: Console, fragment: str, timeout_s: float = 5) -> None:
    """Wait until the live view's refresh thread has drawn `fragment` (4 frames a second)."""
    out = console.file
    assert isinstance(out, io.StringIO)
    deadline = time.monotonic() + timeout_s
    while fragment not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)


def run_through(plan: Plan, console: Console, kept: int = 0) -> None:
    earlier = [stored_step(s.target, s.level, 900.0) for s in plan.steps[:kept]]
    with SweepProgress(
        plan.without({(s.target, s.level, 1) for s in earlier}), console, earlier
    ) as p:
        for step in p.plan.steps:
            p.step_starting("FastAPI", step)
            p.live(LIVE)
            if console.is_terminal:
                drawn(console, f"{step.level_text}, rep 1")
            p.step_finished(
                f"FastAPI {step.level_text}: fine", stored_step(step.target, step.level, 1234.0)
            )


def test_live_view_ends_with_the_sweep_bar_only() -> None:
    out = io.StringIO()
    run_through(two_step_plan(), Console(file=out, force_terminal=True, width=120))
    text = out.getvalue()
    assert "live: 1,234 RPS" in text and "measuring" in text  # shown while the step ran
    # The last frame drawn before the cursor comes back: no stale step bar or live numbers.
    last_frame = text[: text.rindex("\x1b[?25h")].rsplit("\x1b[2K", 1)[-1]
    assert "sweep" in last_frame and "2/2" in last_frame and "done" in last_frame
    assert "measuring" not in last_frame and "live:" not in last_frame


def test_plain_lines_and_a_table_of_every_step_of_a_resumed_run() -> None:
    out = io.StringIO()
    run_through(two_step_plan(), Console(file=out, width=160), kept=1)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert "[1/1] FastAPI c=20: fine" in text
    # The kept step and the new one: the table agrees with the run's "2 step(s) measured".
    assert "Measured steps: 2 (1 kept from the interrupted run)" in text
    rows = [line for line in text.splitlines() if re.match(r"│ fastapi ", line)]
    assert len(rows) == 2


def test_resume_command_repeats_the_config_dirs_and_overrides(tmp_path: Path) -> None:
    command = resume_command(
        ["+experiment=quickstart", "load.duration=10s", "runner.resume=old", "x='a b'"],
        tmp_path / "run",
        ["--config-dir", "/my/conf", "+experiment=quickstart", "hydra.run.dir=elsewhere"],
    )
    words = shlex.split(command)
    assert words[1:3] == ["-m", "runner"]
    assert Path(words[0]).resolve() == Path(sys.executable).resolve()
    assert words[3:] == [
        "--config-dir",
        "/my/conf",
        "+experiment=quickstart",
        "load.duration=10s",
        "x='a b'",
        f"runner.resume={tmp_path / 'run'}",
    ]


def test_the_closing_table_marks_floors_and_invalid_steps_as_the_report_does() -> None:
    from runner.run.progress import validity_mark

    floor = stored_step("fastapi", 10, 10_605.0, invalid="client_bound")
    disturbed = stored_step("fastapi", 20, 9_000.0, invalid="interference")
    progress = SweepProgress(two_step_plan(), Console(file=io.StringIO(), width=200))
    progress.results = [floor, disturbed, stored_step("fastapi", 30, 5_000.0)]
    out = io.StringIO()
    Console(file=out, width=200).print(progress.summary_table())
    text = out.getvalue()
    assert "≥ 10,605" in text and "floor (k6's limit)" in text
    assert "no (interference)" in text and "≥ 9,000" not in text
    assert [validity_mark(s) for s in progress.results][2] == "yes"
