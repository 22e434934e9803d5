"""Errors that end a run with a clear message instead of a traceback.

Every exception runner/ defines derives from SweepbenchError, except Interrupted:

    SweepbenchError                  base: `except SweepbenchError` catches any of sweepbench's own
    |- UserError                     the user can fix it; one paragraph, exit `exit_code` (2)
    |  `- Refused                    compare: the two runs cannot be compared (exit 2)
    |                                (runner.compare.design)
    |- TargetError                   a target failed to start, answer or stay alive: the sweep
    |                                goes on without it, its failure recorded (no exit)
    |- TrialFailed                   capacity: k6 failed during a trial; that target's search ends,
    |                                the failure recorded (runner.capacity.driver; no exit)
    |- RemoteError                   an agent refused or could not answer a request; callers turn
    |                                it into UserError (a host unusable, exit 2) or TargetError
    |                                (runner.remote.session)
    |- ProtocolError                 a line that is not a message of the agent protocol
    |                                (runner.remote.protocol)
    `- K6Failed                      a split step's k6 instance(s) left no usable summary; the step
                                     is recorded as a failure (runner.measure.k6.split; no exit)
    Interrupted (a BaseException)    SIGINT / SIGTERM: exit 130 / 143 after a partial report. Not
                                     a SweepbenchError, nor an Exception: like KeyboardInterrupt it
                                     must pass through every `except Exception` on its way out.

Exit statuses: 0 done, 1 the run failed (EXIT_RUN_FAILED), 2 bad input or refused
(EXIT_BAD_INPUT), 130 / 143 interrupted; a compare adds 1 regression and 3 inconclusive.
"""

from __future__ import annotations

# Exit statuses, so scripts and CI can tell the causes apart.
EXIT_BAD_INPUT = 2
EXIT_RUN_FAILED = 1
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class SweepbenchError(Exception):
    """The base of every exception sweepbench raises on purpose (the tree is in the module doc)."""


class UserError(SweepbenchError):
    """A problem the user can fix (bad config, missing k6, busy port).

    The message is printed as one paragraph and the process exits with `exit_code`.
    """

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class TargetError(SweepbenchError):
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
