"""Kinds of host (runner.records.host_kind) on synthetic runs, no load: the matrix report names a highest
job only among jobs on one kind of host unless the experiment allows ranking across kinds, and
runner.compare refuses runs from different kinds of host unless `--allow-difference host`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from runner.config.compose import experiment_from_config
from runner.errors import UserError
from runner.records.host_kind import HostKind, group_kinds, kind_of
from runner.records.results import Machine, RunRecord
from runner.records.store import RUN_FILE
from runner.report.matrix import write_matrix_report
from runner.run import multirun
from tests.compare.test_compare import call_compare, steps, store
from tests.conftest import compose_config
from tests.factories import record, step, write_synthetic

XEON: dict[str, Any] = {"cpu_model": "Intel Xeon E5", "logical_cores": 2, "physical_cores": 1}
EPYC: dict[str, Any] = {"cpu_model": "AMD EPYC 7763", "logical_cores": 64, "physical_cores": 32}


def machine(name: str, memory_gib: float = 7.8, cpu: dict[str, Any] = XEON) -> Machine:
    return Machine(hostname=name, memory_gib=memory_gib, os="Linux", **cpu)


def on_host(rec: RunRecord, host: Machine) -> RunRecord:
    provenance = rec.provenance.model_copy(update={"machine": host})
    return rec.model_copy(update={"provenance": provenance})


def matrix_of(sweep: Path, hosts: list[Machine], report: dict[str, Any] | None = None) -> str:
    """Jobs 0, 1, ... on the given hosts; job N is (N + 1) x faster. Returns matrix.md."""
    for job, host in enumerate(hosts):
        rps = 1000.0 * (job + 1)
        rec = record([step("api", lv, rps + lv) for lv in (10, 20)], report=report)
        rec.provenance.overrides = [f"targets.api.workers={job + 1}"]
        write_synthetic(sweep / str(job), on_host(rec, host))
    write_matrix_report(sweep)
    return (sweep / "matrix.md").read_text()


def test_kind_is_cpu_cores_and_memory_not_the_hostname() -> None:
    kinds = [
        kind_of(machine("node1")),
        kind_of(machine("node2", memory_gib=7.7)),  # reserved memory differs a little
        kind_of(machine("node3", memory_gib=15.6)),
        kind_of(machine("node4", cpu=EPYC)),
        kind_of(None),
    ]
    assert group_kinds(kinds) == [0, 0, 1, 2, 3]
    assert kinds[3].describe() == "AMD EPYC 7763, 64 logical / 32 physical cores, 7.8 GiB"
    assert kind_of(None) == HostKind("unknown", None, None, None)


def test_jobs_on_one_kind_of_host_get_a_highest_job(tmp_path: Path) -> None:
    report = matrix_of(tmp_path, [machine("node1"), machine("node2")])
    assert "Every job ran on one kind of host: Intel Xeon E5, 2 logical" in report
    assert "| A | Intel Xeon E5, 2 logical / 1 physical cores, 7.8 GiB | node1, node2 |" in report
    assert "[host" not in report
    # Named by the Summary's winner rule: one repetition each, so provisional.
    assert "Highest: targets.api.workers=2, +98.0% successful RPS (provisional: 1 run)." in report
    assert "- `0`: targets.api.workers=1, on node1" in report
    assert "Jobs are compared only on the same kind of host" in report  # the rule, stated
    with (tmp_path / "matrix.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {(r["job"], r["host"], r["host_kind"]) for r in rows} == {
        ("0", "node1", "A"),
        ("1", "node2", "A"),
    }


def test_jobs_on_different_kinds_are_marked_and_not_ranked_across(tmp_path: Path) -> None:
    report = matrix_of(tmp_path, [machine("node1"), machine("big", cpu=EPYC), machine("node2")])
    assert "The jobs ran on 2 kinds of host, marked [host A], [host B]" in report
    assert "| B | AMD EPYC 7763, 64 logical / 32 physical cores, 7.8 GiB | big |" in report
    # Every comparison across jobs is marked with the job's kind of host.
    assert "targets.api.workers=2 [host B] RPS" in report
    assert "targets.api.workers=3 [host A] RPS" in report
    assert (
        "by kind of host: on host A: targets.api.workers=3: 3,020 RPS, targets.api.workers=1: "
        "1,020 RPS (highest: targets.api.workers=3, +196.1% successful RPS (provisional: 1 run)); "
        "on host B: targets.api.workers=2: 2,020 RPS."
    ) in report
    assert "No highest job across hosts A, B: different kinds of host." in report
    assert "Highest:" not in report
    # The rule beside the table, with the setting that would change it.
    assert "Across kinds no highest job is named" in report
    assert "report.compare_across_hosts=true" in report
    html = (tmp_path / "matrix.html").read_text()
    assert 'id="hosts"' in html and "No highest job across hosts A, B" in html


def test_an_experiment_may_allow_ranking_across_kinds(tmp_path: Path) -> None:
    hosts = [machine("node1"), machine("big", cpu=EPYC)]
    report = matrix_of(tmp_path, hosts, report={"compare_across_hosts": True})
    assert (
        "Highest: targets.api.workers=2 [host B], +98.0% successful RPS (provisional: 1 run), "
        "ranked across different kinds"
    ) in report
    assert "report.compare_across_hosts is true" in report
    assert "No highest job" not in report


def test_compare_across_hosts_is_validated_and_defaults_to_false() -> None:
    default = experiment_from_config(compose_config("quickstart"))
    assert default.report.compare_across_hosts is False
    allowed = compose_config("quickstart", "report.compare_across_hosts=true")
    assert experiment_from_config(allowed).report.compare_across_hosts is True
    with pytest.raises(UserError, match="compare_across_hosts"):
        experiment_from_config(compose_config("quickstart", "report.compare_across_hosts=often"))


def two_runs(tmp_path: Path, baseline: Machine, candidate: Machine) -> tuple[Path, Path]:
    rec = record(steps())
    return (
        store(tmp_path / "a", on_host(rec, baseline)),
        store(tmp_path / "b", on_host(rec, candidate)),
    )


def test_compare_refuses_runs_from_different_kinds_of_host(tmp_path: Path) -> None:
    baseline, candidate = two_runs(tmp_path, machine("node1"), machine("big", cpu=EPYC))
    refused = call_compare(baseline, candidate)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert (
        "the design differs: host: baseline 'Intel Xeon E5, 2 logical / 1 physical cores, "
        "7.8 GiB', candidate 'AMD EPYC 7763, 64 logical / 32 physical cores, 7.8 GiB'"
    ) in refused.stderr
    assert "--allow-difference KEY" in refused.stderr
    allowed = call_compare(baseline, candidate, "--allow-difference", "host")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Allowed difference: host: baseline 'Intel Xeon E5" in allowed.stdout


def test_compare_accepts_another_host_of_the_same_kind(tmp_path: Path) -> None:
    baseline, candidate = two_runs(tmp_path, machine("node1"), machine("node2", memory_gib=7.7))
    result = call_compare(baseline, candidate)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((candidate / RUN_FILE).read_text())["provenance"]["machine"]["hostname"] == (
        "node2"
    )


def test_statuses_of_jobs_run_elsewhere_reach_the_launcher(tmp_path: Path) -> None:
    multirun.store_status(tmp_path, 0, 0)
    multirun.store_status(tmp_path, 1, 2)
    assert sorted(multirun.collect_statuses(tmp_path)) == [0, 2]
    assert sorted(multirun.collected_statuses()) == [0, 2]
    multirun.clear_statuses(tmp_path)
    assert multirun.collect_statuses(tmp_path) == []
