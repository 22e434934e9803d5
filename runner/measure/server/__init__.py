"""A target's server: its command line, the import probe, HTTP checks, and starting/stopping it.

Modules, in the order they build on each other:
  command      the command line of each server kind (the kinds: runner.config.experiment.servers)
  handles      ServerHandle (what a step needs of a server), RunningServer, ExternalServer
  probe        check_importable: every server and app module exists, before anything starts
  http_checks  send a request, wait until a server answers, verify an answer against Expect
  session      running_server / external_server: a server for one session of steps

The names below are imported on first use (PEP 562), so importing one module here does not
pull in the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.lazy import lazy_names

if TYPE_CHECKING:
    from runner.measure.server.command import PROJECT_ROOT, SERVERS, server_command, server_env
    from runner.measure.server.handles import ExternalServer, RunningServer, ServerHandle
    from runner.measure.server.http_checks import (
        Answer,
        mismatch,
        send,
        verify_response,
        wait_until_answering,
    )
    from runner.measure.server.probe import check_importable
    from runner.measure.server.session import external_server, running_server

__all__ = [
    "PROJECT_ROOT",
    "SERVERS",
    "Answer",
    "ExternalServer",
    "RunningServer",
    "ServerHandle",
    "check_importable",
    "external_server",
    "mismatch",
    "running_server",
    "send",
    "server_command",
    "server_env",
    "verify_response",
    "wait_until_answering",
]


__getattr__, __dir__ = lazy_names(__name__, __file__, __all__)
