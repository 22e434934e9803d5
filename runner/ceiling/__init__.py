"""k6's ceiling on this machine: its throughput against the smallest server we can write.

A step whose throughput comes near it measured k6, not the server (the client-bound rule of
runner.validity). The minimal responder (runner.ceiling.responder) runs on the server's cores
and k6, with the standard script, on the client's cores, exactly as in a step: CEILING_VUS
virtual users for CEILING_WARMUP_S unmeasured and CEILING_DURATION_S measured seconds. The figure
holds for one CPU model, core count, k6 version and pinning, and is cached under that key
(runner.ceiling.cache); `python -m runner.ceiling --remeasure` or `validity.measure_ceiling:
always` measure it again.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from runner import k6, launch
from runner.ceiling import cache
from runner.errors import UserError
from runner.model import Experiment
from runner.ports import HOST, free_port
from runner.provenance import cpu_model
from runner.results import ClientCeiling

# Enough users to keep k6 busy on its core(s) while each waits on a reply.
CEILING_VUS = 64
CEILING_WARMUP_S = 1.0
CEILING_DURATION_S = 3.0
RESPONDER_START_S = 10.0
K6_TIMEOUT_S = 30.0


def ceiling_key(
    k6_version: str, server_cpus: list[int] | None, client_cpus: list[int] | None
) -> dict[str, str]:
    def cores(cpus: list[int] | None) -> str:
        return ",".join(str(c) for c in cpus) if cpus else "unpinned"

    return {
        "cpu_model": cpu_model(),
        "logical_cores": str(os.cpu_count()),
        "k6": k6_version,
        "server_cpus": cores(server_cpus),
        "client_cpus": cores(client_cpus),
    }


def _wait_answering(port: int, responder: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + RESPONDER_START_S
    while time.monotonic() < deadline:
        if responder.poll() is not None:
            raise UserError(
                f"The ceiling's responder exited ({launch.describe_exit(responder.returncode)})."
            )
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
        finally:
            connection.close()
    raise UserError(f"The ceiling's responder did not answer within {RESPONDER_START_S:g} s.")


def _k6_env(port: int) -> dict[str, str]:
    request: dict[str, object] = {
        "name": "/",
        "method": "GET",
        "path": "/",
        "headers": {},
        "body": None,
        "weight": 1,
    }
    return {
        "SWEEPBENCH_BASE_URL": f"http://{HOST}:{port}",
        "SWEEPBENCH_REQUESTS": json.dumps([request]),
        "SWEEPBENCH_PATH": "/",
        "SWEEPBENCH_TIMEOUT": "10s",
        "SWEEPBENCH_LEVEL": str(CEILING_VUS),
        "SWEEPBENCH_MODEL": "closed",
        "SWEEPBENCH_TARGET": "ceiling",
        "SWEEPBENCH_REPETITION": "1",
        "SWEEPBENCH_DURATION": f"{CEILING_DURATION_S:g}s",
        "SWEEPBENCH_WARMUP": f"{CEILING_WARMUP_S:g}s",
    }


def _load(k6_path: Path, port: int, client_cpus: list[int] | None, work_dir: Path) -> float:
    """Requests per second k6 got from the responder in the measured window."""
    executor = {"executor": "constant-vus", "vus": CEILING_VUS}
    options = k6.step_options(executor, f"{CEILING_DURATION_S:g}s", CEILING_WARMUP_S)
    run = k6.run_k6(
        k6_path, k6.STANDARD_SCRIPT, options, _k6_env(port), work_dir, client_cpus, K6_TIMEOUT_S
    )
    if run.exit_code != 0 or run.summary is None:
        tail = " ".join(run.output_tail[-3:])
        raise UserError(
            f"k6 failed against the ceiling's responder ({launch.describe_exit(run.exit_code)}): {tail}"
        )
    metrics = k6.parse_summary(run.summary)
    return (metrics.requests - metrics.failed_requests) / CEILING_DURATION_S


def measure(
    k6_path: Path,
    server_cpus: list[int] | None,
    client_cpus: list[int] | None,
    work_dir: Path | None = None,
) -> ClientCeiling:
    """Start the responder on `server_cpus`, load it with k6 on `client_cpus`, stop it."""
    started = time.monotonic()
    port = free_port()
    command = [sys.executable, "-m", "runner.ceiling.responder", str(port)]
    responder = launch.spawn(
        command, cpus=server_cpus, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_answering(port, responder)
        with tempfile.TemporaryDirectory() as scratch:
            rps = _load(k6_path, port, client_cpus, work_dir or Path(scratch))
    finally:
        launch.stop_group(responder, 3.0)
    return ClientCeiling(
        rps=round(rps, 1),
        measured_at=round(time.time(), 3),
        measure_s=round(time.monotonic() - started, 2),
        cached=False,
        key=ceiling_key(k6.k6_version(k6_path), server_cpus, client_cpus),
    )


def for_experiment(
    experiment: Experiment, k6_path: Path, work_dir: Path, log: Callable[[str], None]
) -> ClientCeiling | None:
    """The ceiling a run judges its steps against, as `validity.measure_ceiling` says."""
    mode = experiment.validity.measure_ceiling
    if mode == "never":
        return None
    pinning = experiment.pinning
    server_cpus = list(pinning.server_cpus) if pinning.enabled else None
    client_cpus = list(pinning.client_cpus) if pinning.enabled else None
    if mode == "auto":
        found = cache.cached(ceiling_key(k6.k6_version(k6_path), server_cpus, client_cpus))
        if found is not None:
            log(
                f"k6's ceiling on this machine: {found.rps:,.0f} RPS (cached, {cache.cache_path()})"
            )
            return found
    log("Measuring k6's ceiling against a minimal responder (a few seconds)...")
    ceiling = measure(k6_path, server_cpus, client_cpus, work_dir)
    cache.store(ceiling)
    log(
        f"k6's ceiling on this machine: {ceiling.rps:,.0f} RPS (measured in {ceiling.measure_s:.1f} s)"
    )
    return ceiling
