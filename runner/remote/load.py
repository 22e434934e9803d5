"""One step whose server or k6 runs on another host: the load, and every sample brought home.

Each host's agent samples the trees there (the server's, and k6's when it runs there) and
streams the samples back on its own clock; the session moves them to this machine's clock with
the offset measured at its start (runner.remote.clock). A k6 run on another host comes back the
same way: its start, end and load-start marker moved to this machine's clock. So the window the
step is judged over (k6's load start + warmup, on this machine's clock) lines up with the
samples from every host.

With k6 on one other host, this machine's per-core counters say nothing about the step: that
host's agent reads its own in the same ticks as k6's tree, and they judge interference and
steal on k6's cores there; a server's host does the same for the server's cores. With k6 split
over several hosts no k6 host's counters are judged yet.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config.experiment import Experiment
from runner.errors import TargetError
from runner.measure import k6
from runner.measure.cpu_accounting import CounterReading
from runner.measure.k6.segments import CLIENT_TREE, Segment
from runner.measure.k6.split import Instance
from runner.measure.ports import free_port
from runner.measure.server import ServerHandle
from runner.measure.step_load import (
    K6_EXTRA_TIME_S,
    StepLoad,
    StepWatch,
    Where,
    client_cpus,
    cores_of,
    load_and_sample,
)
from runner.measure.usage import Sample
from runner.remote.k6_split import carried_total, k6_run_of, run_segments
from runner.remote.server import RemoteServer
from runner.remote.session import AgentSession, RemoteError
from runner.run.plan import Step

# How often the server is checked on while k6 runs elsewhere.
WATCH_INTERVAL_S = 0.2
# The answer of a remote k6 run may take this much longer than k6's own bound.
ANSWER_MARGIN_S = 30.0


@dataclass
class Placement:
    """The agents a step's load goes through: the server's host (if elsewhere), k6's (if
    elsewhere; the same session when both share a host)."""

    k6_sessions: list[AgentSession]
    k6_cores: int | None = None

    def load_and_sample(
        self,
        step: Step,
        server: ServerHandle,
        experiment: Experiment,
        k6_path: Path,
        work_dir: Path,
        on_live: Callable[[k6.LiveView], None] | None,
        script: Path,
        watch: StepWatch | None,
    ) -> StepLoad:
        remote = server if isinstance(server, RemoteServer) else None
        try:
            for session in {*self.k6_sessions, *([remote.session] if remote else [])}:
                session.refresh_clock()
            if not self.k6_sessions:
                return self._k6_here(
                    step, server, remote, experiment, k6_path, work_dir, on_live, script, watch
                )
            return self._k6_there(step, server, remote, experiment, k6_path, script, work_dir)
        except RemoteError as error:
            raise TargetError(lost_host_text(step, error)) from None

    def where(self, server: ServerHandle) -> Where:
        if isinstance(server, RemoteServer):
            return Where(server.remote_pid, server.cores, self.k6_cores)
        pid = server.pid
        return Where(pid, cores_of(pid) if pid is not None else None, self.k6_cores)

    def _k6_here(
        self,
        step: Step,
        server: ServerHandle,
        remote: RemoteServer | None,
        experiment: Experiment,
        k6_path: Path,
        work_dir: Path,
        on_live: Callable[[k6.LiveView], None] | None,
        script: Path,
        watch: StepWatch | None,
    ) -> StepLoad:
        """k6 here exactly as for a local server; the server's tree sampled on its host."""
        server_counters: list[CounterReading] = []
        with ExitStack() as stack:
            there = _server_sampling(stack, remote, experiment, server_counters)
            loaded = load_and_sample(
                step, server, experiment, k6_path, work_dir, on_live, script, watch
            )
        samples = {**loaded.samples, **there}
        return StepLoad(loaded.run, samples, loaded.counters, server_counters)

    def _k6_there(
        self,
        step: Step,
        server: ServerHandle,
        remote: RemoteServer | None,
        experiment: Experiment,
        k6_path: Path,
        script: Path,
        work_dir: Path,
    ) -> StepLoad:
        """k6 through its host's agent (each host's, one segment each), which samples k6's tree
        there (and the server's, when it runs on the same host)."""
        sessions = self.k6_sessions
        options = k6.options_for_step(experiment, step)
        # One k6 host's per-core counters judge interference and steal on its client cores, as
        # this machine's judge a local k6 (the agent's own CPU in the runner's place).
        counters: list[CounterReading] | None = [] if len(sessions) == 1 else None
        # The server's host's own counters (the same readings when it is k6's host too).
        shared = remote is not None and remote.session is sessions[0] and counters is not None
        server_counters: list[CounterReading] = counters if shared and counters is not None else []
        with ExitStack() as stack:
            there = _server_sampling(stack, remote, experiment, server_counters)
            per_host = [
                there  # one agent samples both trees
                if remote is not None and remote.session is session
                else stack.enter_context(session.sampling(None, experiment.sampler, counters))
                for session in sessions
            ]

            def call(session: AgentSession, fields: dict[str, Any]) -> dict[str, Any]:
                return k6_call(session, server, step, experiment, fields)

            if len(sessions) > 1:
                split, self.k6_cores = run_segments(
                    sessions, k6_path, script, options, work_dir, call
                )
            else:
                run, self.k6_cores = run_k6_there(sessions[0], call, options, work_dir)
                # The command the agent ran from the run's archive, kept for the record's names.
                command = k6.k6_command(k6_path, script, options, work_dir, free_port())
                split = k6.SplitRun([Instance(Segment(0, 1), command)], [run])
        if len(sessions) == 1:
            return StepLoad(split, {**per_host[0], **there}, counters or [], server_counters)
        trees = [instance.segment.tree for instance in split.instances]
        k6_series = [samples.get(CLIENT_TREE, []) for samples in per_host]
        samples = {**there, **dict(zip(trees, k6_series, strict=True))}
        total = {**samples, CLIENT_TREE: carried_total(k6_series)}
        return StepLoad(split, total, [], server_counters)


def lost_host_text(step: Step, error: RemoteError) -> str:
    """One paragraph: a host of the step stopped answering (a network cut, a host down, its
    agent killed), so the target's remaining steps are skipped."""
    return (
        f"Target '{step.target}' lost a host during the step at {step.level_words}: {error}. "
        "Its remaining steps are skipped; the host's agent stops its server and k6 by itself "
        "once it hears nothing from this runner (docs/remote.md, Guarantees)."
    )


def _server_sampling(
    stack: ExitStack,
    remote: RemoteServer | None,
    experiment: Experiment,
    counters: list[CounterReading] | None = None,
) -> dict[str, list[Sample]]:
    if remote is None:
        return {}
    sampling = remote.session.sampling(remote.name, experiment.sampler, counters)
    return stack.enter_context(sampling)


def run_k6_there(
    session: AgentSession,
    call: Callable[[AgentSession, dict[str, Any]], dict[str, Any]],
    options: dict[str, Any],
    work_dir: Path,
) -> tuple[k6.K6Run, int]:
    """One k6 run on the session's host; its options and summary kept in `work_dir` as a local
    run's."""
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "k6-options.json").write_text(json.dumps(options, indent=2))
    reply = call(session, {})
    if reply.get("summary") is not None:
        (work_dir / "k6-summary.json").write_text(json.dumps(reply["summary"], indent=2))
    return k6_run_of(reply, session), int(reply["cores"])


def k6_call(
    session: AgentSession,
    server: ServerHandle,
    step: Step,
    experiment: Experiment,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """The `k6` request (the script was sent at the session's start), with `fields` (a
    segment); k6 is stopped there when the server exits or the runner stops waiting."""
    load = experiment.load
    timeout_s = load.warmup_s + load.duration_s + K6_EXTRA_TIME_S
    answered = threading.Event()
    watcher = threading.Thread(
        target=_stop_when_server_exits, args=(session, server, answered), daemon=True
    )
    watcher.start()
    try:
        reply = session.call(
            "k6",
            wait_s=timeout_s + ANSWER_MARGIN_S,
            options=k6.options_for_step(experiment, step),
            env=k6.step_env(server.base_url, experiment, step),
            cpus=client_cpus(experiment),
            timeout_s=timeout_s,
            **fields,
        )
        answered.set()
    finally:
        if not answered.is_set():  # interrupted, or no answer: k6 must not go on loading
            session.send({"op": "stop_k6", "reason": "the runner stopped waiting"})
            answered.set()
        watcher.join()
    return reply


def _stop_when_server_exits(
    session: AgentSession, server: ServerHandle, answered: threading.Event
) -> None:
    while not answered.wait(WATCH_INTERVAL_S):
        if not server.alive():
            session.send({"op": "stop_k6", "reason": "the server exited"})
            return
