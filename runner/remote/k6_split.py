"""One step's k6 on several hosts (`load.k6_host: [gen1, gen2]`): instance n runs execution
segment n of N (runner.measure.k6.segments) through the n-th host's agent, all side by side.

Each agent sends back its k6's summary and its raw samples (k6's gzipped CSV, whole); they are
written into the step's `k6-n/` directory exactly where a local instance leaves its own, so the
step's figures are merged by the same code (runner.measure.k6.split.SplitRun.metrics): counts
summed, percentiles from the pooled raw samples of the measured window.

The hosts sample k6's tree on their own clocks, at their own ticks; the step's `k6` series is
their sum on this machine's clock, each host's latest reading carried to every tick
(`carried_total`), since ticks from different hosts never line up.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runner.measure import k6
from runner.measure.k6.client_trees import summed
from runner.measure.k6.raw import RAW_FILE
from runner.measure.k6.segments import Segment, segments
from runner.measure.k6.split import Instance
from runner.measure.usage import Sample
from runner.remote.session import AgentSession, RemoteError

__all__ = ["carried_total", "k6_run_of", "run_segments"]

StopOthers = Callable[[str], None]


def run_segments(
    sessions: Sequence[AgentSession],
    k6_path: Path,
    script: Path,
    options: dict[str, Any],
    work_dir: Path,
    call: Callable[[AgentSession, dict[str, Any]], dict[str, Any]],
) -> tuple[k6.SplitRun, int]:
    """Instance n on the n-th session, side by side; the split run as if run here, and the
    cores k6 had on all hosts together. `call(session, fields)` sends one `k6` request."""
    parts = segments(len(sessions))
    replies: list[dict[str, Any] | None] = [None] * len(parts)
    errors: list[RemoteError] = []

    def one(index: int) -> None:
        try:
            replies[index] = call(sessions[index], {"segment": [index, len(parts)]})
        except RemoteError as error:
            errors.append(error)
            for other in sessions:  # the others must not go on loading alone
                other.send({"op": "stop_k6", "reason": f"another k6 host failed: {error}"})

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    instances, runs, cores = [], [], 0
    for segment, session, reply in zip(parts, sessions, replies, strict=True):
        assert reply is not None
        instances.append(_instance(segment, k6_path, script, options, work_dir, reply))
        runs.append(k6_run_of(reply, session))
        cores += int(reply["cores"])
    return k6.SplitRun(instances, runs), cores


def _instance(
    segment: Segment,
    k6_path: Path,
    script: Path,
    options: dict[str, Any],
    work_dir: Path,
    reply: dict[str, Any],
) -> Instance:
    """The instance's files where a local instance leaves them (`k6-n/`), and its command, kept
    for the record's names (the host ran the same, from the run's archive)."""
    directory = work_dir / f"k6-{segment.number}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "k6-options.json").write_text(json.dumps(options, indent=2))
    if reply.get("summary") is not None:
        (directory / "k6-summary.json").write_text(json.dumps(reply["summary"], indent=2))
    raw_path = directory / RAW_FILE
    raw_path.unlink(missing_ok=True)
    if reply.get("raw"):
        raw_path.write_bytes(base64.b64decode(str(reply["raw"])))
    command = k6.k6_command(k6_path, script, options, directory, 0, segment, raw_path)
    return Instance(segment, command)


def k6_run_of(reply: dict[str, Any], session: AgentSession) -> k6.K6Run:
    """The agent's account of the run, its times moved to this machine's clock."""
    clock = session.offset
    load_started = reply.get("load_started_at")
    return k6.K6Run(
        exit_code=int(reply["exit_code"]),
        summary=reply.get("summary"),
        started_at=clock.to_local(float(reply["started_at"])),
        ended_at=clock.to_local(float(reply["ended_at"])),
        load_started_at=clock.to_local(float(load_started)) if load_started is not None else None,
        output_tail=[str(line) for line in reply.get("output_tail") or []],
        stopped_because=reply.get("stopped_because"),
    )


def carried_total(series: Sequence[list[Sample]]) -> list[Sample]:
    """Several hosts' samples of one kind of tree as one series: at every tick of any host, the
    sum of each host's latest reading (none before a host's first)."""
    ticks = sorted(
        {(sample.at, index) for index, samples in enumerate(series) for sample in samples}
    )
    latest: dict[int, Sample] = {}
    by_tick = {(s.at, i): s for i, samples in enumerate(series) for s in samples}
    total = []
    for at, index in ticks:
        latest[index] = by_tick[(at, index)]
        total.append(summed(at, list(latest.values())))
    return total
