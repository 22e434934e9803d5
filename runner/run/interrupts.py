"""SIGINT and SIGTERM: stop the sweep cleanly, keep what was measured.

The first signal raises `Interrupted` in the main thread, wherever it is; the context managers
on the way out stop k6 and the server and write the partial results. Later signals are ignored,
so a second Ctrl-C cannot cut that clean-up short (SIGKILL still ends everything: the children
then get SIGTERM from the kernel, see runner.measure.launch).

Writes that must not be torn (a results line, results.json) run inside `deferred()`: a signal
that arrives there takes effect right after the write.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from runner.errors import EXIT_SIGINT, EXIT_SIGTERM, Interrupted


class _State:
    received: Interrupted | None = None
    pending: Interrupted | None = None
    deferring = 0


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _State.received is not None:
        return  # already stopping
    if signum == signal.SIGTERM:
        stop = Interrupted("SIGTERM", EXIT_SIGTERM)
    else:
        stop = Interrupted("SIGINT", EXIT_SIGINT)
    _State.received = stop
    if _State.deferring:
        _State.pending = stop
        return
    raise stop


def install() -> None:
    """Route SIGINT and SIGTERM to `Interrupted` (call once, from the main thread)."""
    signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold a signal that arrives inside the block until the block is done."""
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
        if not _State.deferring and _State.pending is not None:
            stop, _State.pending = _State.pending, None
            raise stop
