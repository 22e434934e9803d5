"""k6's ceiling on this machine: its throughput against the smallest server we can write.

A step whose throughput comes near it measured k6, not the server (the client-bound rule of
runner.measure.validity). The minimal responder (runner.measure.ceiling.responder) runs on the server's cores
and k6, with the standard script, on the client's cores, exactly as in a step, at each of a few
numbers of virtual users (runner.measure.ceiling.levels): CEILING_WARMUP_S unmeasured and
CEILING_DURATION_S measured seconds each. The figures hold for one CPU model, core count, k6
version and pinning, and are cached under that key and level (runner.measure.ceiling.cache): a
run measures only the levels the cache lacks; `python -m runner.ceiling --remeasure` or
`validity.measure_ceiling: always` measure them again.

A ceiling measured while other work ran on those cores would be too low, and every later step near
it would read as client-bound: the measurement is judged for interference as a step is
(runner.measure.judging), tried again when it was disturbed, and neither cached nor used if it
stays disturbed.
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

from runner.config.experiment import Experiment
from runner.errors import UserError
from runner.measure import k6, launch
from runner.measure.ceiling import cache
from runner.measure.ceiling.levels import CEILING_VUS, ceiling_levels
from runner.measure.judging import CoreSet, window_interference
from runner.measure.ports import HOST, free_port
from runner.measure.sampler import TreeSampler
from runner.records.provenance import cpu_model
from runner.records.results import ClientCeiling

CEILING_WARMUP_S = 1.0
# Per level; a run measures at most runner.measure.ceiling.levels.MAX_LEVELS of them.
CEILING_DURATION_S = 2.0
RESPONDER_START_S = 10.0
K6_TIMEOUT_S = 30.0
# Other work above this share of the cores makes the measurement disturbed (the step rule's
# default, validity.max_interference); tried this many times before giving up.
MAX_INTERFERENCE = 0.10
ATTEMPTS = 2


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


def _k6_env(port: int, vus: int) -> dict[str, str]:
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
        "SWEEPBENCH_LEVEL": str(vus),
        "SWEEPBENCH_MODEL": "closed",
        "SWEEPBENCH_TARGET": "ceiling",
        "SWEEPBENCH_REPETITION": "1",
        "SWEEPBENCH_DURATION": f"{CEILING_DURATION_S:g}s",
        "SWEEPBENCH_WARMUP": f"{CEILING_WARMUP_S:g}s",
    }


def _core_sets(server_cpus: list[int] | None, client_cpus: list[int] | None) -> list[CoreSet]:
    if server_cpus and client_cpus and not set(server_cpus) & set(client_cpus):
        return [
            CoreSet("server", frozenset(server_cpus), ("server",), False),
            CoreSet("client", frozenset(client_cpus), ("k6",), True),
        ]
    cores = frozenset((server_cpus or []) + (client_cpus or [])) or frozenset(
        os.sched_getaffinity(0)
    )
    return [CoreSet("all", cores, ("server", "k6"), True)]


def _load(
    k6_path: Path,
    port: int,
    responder_pid: int,
    cpus: tuple[list[int] | None, list[int] | None],
    work_dir: Path,
    vus: int,
) -> tuple[float, float]:
    """Requests per second k6 got from the responder in the measured window with `vus` users,
    and the share of the cores other work took meanwhile (the worst core set's)."""
    server_cpus, client_cpus = cpus
    executor = {"executor": "constant-vus", "vus": vus}
    options = k6.step_options(executor, f"{CEILING_DURATION_S:g}s", CEILING_WARMUP_S)
    with TreeSampler({"server": responder_pid}, 0.1, 1.0, False, cpu_counters=True) as sampler:
        run = k6.run_k6(
            k6_path,
            k6.STANDARD_SCRIPT,
            options,
            _k6_env(port, vus),
            work_dir,
            client_cpus,
            K6_TIMEOUT_S,
            on_spawn=lambda pid: sampler.track("k6", pid),
            spawn=k6.spawn_without_user_settings,
        )
    start = (run.load_started_at or run.started_at) + CEILING_WARMUP_S
    found = window_interference(
        sampler.counters or [],
        sampler.samples,
        start,
        start + CEILING_DURATION_S,
        _core_sets(server_cpus, client_cpus),
    )
    if run.exit_code != 0 or run.summary is None:
        tail = " ".join(run.output_tail[-3:])
        raise UserError(
            f"k6 failed against the ceiling's responder ({launch.describe_exit(run.exit_code)}): {tail}"
        )
    metrics = k6.parse_summary(run.summary)
    other = max((i.share for i in found), default=0.0)
    return (metrics.requests - metrics.failed_requests) / CEILING_DURATION_S, other


def _measure_level(
    k6_path: Path,
    port: int,
    responder_pid: int,
    cpus: tuple[list[int] | None, list[int] | None],
    vus: int,
    work_dir: Path | None,
) -> tuple[float, float]:
    """One level's figure, tried again while other work disturbs it (up to ATTEMPTS times)."""
    with tempfile.TemporaryDirectory() as scratch:
        where = work_dir / f"vus{vus}" if work_dir else Path(scratch)
        where.mkdir(parents=True, exist_ok=True)
        for _attempt in range(ATTEMPTS):
            rps, other = _load(k6_path, port, responder_pid, cpus, where, vus)
            if other <= MAX_INTERFERENCE:
                break
    return rps, other


def measure(
    k6_path: Path,
    server_cpus: list[int] | None,
    client_cpus: list[int] | None,
    work_dir: Path | None = None,
    levels: list[int] | None = None,
) -> ClientCeiling:
    """Start the responder on `server_cpus`, load it with k6 on `client_cpus` at each of
    `levels` virtual users (default CEILING_VUS), stop it. Its interference is the worst level's."""
    started = time.monotonic()
    port = free_port()
    command = [sys.executable, "-m", "runner.measure.ceiling.responder", str(port)]
    responder = launch.spawn(
        command, cpus=server_cpus, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    figures: dict[int, float] = {}
    worst = 0.0
    try:
        _wait_answering(port, responder)
        for vus in levels or [CEILING_VUS]:
            rps, other = _measure_level(
                k6_path, port, responder.pid, (server_cpus, client_cpus), vus, work_dir
            )
            figures[vus], worst = round(rps, 1), max(worst, other)
            if worst > MAX_INTERFERENCE:
                break  # disturbed: the whole measurement is discarded, so stop here
    finally:
        launch.stop_group(responder, 3.0)
    return ClientCeiling(
        rps=max(figures.values()),
        levels=figures,
        measured_at=round(time.time(), 3),
        measure_s=round(time.monotonic() - started, 2),
        cached=False,
        interference=round(worst, 4),
        key=ceiling_key(k6.k6_version(k6_path), server_cpus, client_cpus),
    )


def disturbed(ceiling: ClientCeiling) -> bool:
    return ceiling.interference is not None and ceiling.interference > MAX_INTERFERENCE


def for_experiment(
    experiment: Experiment, k6_path: Path, work_dir: Path, log: Callable[[str], None]
) -> ClientCeiling | None:
    """The ceiling a run judges its steps against, as `validity.measure_ceiling` says: the
    cached levels, with those the cache lacks measured (all of them with 'always')."""
    mode = experiment.validity.measure_ceiling
    if mode == "never":
        return None
    pinning = experiment.pinning
    server_cpus = list(pinning.server_cpus) if pinning.enabled else None
    client_cpus = list(pinning.client_cpus) if pinning.enabled else None
    key = ceiling_key(k6.k6_version(k6_path), server_cpus, client_cpus)
    found = cache.cached(key) if mode == "auto" else None
    wanted = ceiling_levels(experiment)
    missing = [vus for vus in wanted if found is None or vus not in found.levels]
    if found is not None and not missing:
        log(f"k6's ceiling on this machine: {found.levels_text()} (cached, {cache.cache_path()})")
        return found
    log(
        f"Measuring k6's ceiling against a minimal responder at {', '.join(map(str, missing))} "
        "virtual users (a few seconds each)..."
    )
    fresh = measure(k6_path, server_cpus, client_cpus, work_dir, missing)
    if disturbed(fresh):
        kept = " Kept: the cached levels." if found is not None else ""
        log(
            f"k6's ceiling could not be measured: other work took {fresh.interference:.0%} of "
            f"the cores meanwhile. Steps are judged without it (k6's CPU still counts).{kept}"
        )
        return found
    ceiling = cache.merged(found, fresh)
    cache.store(ceiling)
    log(
        f"k6's ceiling on this machine: {ceiling.levels_text()} (measured in {fresh.measure_s:.1f} s)"
    )
    return ceiling
