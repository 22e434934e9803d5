"""k6 over several hosts, without a network: the list in the experiment and its refusals, the
hosts' k6 trees summed on one clock, a host's per-core counters brought home. The real thing (three network namespaces) is
tests/remote/test_remote_hosts.py::test_a_step_split_over_two_k6_hosts."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from runner.config.experiment import Sampler, k6_hosts, used_hosts
from runner.errors import UserError
from runner.measure.cpu_accounting import CounterReading
from runner.measure.judging import remote_server_sets
from runner.measure.usage import Sample
from runner.remote.hosts import check_pinning_there
from runner.remote.k6_split import carried_total
from runner.remote.session import AgentSession
from tests.remote.test_remote import BENCH, experiment

GENERATORS = {
    "bench": BENCH,
    "gen1": {"ssh": "root@10.77.0.1"},
    "gen2": {"ssh": "root@10.78.0.3"},
}


def test_k6_on_a_list_of_hosts_in_their_order() -> None:
    made = experiment({"host": "bench"}, {"k6_host": ["gen2", "gen1"]}, hosts=GENERATORS)
    assert [host.name for host in k6_hosts(made)] == ["gen2", "gen1"]
    assert [host.name for host in used_hosts(made)] == ["bench", "gen2", "gen1"]
    listed = {"k6_host": ["gen1", {"ssh": "root@10.0.0.9"}]}
    in_place = experiment({"host": "bench"}, listed, hosts=GENERATORS)
    assert [host.name for host in k6_hosts(in_place)] == ["gen1", "root@10.0.0.9"]


@pytest.mark.parametrize(
    ("load", "said"),
    [
        ({"k6_host": ["gen1", "gen1"]}, "lists gen1 more than once"),
        ({"k6_host": ["gen1", "gen2"], "k6_instances": 2}, "one instance per host"),
        ({"k6_host": ["gen1", "nowhere"]}, "names the host 'nowhere'"),
        ({"k6_host": []}, "at least one host"),
        ({"k6_host": ["gen1", {"ssh": "-oProxyCommand=x"}]}, "not an ssh destination"),
    ],
)
def test_a_list_of_k6_hosts_refused(load: dict[str, object], said: str) -> None:
    with pytest.raises(UserError, match=said):
        experiment({"host": "bench"}, load, hosts=GENERATORS)


def sample(at: float, cpu: float, seconds: float) -> Sample:
    return Sample(at=at, cpu_percent=cpu, rss_mib=10.0, processes=1, cpu_seconds=seconds)


def test_the_hosts_k6_trees_summed_on_one_clock() -> None:
    """Ticks of two hosts never line up: each host's latest reading counts at every tick."""
    first = [sample(0.0, 50.0, 1.0), sample(1.0, 60.0, 1.6)]
    second = [sample(0.5, 80.0, 2.0), sample(1.5, 90.0, 2.9)]
    total = carried_total([first, second])
    assert [(s.at, s.cpu_percent, s.cpu_seconds, s.rss_mib) for s in total] == [
        (0.0, 50.0, 1.0, 10.0),  # the second host has no reading yet
        (0.5, 130.0, 3.0, 20.0),
        (1.0, 140.0, 3.6, 20.0),
        (1.5, 150.0, 4.5, 20.0),
    ]
    assert carried_total([[], []]) == []


def test_a_hosts_per_core_counters_come_home_on_this_clock(tmp_path: Path) -> None:
    """The agent (on a pipe, no ssh) reads /proc/stat in its sampler's ticks when asked; the
    session moves each reading to this machine's clock, with the agent's own CPU time."""
    session = AgentSession("here", [sys.executable, "-m", "runner.remote.agent"], tmp_path / "a")
    try:
        session.greet()
        counters: list[CounterReading] = []
        before = time.time()
        with session.sampling(None, Sampler(interval=0.05, memory_interval=0.5), counters):
            time.sleep(0.3)
        assert len(counters) >= 3
        assert all(before - 1 <= c.at <= time.time() for c in counters)
        assert counters[-1].snapshot().cores and counters[-1].runner_cpu_s > 0
    finally:
        session.close()


def test_pinned_cores_are_checked_on_each_host() -> None:
    """What runs on a host is pinned there: its cores must be that host's (hello's `cpus`)."""
    made = experiment({"host": "bench"}, {"k6_host": ["gen1", "gen2"]}, hosts=GENERATORS)
    bench, gen1, _gen2 = used_hosts(made)
    check_pinning_there(made, bench, {"cpus": [0, 1]})  # the server's core 0 is there
    check_pinning_there(made, gen1, {"cpus": [0, 1]})  # k6's core 1 too
    with pytest.raises(UserError, match=r"'pinning.client_cpus' names CPU core\(s\) \[1\] that "):
        check_pinning_there(made, gen1, {"cpus": [0]})
    check_pinning_there(made, bench, {"cpus": [0]})  # k6 does not run on bench
    check_pinning_there(made, gen1, {})  # an older agent's hello: nothing to check


def test_a_hosts_clock_offset_is_measured_again_when_old(tmp_path: Path) -> None:
    session = AgentSession("here", [sys.executable, "-m", "runner.remote.agent"], tmp_path / "a")
    try:
        session.greet()
        first = session.offset
        session.refresh_clock(max_age_s=3600)  # fresh: kept
        assert session.offset is first
        session.refresh_clock(max_age_s=0)  # old: measured again, over as many round trips
        assert session.offset is not first and session.offset.tries == first.tries
    finally:
        session.close()


def test_a_targets_packages_are_probed_by_its_hosts_agent(tmp_path: Path) -> None:
    session = AgentSession("here", [sys.executable, "-m", "runner.remote.agent"], tmp_path / "a")
    try:
        session.greet()
        spec = {"app": "targets.fastapi_app:app", "server": "uvicorn"}
        reply = session.call("packages", targets={"api": spec})
        assert {"fastapi", "uvicorn"} <= set(reply["packages"]["api"])
    finally:
        session.close()


def test_a_remote_servers_cores_are_judged_when_pinning_sets_them_apart() -> None:
    pinned = experiment({"host": "bench"}, hosts=GENERATORS)
    [server] = remote_server_sets(pinned)
    assert (server.role, server.cores, server.trees, server.with_runner) == (
        "server",
        frozenset(pinned.pinning.server_cpus),
        ("server",),
        True,  # the host's agent, in the runner's place
    )
    assert (
        remote_server_sets(
            experiment({"host": "bench"}, hosts=GENERATORS, pinning={"enabled": False})
        )
        == []
    )
