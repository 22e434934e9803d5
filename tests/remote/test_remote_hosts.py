"""The server and the load on separate hosts, for real: two network namespaces joined by a veth
pair, an sshd in each with a throwaway key (tests/netns_hosts.py), and `python -m runner` run
inside the client namespace with `ip netns exec`.

Why the runner runs in the client namespace: k6 must load the server across the veth pair, and
a runner there reaches both namespaces' addresses, so one layout serves both cases. With k6 on
this machine (the runner's namespace, k6 its child) the runner's own k6 path is the one tested;
with `load.k6_host` set to the client namespace's sshd, k6 runs through that host's agent over
ssh, like the server in the other namespace. Only 10.77.0.1 and 10.77.0.2, addresses inside the
namespaces the test made, are ever loaded.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from runner.measure.k6.merge import latency_spectrum
from runner.measure.k6.raw import RAW_FILE, read_measured_durations
from runner.records.store import load_run
from tests.conftest import NEVER_INVALID, PROJECT_ROOT, TEST_EXPERIMENTS, cli_command, cli_env
from tests.netns_hosts import NamespaceHosts, namespace_hosts, why_not_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(why_not_available() is not None, reason=str(why_not_available())),
]

RUN_TIMEOUT_S = 90
GONE_WITHIN_S = 10
LOST_WITHIN_S = 60
# The agent hears nothing for its heartbeat timeout (30 s), then stops everything.
LEFT_GONE_WITHIN_S = 60


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamespaceHosts]:
    with namespace_hosts(tmp_path_factory.mktemp("netns")) as made:
        yield made


def host_overrides(hosts: NamespaceHosts) -> list[str]:
    """Each namespace's sshd runs this venv's Python in this checkout (one filesystem)."""
    found = []
    for name in ("server_ns", "client_ns", "client2_ns"):
        found += [
            f"hosts.{name}.python={sys.executable}",
            f"hosts.{name}.workdir={PROJECT_ROOT}",
            f"hosts.{name}.ssh_options=[-F,{hosts.ssh_config}]",
        ]
    return found


def start_runner(
    hosts: NamespaceHosts, run_dir: Path, *overrides: str, judged: bool = False
) -> subprocess.Popen[str]:
    """The runner in the client namespace; `judged`: by the default validity thresholds."""
    args = ["--config-dir", str(TEST_EXPERIMENTS), "+experiment=remote_hosts"]
    args += [f"hydra.run.dir={run_dir}", *host_overrides(hosts)]
    args += ["validity.measure_ceiling=never"] if judged else NEVER_INVALID
    args += list(overrides)
    command = ["ip", "netns", "exec", hosts.client_ns, *cli_command(*args)]
    output = (run_dir.parent / f"{run_dir.name}.out").open("w")
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=cli_env(), stdout=output, stderr=subprocess.STDOUT, text=True
    )


class NamespaceWatch:
    """Every process seen in the server namespace while the runner runs, by pid and name."""

    def __init__(self, hosts: NamespaceHosts) -> None:
        self.hosts = hosts
        self.seen: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> NamespaceWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            for pid in self.hosts.leftovers(self.hosts.server_ns) - set(self.seen):
                try:
                    self.seen[pid] = " ".join(psutil.Process(pid).cmdline())
                except psutil.Error:
                    continue


def finished(process: subprocess.Popen[str], run_dir: Path) -> int:
    try:
        return process.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    finally:
        output = run_dir.parent / f"{run_dir.name}.out"
        print(output.read_text())  # shown by pytest when the test fails


def test_a_step_with_the_server_in_one_namespace_and_k6_in_the_other(
    hosts: NamespaceHosts, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    with NamespaceWatch(hosts) as watch:
        code = finished(start_runner(hosts, run_dir), run_dir)
    assert code == 0
    record = load_run(run_dir)
    [step] = record.steps
    assert step.requests > 0 and step.error_rate == 0
    assert 0 < step.latency_ms.p99 <= step.latency_ms.max
    # Sampled there: the tree's root is the uvicorn the agent started in the server namespace.
    assert step.server_pid is not None and "uvicorn" in watch.seen[step.server_pid]
    assert step.cpu_percent is not None and step.cpu_percent.avg > 0
    assert step.memory_mib is not None and step.memory_mib.avg > 10
    assert step.server_processes and step.client_cpu_percent.avg > 0
    placed = record.provenance.hosts
    assert placed is not None
    assert placed.servers == {"api": "server_ns"} and placed.k6 == [None]
    [server_ns] = placed.remote
    assert server_ns.roles == ["server of api"] and server_ns.address == "10.77.0.2"
    assert server_ns.clock is not None and server_ns.clock.tries == 5
    assert abs(server_ns.clock.offset_ms) < 50  # one machine, one clock
    assert "10.77.0.2" in record.provenance.server_commands["api"]
    assert "uvicorn" in record.provenance.target_packages["api"]  # probed by its host's agent
    # Judged on both machines: k6's cores here, the server's there (its agent's counters).
    assert step.validity is not None
    assert {"client_interference", "server_interference"} <= set(step.validity.measured)
    assert (run_dir / "logs" / "api.log").is_file()
    report = (run_dir / "report.md").read_text()
    assert "clock offset of server_ns: " in report and "round trips of at best" in report


def test_k6_through_the_agent_of_the_client_namespace(
    hosts: NamespaceHosts, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    code = finished(start_runner(hosts, run_dir, "load.k6_host=client_ns"), run_dir)
    assert code == 0
    record = load_run(run_dir)
    [step] = record.steps
    assert step.requests > 0 and step.error_rate == 0
    assert step.client_cpu_percent.avg > 0  # k6's tree, sampled by its host's agent
    # The step's own trend statistics reached k6 there (not the archive's defaults).
    assert 0 < step.latency_ms.p99 <= step.latency_ms.max
    assert step.latency_ms.p99_99 is not None
    assert step.cpu_percent is not None and step.cpu_percent.avg > 0
    placed = record.provenance.hosts
    assert placed is not None and placed.k6 == ["client_ns"]
    assert {host.name for host in placed.remote} == {"server_ns", "client_ns"}
    step_dirs = list((run_dir / "steps" / "api").iterdir())
    assert [(d / "k6-summary.json").is_file() for d in step_dirs] == [True]


def test_a_step_split_over_two_k6_hosts(hosts: NamespaceHosts, tmp_path: Path) -> None:
    """k6 in two namespaces, one execution segment each: the step's count is the sum of the
    hosts' and its percentiles are those of their raw samples pooled."""
    run_dir = tmp_path / "run"
    split = "load.k6_host=[client_ns,client2_ns]"
    code = finished(start_runner(hosts, run_dir, split), run_dir)
    assert code == 0
    record = load_run(run_dir)
    [step] = record.steps
    assert step.k6_split is not None and step.error_rate == 0
    assert [(i.instance, i.segment) for i in step.k6_split] == [(1, "0:1/2"), (2, "1/2:1")]
    assert all(i.requests > 0 for i in step.k6_split)
    assert step.requests == sum(i.requests for i in step.k6_split)
    [step_dir] = (run_dir / "steps" / "api").iterdir()
    raw = [read_measured_durations(step_dir / f"k6-{n}" / RAW_FILE) for n in (1, 2)]
    assert [len(durations) for durations in raw] == [i.requests for i in step.k6_split]
    pooled = latency_spectrum(np.concatenate(raw))
    assert step.latency_ms.model_dump() == {
        k: round(v, 3) for k, v in pooled.items() if v is not None
    }
    # Each host's k6 tree sampled there; the step's k6 CPU is their total.
    assert all(i.client_cpu_percent and i.client_cpu_percent.avg > 0 for i in step.k6_split)
    placed = record.provenance.hosts
    assert placed is not None and placed.k6 == ["client_ns", "client2_ns"]
    print(
        f"split over two hosts: {step.requests} requests, {step.rps} RPS, p50 {step.latency_ms.p50} ms, p99 {step.latency_ms.p99} ms"
    )


@pytest.mark.parametrize(
    ("namespace", "core", "role", "placed"),
    [
        ("client2_ns", "1", "client", ["load.k6_host=client2_ns"]),  # k6's core there
        ("server_ns", "0", "server", []),  # the server's core on its host, k6 here
    ],
    ids=["k6_host", "server_host"],
)
def test_a_cpu_hog_on_a_hosts_measured_core_marks_the_step_invalid(
    hosts: NamespaceHosts, tmp_path: Path, namespace: str, core: str, role: str, placed: list[str]
) -> None:
    """Other work on a core the step uses on another host (a busy loop in its namespace): that
    host's agent reads its per-core counters, and the step is judged disturbed as a local one
    would be."""
    run_dir = tmp_path / "run"
    # Bounded by itself too: a minute at most, whatever happens to this test.
    busy = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass"
    hog = subprocess.Popen(  # `ip netns exec` and taskset exec: `hog` is the busy loop itself
        ["ip", "netns", "exec", getattr(hosts, namespace), "taskset", "-c", core]
        + [sys.executable, "-c", busy]
    )
    try:
        runner = start_runner(hosts, run_dir, *placed, "retry.max_attempts=1", judged=True)
        code = finished(runner, run_dir)
    finally:
        hog.kill()
        hog.wait()
    assert code == 0
    [step] = load_run(run_dir).steps
    assert step.validity is not None and not step.validity.valid
    reasons = {reason.code: reason for reason in step.validity.reasons}
    assert "interference" in reasons, step.validity
    assert step.validity.measured.get(f"{role}_interference", 0) > 0.3, step.validity.measured


def test_killing_the_runner_leaves_no_process_in_any_namespace(
    hosts: NamespaceHosts, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    split = "load.k6_host=[client_ns,client2_ns]"  # k6 on two hosts, the server on a third
    runner = start_runner(hosts, run_dir, split, "load.duration=30s")
    namespaces = (hosts.client_ns, hosts.server_ns, hosts.client2_ns)
    try:
        assert wait_for_k6(hosts, runner), "k6 never started"
        runner.kill()  # SIGKILL: no clean-up of its own
        runner.wait()
        deadline = time.monotonic() + GONE_WITHIN_S
        while time.monotonic() < deadline:
            left = [hosts.leftovers(ns) for ns in namespaces]
            if not any(left):
                break
            time.sleep(0.1)
        assert left == [set(), set(), set()], describe(left)
    finally:
        runner.kill()
        runner.wait()


def wait_for_k6(hosts: NamespaceHosts, runner: subprocess.Popen[str]) -> bool:
    """Mid-step: k6 runs in the client namespace (under its agent) and the server answers."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and runner.poll() is None:
        for pid in hosts.leftovers(hosts.client_ns):
            try:
                command = psutil.Process(pid).cmdline()
                if command and Path(command[0]).name == "k6" and command[1:2] == ["run"]:
                    time.sleep(1.5)  # into the measured window
                    return True
            except psutil.Error:
                continue
        time.sleep(0.1)
    return False


def describe(left: list[set[int]]) -> str:
    lines = []
    for pid in set().union(*left):
        try:
            lines.append(f"{pid}: {' '.join(psutil.Process(pid).cmdline())}")
        except psutil.Error:
            continue
    return "left behind:\n" + "\n".join(lines)


def test_a_link_cut_mid_step_is_a_recorded_failure(hosts: NamespaceHosts, tmp_path: Path) -> None:
    """The server namespace cut off 1.5 s into the measured window: the run ends within a minute
    with the target's failure recorded, a report and exit status 1, no traceback; once the link
    is back, nothing of the run is left there (the agent's own heartbeat watchdog)."""
    run_dir = tmp_path / "run"
    runner = start_runner(hosts, run_dir, "load.duration=40s")
    try:
        assert wait_for_k6(hosts, runner), "k6 never started"
        hosts.set_server_link(up=False)
        cut_at = time.monotonic()
        code = finished(runner, run_dir)
        took_s = time.monotonic() - cut_at
    finally:
        hosts.set_server_link(up=True)
        runner.kill()
        runner.wait()
    output = (run_dir.parent / f"{run_dir.name}.out").read_text()
    assert code == 1, output
    assert took_s < LOST_WITHIN_S, (took_s, output)
    assert "Traceback" not in output, output
    record = load_run(run_dir)
    [failure] = record.failures
    assert failure.target == "api" and "server_ns" in failure.message, failure
    assert (run_dir / "report.md").is_file()
    deadline = time.monotonic() + LEFT_GONE_WITHIN_S
    while (left := run_leftovers(hosts)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == set(), describe([left])


def run_leftovers(hosts: NamespaceHosts) -> set[int]:
    """The run's processes in the server namespace (agent, server): not sshd's own."""
    found = set()
    for pid in hosts.leftovers(hosts.server_ns):
        try:
            if psutil.Process(pid).name() != "sshd":
                found.add(pid)
        except psutil.Error:
            continue
    return found
