"""Errors that end a run with a clear message instead of a traceback."""

from __future__ import annotations

# Exit statuses, so scripts and CI can tell the causes apart.
EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class UserError(Exception):
    """A problem the user can fix (bad config, missing k6, busy port).

    The message is printed as one paragraph and the process exits with `exit_code`.
    """

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class TargetError(Exception):
    """A target server failed to start, answer or stay alive; the sweep goes on without it."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail

    def describe(self) -> str:
        if not self.log_tail:
            return str(self)
        return f"{self}\nLast lines of the server log:\n{self.log_tail}"


class Interrupted(BaseException):
    """SIGINT or SIGTERM: stop the current step, keep what was measured, write a partial report."""

    def __init__(self, signal_name: str, exit_code: int) -> None:
        super().__init__(signal_name)
        self.exit_code = exit_code
