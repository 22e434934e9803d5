"""Loopback ports: the host every started server listens on, a free port, a fixed one checked."""

from __future__ import annotations

import socket

import psutil

from runner.errors import TargetError

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(name: str, port: int) -> None:
    """A fixed port must be free before the server starts: otherwise the readiness check
    could be answered by whatever already listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise TargetError(
                f"Target '{name}' cannot start: port {port} on {HOST} is already in use "
                f"({error.strerror}{port_holder(port)}). Choose another 'targets.{name}.port' "
                "or stop what listens there."
            ) from None


def port_holder(port: int) -> str:
    """'; held by pid N (name)' for the process listening on `port`, or '' when unknown."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status != psutil.CONN_LISTEN or not conn.laddr or not conn.pid:
                continue
            if conn.laddr[1] == port:  # laddr is (ip, port)
                return f"; held by pid {conn.pid} ({psutil.Process(conn.pid).name()})"
    except psutil.Error:
        pass
    return ""
