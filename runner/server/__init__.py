"""A target's server: its command line, the import probe, HTTP checks, and starting/stopping it.

Modules, in the order they build on each other:
  handles      ServerHandle (what a step needs of a server), RunningServer, ExternalServer
  command      the command line and environment, one builder per server kind
  probe        check_importable: every server and app module exists, before anything starts
  http_checks  send a request, wait until a server answers, verify an answer against Expect
  session      running_server / external_server: a server for one session of steps
"""

from runner.server.command import PROJECT_ROOT, server_command, server_env
from runner.server.handles import ExternalServer, RunningServer, ServerHandle
from runner.server.http_checks import (
    Answer,
    mismatch,
    send,
    verify_response,
    wait_until_answering,
)
from runner.server.probe import check_importable
from runner.server.session import external_server, running_server

__all__ = [
    "PROJECT_ROOT",
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
