"""Where the runner's messages go: a console on stderr, and one paragraph per error.

Kept apart from runner.run.progress (the live view and its tables): a command refused for bad input
reports it without importing the sweep's display.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from runner.records.redact import redact_text


def make_console(stderr: bool = True) -> Console:
    """stderr (or stdout); wide enough for the tables in a log file or a pipe, not a terminal."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=160)


# The runner's own messages (the progress display makes its own console).
console = make_console()


def report_error(message: str) -> None:
    console.print(
        f"[bold red]error:[/] {escape(redact_text(message))}", highlight=False, soft_wrap=True
    )
