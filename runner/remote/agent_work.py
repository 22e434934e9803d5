"""What the remote agent does for the runner: start, watch, sample and stop servers; run k6.

Everything reuses the runner's own code, run by this host's Python: the server command line
(runner.measure.server.command), the launcher that pins a child and ties it to this process's life
(runner.measure.launch), the tree sampler (runner.measure.sampler) and the k6 process (runner.measure.k6.process).
Each method answers one request of runner.remote.protocol with the reply's fields.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config.experiment import Target
from runner.measure import launch
from runner.measure.k6.binary import find_k6
from runner.measure.k6.process import k6_command, run_k6_instances
from runner.measure.k6.raw import RAW_FILE
from runner.measure.k6.segments import Segment
from runner.measure.ports import HOST, free_port
from runner.measure.sampler import TreeSampler
from runner.measure.server.command import server_command, server_env
from runner.measure.usage import Sample
from runner.records.provenance import packages_of
from runner.remote.protocol import sample_message

# How often servers are checked for having ended by themselves.
WATCH_INTERVAL_S = 0.1
DEFAULT_GRACE_S = 5.0
# A stopped server's log travels back whole, up to this much (its end).
MAX_LOG_BYTES = 1_000_000

Emit = Callable[[dict[str, Any]], None]


@dataclass
class _Server:
    process: subprocess.Popen[Any]
    log_path: Path
    stopping: bool = False
    reported: bool = False


class AgentWork:
    """The servers, the sampler and the k6 archive of one agent session."""

    def __init__(self, emit: Emit, should_stop_k6: Callable[[], str | None]) -> None:
        self._emit = emit
        self._should_stop_k6 = should_stop_k6
        self._dir = Path(tempfile.mkdtemp(prefix="sweepbench-agent-"))
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()
        self._sampler: TreeSampler | None = None
        self._archive: Path | None = None
        self._watching = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="server-watch", daemon=True)
        self._watcher.start()

    # --- servers ----------------------------------------------------------------------------

    def start(self, message: dict[str, Any]) -> dict[str, Any]:
        name = str(message["target"])
        if name in self._servers:
            raise ValueError(f"the server of target '{name}' is already running here")
        target = Target.model_validate(message["spec"])
        address = str(message["address"])
        port = int(message["port"]) if message.get("port") else free_port(address)
        if message.get("port"):
            _check_port_free(address, port)
        cpus = message.get("cpus")
        command = server_command(target, address, port)
        log_path = self._dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = launch.spawn(
                command,
                cpus=cpus,
                env=server_env(target, message.get("env") or {}),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        with self._lock:
            self._servers[name] = _Server(process, log_path)
        cores = len(cpus) if cpus else len(os.sched_getaffinity(0))
        return {"pid": process.pid, "port": port, "command": command, "cores": cores}

    def stop(self, message: dict[str, Any]) -> dict[str, Any]:
        name = str(message["target"])
        server = self._server(name)
        code = self._stop_server(server, float(message.get("grace_s", DEFAULT_GRACE_S)))
        with self._lock:
            del self._servers[name]
        log = _read_tail(server.log_path, MAX_LOG_BYTES)
        server.log_path.unlink(missing_ok=True)
        return {"code": code, "log": log}

    def log_tail(self, message: dict[str, Any]) -> dict[str, Any]:
        server = self._server(str(message["target"]))
        lines = _read_tail(server.log_path, MAX_LOG_BYTES).splitlines()
        return {"text": "\n".join(lines[-int(message.get("lines", 20)) :])}

    def _server(self, name: str) -> _Server:
        server = self._servers.get(name)
        if server is None:
            raise ValueError(f"no server of target '{name}' runs here")
        return server

    def _stop_server(self, server: _Server, grace_s: float) -> int:
        server.stopping = True
        return launch.stop_group(server.process, grace_s)

    def _watch(self) -> None:
        """Tell the runner at once when a server ends by itself (it stops k6 then)."""
        while not self._watching.wait(WATCH_INTERVAL_S):
            with self._lock:
                servers = list(self._servers.items())
            for name, server in servers:
                code = server.process.poll()
                if code is None or server.stopping or server.reported:
                    continue
                server.reported = True
                self._emit({"event": "exited", "target": name, "code": code})

    def packages(self, message: dict[str, Any]) -> dict[str, Any]:
        """The distributions each target's server and app load, probed with this host's Python
        (runner.records.provenance.packages_of)."""
        specs = dict(message["targets"])
        targets = {str(name): Target.model_validate(spec) for name, spec in specs.items()}
        return {"packages": packages_of(targets)}

    # --- sampling ---------------------------------------------------------------------------

    def sample_start(self, message: dict[str, Any]) -> dict[str, Any]:
        if self._sampler is not None:
            self.sample_stop({})
        name = message.get("server")
        roots = {"server": self._server(str(name)).process.pid} if name else {}
        sampler = TreeSampler(
            roots,
            float(message["interval_s"]),
            float(message["memory_interval_s"]),
            bool(message.get("uss", True)),
            cpu_counters=bool(message.get("counters")),
            on_sample=self._stream,
        )
        self._sampler = sampler.__enter__()
        return {}

    def sample_stop(self, _message: dict[str, Any]) -> dict[str, Any]:
        """Stop sampling; with counters asked for, this host's per-core readings of every tick
        (agent's clock; `runner_cpu_s` is the agent's own CPU time)."""
        sampler, self._sampler = self._sampler, None
        if sampler is None:
            return {}
        sampler.__exit__(None, None, None)
        if sampler.counters is None:
            return {}
        return {"counters": [[c.at, c.proc_stat, c.runner_cpu_s] for c in sampler.counters]}

    def _stream(self, tree: str, sample: Sample) -> None:
        self._emit(sample_message(tree, sample))

    # --- k6 ---------------------------------------------------------------------------------

    def script(self, message: dict[str, Any]) -> dict[str, Any]:
        """Keep a k6 archive (`k6 archive`: the script with everything it imports)."""
        path = self._dir / "script.tar"
        path.write_bytes(base64.b64decode(str(message["data"])))
        self._archive = path
        return {"path": str(path)}

    def run_k6(self, message: dict[str, Any]) -> dict[str, Any]:
        """One k6 run from the archive; with a `segment` [index, count], that share of the step,
        its raw samples sent back whole (gzipped CSV, base64) for the runner to merge."""
        if self._archive is None:
            raise ValueError("no k6 script was sent (request 'script' first)")
        sampler = self._sampler
        cpus = message.get("cpus")
        given = message.get("segment")
        segment = Segment(int(given[0]), int(given[1])) if given else None
        work_dir = self._dir / "k6"
        raw_path = work_dir / RAW_FILE if segment is not None else None
        command = k6_command(
            find_k6(),
            self._archive,
            dict(message["options"]),
            work_dir,
            free_port(HOST),
            segment,
            raw_path,
        )
        on_spawn = functools.partial(_track, sampler) if sampler is not None else None
        (run,) = run_k6_instances(
            [command],
            {str(k): str(v) for k, v in dict(message["env"]).items()},
            cpus,
            float(message["timeout_s"]),
            on_spawn=on_spawn,
            stop_when=self._should_stop_k6,
        )
        return {
            "exit_code": run.exit_code,
            "summary": run.summary,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "load_started_at": run.load_started_at,
            "output_tail": run.output_tail,
            "stopped_because": run.stopped_because,
            "cores": len(cpus) if cpus else len(os.sched_getaffinity(0)),
            "raw": _read_base64(raw_path) if raw_path is not None else None,
        }

    # --- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the sampler and every server (with every process it forked); forget the files."""
        self._watching.set()
        self.sample_stop({})
        for server in list(self._servers.values()):
            self._stop_server(server, DEFAULT_GRACE_S)
        self._servers.clear()
        shutil.rmtree(self._dir, ignore_errors=True)

    def kill_all(self) -> None:
        """The watchdog's last resort: SIGKILL to every server's process group, at once."""
        for server in list(self._servers.values()):
            with contextlib.suppress(OSError):
                os.killpg(server.process.pid, signal.SIGKILL)


def _check_port_free(address: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as error:
            raise ValueError(f"port {port} on {address} is not free ({error.strerror})") from None


def _track(sampler: TreeSampler, _index: int, pid: int) -> None:
    sampler.track("k6", pid)


def _read_base64(path: Path) -> str | None:
    """A file's bytes for a JSON reply; None when k6 wrote none (it failed or was stopped)."""
    try:
        return base64.b64encode(path.read_bytes()).decode()
    except OSError:
        return None


def _read_tail(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - limit))
            return stream.read().decode(errors="replace")
    except OSError:
        return ""
