"""The fault suite: real runs of `python -m runner` with real servers and real k6 (1 s steps)
that go wrong on purpose. Each case asserts the exit status, the message, that no server or k6
process the run started is left (by process id), and that every step it finished is stored.

Bad input (nothing may start) is in tests/config/test_cli_errors.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from runner.analysis import analyze
from runner.measure.server import running_server
from runner.records.results import LoadDestination
from runner.records.store import load_run
from runner.report.markdown import render
from tests.conftest import FAULTY, JSON_CHECK, TEST_EXPERIMENTS, load_kind, start_cli

# Every test here starts servers and k6 (or a database): see tests/conftest.py.
pytestmark = pytest.mark.slow

SECRET = "s3cret-pw"
DSN = f"postgresql://bench:{SECRET}@127.0.0.1:5432/bench"
# Bounds for the test driver's waits (liveness, not speed: a healthy run is far quicker).
RUN_TIMEOUT_S = 120
GONE_TIMEOUT_S = 15


@dataclass
class Seen:
    pid: int
    created: float
    kind: str  # "server" or "k6"

    def gone(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            if proc.create_time() != self.created:
                return True  # the pid now belongs to another process
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True


@dataclass
class WatchedRun:
    """`python -m runner` in the background; every server and k6 process below it is recorded."""

    run_dir: Path
    process: subprocess.Popen[str]
    stderr_path: Path
    seen: dict[int, Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(
        cls, run_dir: Path, experiment: str, *overrides: str, env: dict[str, str] | None = None
    ) -> WatchedRun:
        stderr_path = run_dir.parent / f"{run_dir.name}.stderr"
        args = ["--config-dir", str(TEST_EXPERIMENTS), f"+experiment={experiment}"]
        args += [f"hydra.run.dir={run_dir}", *overrides]
        with stderr_path.open("w") as stderr:
            process = start_cli(*args, env=env, stdout=stderr, stderr=subprocess.STDOUT)
        run = cls(run_dir, process, stderr_path)
        threading.Thread(target=run._watch, daemon=True).start()
        return run

    def _watch(self) -> None:
        while not self._stop.is_set() and self.process.poll() is None:
            self.scan()
            time.sleep(0.05)

    def scan(self) -> None:
        try:
            below = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return
        for proc in below:
            try:
                kind = load_kind(proc.cmdline())
                if kind and proc.pid not in self.seen:
                    with self._lock:
                        self.seen[proc.pid] = Seen(proc.pid, proc.create_time(), kind)
            except psutil.Error:
                continue

    def live(self, kind: str) -> list[psutil.Process]:
        """Processes of `kind` below the runner now."""
        self.scan()
        with self._lock:
            candidates = [s for s in self.seen.values() if s.kind == kind and not s.gone()]
        return [psutil.Process(s.pid) for s in candidates]

    def wait(self, timeout: float = RUN_TIMEOUT_S) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._stop.set()

    @property
    def output(self) -> str:
        return self.stderr_path.read_text()

    def lines(self) -> list[dict[str, Any]]:
        path = self.run_dir / "results.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def kill_leftovers(self) -> None:
        """Teardown after a failed assertion: no test leaves an orphan behind."""
        for seen in self.left_behind():
            with contextlib.suppress(OSError):
                os.kill(seen.pid, signal.SIGKILL)

    def left_behind(self, within_s: float = 0) -> list[Seen]:
        """Seen server and k6 processes still alive (waiting up to `within_s` for them)."""
        deadline = time.monotonic() + within_s
        while True:
            alive = [s for s in self.seen.values() if not s.gone()]
            if not alive or time.monotonic() >= deadline:
                return alive
            time.sleep(0.1)


def wait_until(condition: Callable[[], object], what: str, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def finished_in_output(output: str) -> set[tuple[str, int, int]]:
    """(label, level, repetition) of each step the runner reported as measured."""
    pattern = re.compile(r"^\[\d+/\d+\] (.+) c=(\d+) rep (\d+): [\d,]+ RPS", re.MULTILINE)
    return {(m.group(1), int(m.group(2)), int(m.group(3))) for m in pattern.finditer(output)}


def stored_steps(lines: list[dict[str, Any]]) -> set[tuple[str, int, int]]:
    return {
        (line["label"], line["level"], line["repetition"])
        for line in lines
        if line["kind"] == "step"
    }


def assert_every_finished_step_stored(run: WatchedRun) -> None:
    """Each step the runner reported as measured is in results.jsonl (a signal may land between
    storing a step and reporting it, so the store may hold one more), and in results.json."""
    printed = finished_in_output(run.output)
    stored = stored_steps(run.lines())
    # The runner is signalled once a step is stored: that one may not be reported yet.
    assert stored, run.output
    assert printed <= stored
    assert len(stored - printed) <= 1
    results_file = run.run_dir / "results.json"
    if results_file.is_file():
        results = json.loads(results_file.read_text())
        assert {(s["label"], s["level"], s["repetition"]) for s in results["steps"]} == stored


# --- start-up faults, a busy port, an already-running URL target, secrets --------------------


@dataclass
class StartupRun:
    run: WatchedRun
    status: int
    external_pid: int
    external_alive_after: bool


@pytest.fixture(scope="module")
def startup_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartupRun]:
    """Five targets: one fine, one crashing at start-up, one never ready, one on a busy port,
    and one already running (started here, not by the runner). The good one carries a DSN
    with a password in its environment and prints it to its log."""
    base = tmp_path_factory.mktemp("startup")
    with (
        socket.socket() as holder,
        running_server("ext", FAULTY, base / "ext-logs", None, [JSON_CHECK], 30, 5) as ext,
    ):
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy_port = holder.getsockname()[1]
        run = WatchedRun.start(
            base / "run",
            "faults_startup",
            f"targets.busy.port={busy_port}",
            f"targets.external.url={ext.base_url}",
            f"+targets.good.env.DATABASE_URL={DSN}",
            f"+targets.good.env.FAULTY_LOG_LINE=connecting to {DSN}",
        )
        status = run.wait()
        yield StartupRun(run, status, ext.pid, ext.alive())
        run.kill_leftovers()


def failures_by_target(run: WatchedRun) -> dict[str, dict[str, Any]]:
    return {line["target"]: line for line in run.lines() if line["kind"] == "failure"}


def test_startup_failures_are_recorded_and_the_others_run(startup_run: StartupRun) -> None:
    run = startup_run.run
    assert startup_run.status == 1, run.output
    failures = failures_by_target(run)
    assert set(failures) == {"crash", "hang", "busy"}
    assert all(f["stage"] == "start" for f in failures.values())
    assert "exited during start-up (exit code" in failures["crash"]["message"]
    assert "no_such_app" in failures["crash"]["log_tail"]  # the server's own words
    assert "did not answer" in failures["hang"]["message"]
    assert "within 3 s" in failures["hang"]["message"]
    assert stored_steps(run.lines()) == {("Good", 2, 1), ("Already running", 2, 1)}
    assert_every_finished_step_stored(run)


def test_startup_failure_message_shows_the_server_log(startup_run: StartupRun) -> None:
    output = startup_run.run.output
    assert "FAILED Crashes at start-up: Target 'crash' exited during start-up" in output
    assert "Last lines of the server log:" in output
    assert "no_such_app" in output
    assert "Traceback" not in output.split("Last lines of the server log:")[0]


def test_busy_port_is_named_before_the_server_starts(startup_run: StartupRun) -> None:
    run = startup_run.run
    message = failures_by_target(run)["busy"]["message"]
    port = re.search(r"port (\d+) on 127\.0\.0\.1 is already in use", message)
    assert port, message
    assert f"held by pid {os.getpid()}" in message  # this test process holds it
    assert "targets.busy.port" in message
    assert not (run.run_dir / "logs" / "busy.log").exists()  # nothing was started for it


def test_report_lists_every_failure(startup_run: StartupRun) -> None:
    report = (startup_run.run.run_dir / "report.md").read_text()
    failures = report.split("## Failures", 1)[1]
    for label in ("Crashes at start-up", "Never ready", "Busy port"):
        assert f"**{label}**" in failures
    assert "no_such_app" in failures
    assert "Partial report" not in report


def test_url_target_is_measured_but_never_started_or_stopped(startup_run: StartupRun) -> None:
    run = startup_run.run
    assert startup_run.external_alive_after  # the runner left it running
    assert startup_run.external_pid not in run.seen  # and it was never the runner's child
    step = next(line for line in run.lines() if line["target"] == "external")
    assert step["requests"] > 0 and step["error_rate"] == 0
    assert step["cpu_percent"] is None and step["memory_mib"] is None  # not ours to sample
    report = (run.run_dir / "report.md").read_text()
    assert "not started by sweepbench" in report
    assert "Load destinations**: loopback only" in report
    csv_row = next(
        line
        for line in (run.run_dir / "results.csv").read_text().splitlines()
        if "external" in line
    )
    assert ",,,," in csv_row  # empty CPU and memory cells, not made-up zeros


def test_no_secret_reaches_any_file_or_the_console(startup_run: StartupRun) -> None:
    run = startup_run.run
    files = [p for p in run.run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    leaks = [p for p in files if SECRET in p.read_text(errors="replace")]
    assert leaks == []
    assert SECRET not in run.output
    # The password was there to leak: it is masked where it appeared.
    assert (
        "connecting to postgresql://bench:***@127.0.0.1:5432/bench"
        in (run.run_dir / "logs" / "good.log").read_text()
    )
    stored = json.loads((run.run_dir / "results.json").read_text())
    assert stored["experiment"]["targets"]["good"]["env"]["DATABASE_URL"] == (
        "postgresql://bench:***@127.0.0.1:5432/bench"
    )


def test_report_states_remote_load_when_it_was_allowed(startup_run: StartupRun) -> None:
    """The refusal itself is in test_cli_errors (no load ever leaves this machine in tests);
    here the stored run is given a remote destination to show how the report states it."""
    record = load_run(startup_run.run.run_dir)
    record.experiment = record.experiment.model_copy(update={"allow_remote": True})
    record.provenance.load_destinations.append(
        LoadDestination(
            target="external",
            url="http://192.0.2.10:8000",
            host="192.0.2.10",
            addresses=["192.0.2.10"],
            loopback=False,
            started_by_runner=False,
        )
    )
    report = render(record, analyze(record))
    assert "remote hosts, allowed by allow_remote: true" in report
    assert "192.0.2.10" in report


def test_startup_run_leaves_no_process(startup_run: StartupRun) -> None:
    run = startup_run.run
    assert {s.kind for s in run.seen.values()} == {"server", "k6"}
    assert run.left_behind() == []


# --- a server killed mid-step, k6 killed mid-step -------------------------------------------


# The run, its exit status, and the pids the test killed ("server", "k6").
MidstepRun = tuple[WatchedRun, int, dict[str, int]]


@pytest.fixture(scope="module")
def midstep_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MidstepRun]:
    """Kill the first target's server once its first step is stored (so during its second
    step), then kill k6 during the second target's first step."""
    run = WatchedRun.start(tmp_path_factory.mktemp("midstep") / "run", "faults_midstep")
    killed: dict[str, int] = {}
    try:
        wait_until(lambda: len(run.lines()) >= 1, "the first stored step")
        (server,) = run.live("server")
        server.kill()
        killed["server"] = server.pid
        wait_until(lambda: len(run.lines()) >= 2, "the victim's failure")
        wait_until(lambda: run.live("k6"), "k6 of the next target")
        time.sleep(0.5)  # well inside the 1 s step
        (k6,) = run.live("k6")
        k6.kill()
        killed["k6"] = k6.pid
    finally:
        status = run.wait()
    yield run, status, killed
    run.kill_leftovers()


def test_server_killed_mid_step_fails_its_step_and_skips_the_rest(midstep_run: MidstepRun) -> None:
    run, status, _killed = midstep_run
    assert status == 1, run.output
    victim = [line for line in run.lines() if line["target"] == "victim"]
    assert [line["kind"] for line in victim] == ["step", "failure"]
    failure = victim[1]
    assert failure["stage"] == "step" and failure["level"] == 4
    assert "exited during the step at concurrency 4 (killed by SIGKILL)" in failure["message"]
    assert "Its 1 later step(s) were skipped." in failure["message"]
    assert "skipped 2 step(s): Server killed is not running" in run.output


def test_k6_killed_mid_step_fails_that_step_and_the_run_goes_on(midstep_run: MidstepRun) -> None:
    run, _status, _killed = midstep_run
    k6_target = [line for line in run.lines() if line["target"] == "k6_victim"]
    assert [(line["kind"], line["level"]) for line in k6_target] == [
        ("failure", 2),
        ("step", 4),
        ("step", 6),
    ]
    assert k6_target[0]["message"] == "k6 failed (killed by SIGKILL)"
    report = (run.run_dir / "report.md").read_text()
    assert "**k6 killed** at 2 virtual users, repetition 1: k6 failed (killed by SIGKILL)" in report
    assert "**Server killed** at 4 virtual users, repetition 1" in report


def test_midstep_run_keeps_every_step_and_leaves_no_process(midstep_run: MidstepRun) -> None:
    run, _status, killed = midstep_run
    assert_every_finished_step_stored(run)
    assert killed["server"] in run.seen and killed["k6"] in run.seen
    assert run.left_behind() == []


def test_k6_that_refuses_its_options_fails_each_step_and_the_run_goes_on(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """k6 reads K6_* environment variables as options; an invalid one makes it exit at once."""
    run = WatchedRun.start(
        tmp_path / "run",
        "faults_midstep",
        "~targets.victim",
        "sweep.concurrency.levels=[2,4]",
        env={"K6_VUS": "not-a-number"},
    )
    status = run.wait()
    request.addfinalizer(run.kill_leftovers)
    assert status == 1, run.output
    lines = run.lines()
    assert [(line["kind"], line["level"]) for line in lines] == [
        ("failure", 2),
        ("failure", 4),
    ]
    for failure in lines:
        assert re.fullmatch(r"k6 failed \(exit code \d+\)", failure["message"])
        assert "K6_VUS" in failure["log_tail"]  # k6's own words
    assert "k6 failed (exit code" in (run.run_dir / "report.md").read_text()
    # (k6 exits too fast here to be seen reliably; the server is, and must be gone.)
    assert "server" in {s.kind for s in run.seen.values()}
    assert run.left_behind() == []


# --- signals to the runner ------------------------------------------------------------------


@dataclass
class SignalledRun:
    run: WatchedRun
    signum: int
    status: int


@pytest.fixture(
    scope="module",
    params=[signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
    ids=["SIGINT", "SIGTERM", "SIGKILL"],
)
def signalled_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SignalledRun]:
    """A gunicorn target with 2 workers; the runner is signalled once a step is stored."""
    signum = request.param
    run = WatchedRun.start(
        tmp_path_factory.mktemp(signal.Signals(signum).name) / "run", "faults_interrupt"
    )
    try:
        wait_until(lambda: len(run.lines()) >= 1, "the first stored step")
        run.scan()
        run.process.send_signal(signum)
    finally:
        status = run.wait()
    yield SignalledRun(run, signum, status)
    run.kill_leftovers()


def test_signal_exit_status_and_message(signalled_run: SignalledRun) -> None:
    run, signum = signalled_run.run, signalled_run.signum
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}
    assert signalled_run.status == expected[signum], run.output
    if signum != signal.SIGKILL:
        name = signal.Signals(signum).name
        assert f"{name} received: servers and k6 stopped; writing a partial report." in run.output
        assert "Run PARTIAL" in run.output
        assert "Traceback" not in run.output
        # k6 and the server were stopped on the way out, not by the runner's last safety net.
        assert "left running" not in run.output
        # How to continue: the same experiment and config directory, in this run's directory.
        (hint,) = [line for line in run.output.splitlines() if "To measure the remaining" in line]
        command = shlex.split(hint.split(": ", 1)[1])
        assert command[1:] == [
            "-m",
            "runner",
            "--config-dir",
            str(TEST_EXPERIMENTS),
            "+experiment=faults_interrupt",
            f"runner.resume={run.run_dir}",
        ]


def test_signal_keeps_every_finished_step(signalled_run: SignalledRun) -> None:
    run = signalled_run.run
    assert_every_finished_step_stored(run)
    assert 1 <= len(stored_steps(run.lines())) < 6  # stopped before the end
    if signalled_run.signum != signal.SIGKILL:
        results = json.loads((run.run_dir / "results.json").read_text())
        assert results["complete"] is False


def test_signal_writes_a_partial_report(signalled_run: SignalledRun) -> None:
    if signalled_run.signum == signal.SIGKILL:
        pytest.skip("nothing can run after SIGKILL; the stored steps are checked above")
    report = (signalled_run.run.run_dir / "report.md").read_text()
    assert "> **Partial report**" in report
    assert "## Detailed Results" in report


def test_signal_leaves_no_server_or_k6(signalled_run: SignalledRun) -> None:
    run = signalled_run.run
    kinds = {s.kind for s in run.seen.values()}
    assert "server" in kinds
    servers = [s for s in run.seen.values() if s.kind == "server"]
    assert len(servers) >= 3  # gunicorn master and its 2 workers
    # After SIGKILL the kernel's parent-death signal stops them; give it a moment.
    within = GONE_TIMEOUT_S if signalled_run.signum == signal.SIGKILL else 0
    assert run.left_behind(within) == []
