"""One step whose server or k6 runs on another host: the load, and every sample brought home.

Each host's agent samples the trees there (the server's, and k6's when it runs there) and
streams the samples back on its own clock; the session moves them to this machine's clock with
the offset measured at its start (runner.remote.clock). A k6 run on another host comes back the
same way: its start, end and load-start marker moved to this machine's clock. So the window the
step is judged over (k6's load start + warmup, on this machine's clock) lines up with the
samples from every host.

With k6 on another host, this machine's per-core counters say nothing about the step: the
interference figure is then not measured (no counters).
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
from runner.measure.k6.segments import Segment
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

    k6_session: AgentSession | None
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
            if self.k6_session is None:
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
        with ExitStack() as stack:
            there = _server_sampling(stack, remote, experiment)
            loaded = load_and_sample(
                step, server, experiment, k6_path, work_dir, on_live, script, watch
            )
        return StepLoad(loaded.run, {**loaded.samples, **there}, loaded.counters)

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
        """k6 through its host's agent, which samples k6's tree there (and the server's, when it
        runs on the same host)."""
        session = self.k6_session
        assert session is not None
        with ExitStack() as stack:
            there = _server_sampling(stack, remote, experiment)
            if remote is None or remote.session is not session:
                k6_samples = stack.enter_context(session.sampling(None, experiment.sampler))
            else:
                k6_samples = there  # one agent samples both trees
            run, cores = run_k6_there(session, server, step, experiment, work_dir)
        self.k6_cores = cores
        # One instance (load.k6_instances above 1 is refused with a k6 host): the command is
        # the one the agent ran from the run's archive, kept for the record's names only.
        options = k6.options_for_step(experiment, step)
        command = k6.k6_command(k6_path, script, options, work_dir, free_port())
        split = k6.SplitRun([Instance(Segment(0, 1), command)], [run])
        return StepLoad(split, {**k6_samples, **there}, [])


def lost_host_text(step: Step, error: RemoteError) -> str:
    """One paragraph: a host of the step stopped answering (a network cut, a host down, its
    agent killed), so the target's remaining steps are skipped."""
    return (
        f"Target '{step.target}' lost a host during the step at {step.level_words}: {error}. "
        "Its remaining steps are skipped; the host's agent stops its server and k6 by itself "
        "once it hears nothing from this runner (docs/remote.md, Guarantees)."
    )


def _server_sampling(
    stack: ExitStack, remote: RemoteServer | None, experiment: Experiment
) -> dict[str, list[Sample]]:
    if remote is None:
        return {}
    return stack.enter_context(remote.session.sampling(remote.name, experiment.sampler))


def run_k6_there(
    session: AgentSession, server: ServerHandle, step: Step, experiment: Experiment, work_dir: Path
) -> tuple[k6.K6Run, int]:
    """One k6 run on the session's host (the script was sent at the session's start); stopped
    there when the server exits. Its options and summary are kept in `work_dir` as a local run's."""
    load = experiment.load
    options = k6.options_for_step(experiment, step)
    timeout_s = load.warmup_s + load.duration_s + K6_EXTRA_TIME_S
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "k6-options.json").write_text(json.dumps(options, indent=2))
    answered = threading.Event()
    watcher = threading.Thread(
        target=_stop_when_server_exits, args=(session, server, answered), daemon=True
    )
    watcher.start()
    try:
        reply = session.call(
            "k6",
            wait_s=timeout_s + ANSWER_MARGIN_S,
            options=options,
            env=k6.step_env(server.base_url, experiment, step),
            cpus=client_cpus(experiment),
            timeout_s=timeout_s,
        )
        answered.set()
    finally:
        if not answered.is_set():  # interrupted, or no answer: k6 must not go on loading
            session.send({"op": "stop_k6", "reason": "the runner stopped waiting"})
            answered.set()
        watcher.join()
    if reply.get("summary") is not None:
        (work_dir / "k6-summary.json").write_text(json.dumps(reply["summary"], indent=2))
    return _k6_run(reply, session), int(reply["cores"])


def _stop_when_server_exits(
    session: AgentSession, server: ServerHandle, answered: threading.Event
) -> None:
    while not answered.wait(WATCH_INTERVAL_S):
        if not server.alive():
            session.send({"op": "stop_k6", "reason": "the server exited"})
            return


def _k6_run(reply: dict[str, Any], session: AgentSession) -> k6.K6Run:
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
