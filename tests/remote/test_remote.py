"""The server and the load on other hosts, without a network: the host settings and their
errors, the clock offset's arithmetic, the protocol, and the agent on pipes (no ssh, no server).

The real thing, over ssh between two network namespaces, is tests/remote/test_remote_hosts.py.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from runner.config.experiment import (
    Experiment,
    Host,
    k6_hosts,
    server_host,
    used_hosts,
    validate_experiment,
)
from runner.errors import UserError
from runner.measure.usage import Sample
from runner.remote.clock import ClockReading, best_offset, measure_offset
from runner.remote.describe import hosts_text
from runner.remote.protocol import (
    PROTOCOL,
    ProtocolError,
    decode,
    encode,
    sample_from,
    sample_message,
)
from runner.remote.record import HostClock, RemoteHost, RunHosts
from runner.remote.script import without_runner_options
from runner.remote.session import AgentSession, RemoteError, agent_command
from runner.run import safety

BASE: dict[str, Any] = {
    "name": "t",
    "targets": {"api": {"app": "targets.fastapi_app:app", "server": "uvicorn"}},
    "sweep": {"concurrency": {"levels": [1]}},
    "load": {"duration": "1s"},
    "scenario": {"name": "json", "requests": [{"path": "/json"}]},
}
BENCH = {"ssh": "bench@10.77.0.2", "python": "/opt/venv/bin/python"}


def experiment(
    target: dict[str, Any] | None = None, load: dict[str, Any] | None = None, **top: Any
) -> Experiment:
    data = copy.deepcopy(BASE)
    data["targets"]["api"].update(target or {})
    data["load"].update(load or {})
    data.update(top)
    return validate_experiment(data, "test")


# --- settings -----------------------------------------------------------------------------------


def test_a_named_host_and_one_given_in_place_resolve() -> None:
    named = experiment({"host": "bench"}, hosts={"bench": BENCH})
    assert server_host(named, "api") == server_host(named, "api")
    found = server_host(named, "api")
    assert found is not None and found.name == "bench"
    assert found.host.listen_address == "10.77.0.2"
    in_place = experiment({"host": {**BENCH, "address": "192.0.2.9"}})
    found = server_host(in_place, "api")
    assert found is not None and found.name == "bench@10.77.0.2"
    assert found.host.listen_address == "192.0.2.9"
    assert k6_hosts(in_place) == []


def test_k6_on_a_host_is_a_list_of_one_and_hosts_are_used_once() -> None:
    both = experiment({"host": "bench"}, {"k6_host": "bench"}, hosts={"bench": BENCH})
    assert [h.name for h in k6_hosts(both)] == ["bench"]
    assert [h.name for h in used_hosts(both)] == ["bench"]


@pytest.mark.parametrize(
    ("target", "load", "top", "message"),
    [
        (
            {"host": "bench2"},
            {},
            {"hosts": {"bench": BENCH}},
            "'targets.api.host' names the host 'bench2', which 'hosts' does not define "
            "(defined: bench)",
        ),
        (
            {},
            {"k6_host": "bench"},
            {"hosts": {"bench": BENCH}},
            "'load.k6_host' runs k6 on another host, but target(s) api would run on this "
            "machine's loopback",
        ),
        ({"host": {"ssh": "-oProxyCommand=x"}}, {}, {}, "is not an ssh destination"),
        (
            {"host": {"ssh": "bench", "address": "http://x"}},
            {},
            {},
            "is not a host name or IP address",
        ),
        (
            {"host": {"ssh": "bench", "port": 22}},
            {},
            {},
            "'targets.api.host': not a host: 'port' is not a known key",
        ),
    ],
    ids=[
        "unknown-name",
        "k6-elsewhere-local-server",
        "option-as-destination",
        "url-address",
        "typo",
    ],
)
def test_bad_host_settings_are_one_clear_error(
    target: dict[str, Any], load: dict[str, Any], top: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as caught:
        experiment(target, load, **top)
    assert message in str(caught.value)
    assert str(caught.value).startswith("Invalid experiment (test): ")


def test_a_url_target_has_no_host() -> None:
    with pytest.raises(UserError, match="'host' cannot apply to it"):
        experiment(None, None, targets={"ext": {"url": "http://127.0.0.1:9", "host": BENCH}})


def test_the_capacity_search_stays_on_this_machine() -> None:
    capacity = {"model": "capacity", "capacity": {"latency_ms": 50}}
    with pytest.raises(UserError, match="the capacity load model runs on this machine only"):
        experiment({"host": BENCH}, capacity, sweep={})


def test_a_server_on_another_host_needs_allow_remote() -> None:
    elsewhere = experiment({"host": BENCH})
    with pytest.raises(UserError) as caught:
        safety.load_destinations(elsewhere)
    assert "'targets.api.host' runs the server on bench@10.77.0.2, at 10.77.0.2" in str(
        caught.value
    )
    assert "allow_remote: true" in str(caught.value)
    allowed = experiment({"host": BENCH}, allow_remote=True)
    [found] = safety.load_destinations(allowed)
    assert found["started_by_runner"] and not found["loopback"]
    assert found["addresses"] == ["10.77.0.2"]
    # A host reached over ssh whose server listens on loopback sends no load elsewhere.
    loopback = experiment({"host": {"ssh": "localhost", "address": "127.0.0.1"}})
    assert safety.load_destinations(loopback)[0]["loopback"]


def test_ssh_never_prompts_and_the_users_options_come_before_the_defaults() -> None:
    host = Host(ssh="me@bench", python="/opt/my venv/bin/python", workdir="/srv/sweep bench")
    host = host.model_copy(update={"ssh_options": ["-o", "ServerAliveInterval=1", "-p", "2222"]})
    command = agent_command(host)
    assert command[:4] == ["ssh", "-T", "-o", "BatchMode=yes"]
    assert command.index("ServerAliveInterval=1") < command.index("ServerAliveInterval=5")
    assert command[-3:-1] == ["--", "me@bench"]
    assert command[-1] == (
        "cd '/srv/sweep bench' && exec '/opt/my venv/bin/python' -m runner.remote.agent"
    )


# --- the clock ----------------------------------------------------------------------------------


def test_the_offset_is_the_remote_time_minus_the_midpoint() -> None:
    reading = ClockReading(sent_at=100.000, remote=105.0015, received_at=100.002)
    assert reading.offset_s == pytest.approx(5.0005)
    assert reading.round_trip_s == pytest.approx(0.002)


def test_the_reading_with_the_shortest_round_trip_is_kept() -> None:
    readings = [
        ClockReading(0.0, 10.009, 0.010),  # slow, and the delay was all on one leg
        ClockReading(1.0, 11.0006, 1.001),
        ClockReading(2.0, 12.004, 2.004),
    ]
    best = best_offset(readings)
    assert best.offset_s == pytest.approx(10.0001)
    assert best.round_trip_s == pytest.approx(0.001)
    assert best.tries == 3
    assert best.to_local(21.0) == pytest.approx(10.9999)
    with pytest.raises(ValueError):
        best_offset([])


def test_measuring_asks_a_few_times_and_states_the_result() -> None:
    ticks = iter([0.0, 0.0004, 1.0, 1.0002, 2.0, 2.0003, 3.0, 3.0009, 4.0, 4.0005])
    remote = iter([0.0002 + 0.4e-3, 1.0001 + 0.4e-3, 2.00015, 3.0, 4.0])
    offset = measure_offset(lambda: next(remote), now=lambda: next(ticks))
    assert offset.tries == 5
    assert offset.round_trip_s == pytest.approx(0.0002)
    assert offset.offset_s == pytest.approx(0.0004)
    assert offset.describe("bench") == (
        "clock offset of bench: +0.4 ms, measured over 5 round trips of at best 0.2 ms"
    )


def test_the_report_states_where_things_ran_and_each_offset() -> None:
    assert hosts_text(RunHosts(servers={"api": None})) is None
    hosts = RunHosts(
        servers={"api": "bench"},
        k6=[None],
        remote=[
            RemoteHost(
                name="bench",
                ssh="me@bench",
                address="10.0.0.2",
                roles=["server of api"],
                python="3.11.2",
                cores=2,
                clock=HostClock(offset_ms=0.4, round_trip_ms=0.2, tries=5),
            )
        ],
    )
    assert hosts_text(hosts) == (
        "server of api on bench (10.0.0.2, ssh me@bench, Python 3.11.2, 2 cores); "
        "k6 on this machine; "
        "clock offset of bench: +0.4 ms, measured over 5 round trips of at best 0.2 ms"
    )


# --- the protocol -------------------------------------------------------------------------------


def test_messages_are_json_lines_and_samples_come_home_on_this_clock() -> None:
    sample = Sample(at=1000.5, cpu_percent=50.0, rss_mib=20.0, processes=3, cpu_seconds=1.25)
    line = encode(sample_message("server", sample))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    tree, back = sample_from(decode(line), offset_s=0.5)
    assert tree == "server"
    assert back == Sample(at=1000.0, cpu_percent=50.0, rss_mib=20.0, processes=3, cpu_seconds=1.25)
    for bad in (b"[1, 2]\n", b"hello\n"):
        with pytest.raises(ProtocolError):
            decode(bad)


def test_the_archive_leaves_the_runners_options_to_each_step() -> None:
    """k6 bakes its default options into an archive, and they would win over each step's."""
    metadata = {"type": "js", "options": {"summaryTrendStats": ["avg", "p(95)"], "vus": None}}
    files = {"metadata.json": json.dumps(metadata).encode(), "data": b"export default ..."}
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    with tarfile.open(fileobj=io.BytesIO(without_runner_options(packed.getvalue()))) as cleared:
        metadata_file, data_file = cleared.extractfile("metadata.json"), cleared.extractfile("data")
        assert metadata_file is not None and data_file is not None
        options = json.loads(metadata_file.read())["options"]
        assert data_file.read() == files["data"]
    runner_owned = {"summaryTrendStats": None, "scenarios": None, "thresholds": None}
    assert options == {**runner_owned, "vus": None}


# --- the agent, on pipes ------------------------------------------------------------------------


def agent_on_pipes() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner.remote.agent"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ask(agent: subprocess.Popen[bytes], message: dict[str, Any]) -> dict[str, Any]:
    assert agent.stdin is not None and agent.stdout is not None
    agent.stdin.write(encode(message))
    agent.stdin.flush()
    while True:
        reply = decode(agent.stdout.readline())
        if reply.get("id") == message.get("id"):
            return reply


def test_the_agent_answers_and_refuses_and_ends_with_its_stdin() -> None:
    agent = agent_on_pipes()
    try:
        hello = ask(agent, {"id": 1, "op": "hello", "heartbeat_s": 30})
        assert hello["ok"] and hello["protocol"] == PROTOCOL and hello["pid"] == agent.pid
        before = time.time()
        clock = ask(agent, {"id": 2, "op": "clock"})
        assert before <= clock["time"] <= time.time()  # same machine, same clock
        unknown = ask(agent, {"id": 3, "op": "dance"})
        assert unknown == {"id": 3, "ok": False, "error": "unknown request 'dance'"}
        stop = ask(agent, {"id": 4, "op": "stop", "target": "api"})
        assert not stop["ok"] and "no server of target 'api' runs here" in stop["error"]
        no_script = ask(agent, {"id": 5, "op": "k6", "options": {}, "env": {}, "timeout_s": 1})
        assert not no_script["ok"] and "no k6 script was sent" in no_script["error"]
        sampling = {"op": "sample_start", "server": None, "interval_s": 0.05}
        assert ask(agent, {"id": 6, **sampling, "memory_interval_s": 0.5})["ok"]
        assert ask(agent, {"id": 7, "op": "sample_stop"})["ok"]
        assert agent.stdin is not None
        agent.stdin.close()
        assert agent.wait(timeout=10) == 0
    finally:
        agent.kill()
        agent.wait()


def test_the_agent_ends_when_the_runner_falls_silent() -> None:
    agent = agent_on_pipes()
    try:
        assert ask(agent, {"id": 1, "op": "hello", "heartbeat_s": 0.5})["ok"]
        started = time.monotonic()
        assert agent.wait(timeout=10) == 0  # stdin still open: only the heartbeat ended it
        assert time.monotonic() - started < 5
    finally:
        agent.kill()
        agent.wait()


def test_a_session_greets_measures_its_clock_and_closes(tmp_path: Path) -> None:
    """An AgentSession over a plain pipe (the agent started here instead of through ssh)."""
    command = [sys.executable, "-m", "runner.remote.agent"]
    session = AgentSession("here", command, tmp_path / "agent.log")
    try:
        session.greet()
        assert session.facts["protocol"] == PROTOCOL
        assert session.offset.tries == 5
        # Same clock: the offset is within its own bound.
        assert abs(session.offset.offset_s) <= session.offset.round_trip_s / 2 + 1e-3
        with pytest.raises(RemoteError, match="here refused 'log_tail': ValueError: no server"):
            session.call("log_tail", target="api")
    finally:
        session.close()
    assert not session.open
    with pytest.raises(RemoteError, match="the session with here ended"):
        session.call("clock")
