"""The targets' servers during a sweep: started when first needed (or all up front, for an
interleaved order), restarted between repetitions when asked, stopped after their last step.

All servers run on the server's cores: the ones not being loaded are idle there, and what
little they do counts as other work in the step's interference figure (runner.measure.judging).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from runner.measure.server import ServerHandle
from runner.run.plan import Step


@dataclass
class _Open:
    stack: ExitStack
    server: ServerHandle
    repetition: int


# Starts a target's server: a context manager that stops it on exit.
ServerFactory = Callable[[str], AbstractContextManager[ServerHandle]]


class ServerPool:
    """At most one running server per target; `close` stops every one still running."""

    def __init__(
        self,
        factory: ServerFactory,
        restart_between_repetitions: bool,
        on_start: Callable[[str, ServerHandle, float], None],
        on_stop: Callable[[str, float], None],
    ) -> None:
        self._factory = factory
        self._restart = restart_between_repetitions
        self._on_start = on_start  # target, server, when it was asked (monotonic)
        self._on_stop = on_stop  # target, when the stop began (monotonic)
        self._open: dict[str, _Open] = {}

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self, target: str, repetition: int) -> ServerHandle:
        """Start the target's server (raises TargetError when it does not come up)."""
        asked_at = time.monotonic()
        stack = ExitStack()
        try:
            server = stack.enter_context(self._factory(target))
        except BaseException:
            stack.close()
            raise
        self._open[target] = _Open(stack, server, repetition)
        self._on_start(target, server, asked_at)
        return server

    def server_for(self, step: Step) -> ServerHandle:
        """The server the step loads: the running one, or a fresh one for a new repetition
        when restarting between repetitions."""
        current = self._open.get(step.target)
        if current is not None and self._restart and current.repetition != step.repetition:
            self.stop(step.target)
            current = None
        if current is None:
            return self.start(step.target, step.repetition)
        return current.server

    def stop(self, target: str) -> None:
        current = self._open.pop(target, None)
        if current is None:
            return
        stopping_at = time.monotonic()
        current.stack.close()
        self._on_stop(target, stopping_at)

    def close(self) -> None:
        for target in list(self._open):
            self.stop(target)
