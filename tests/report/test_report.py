"""Reports agree with the result store, escape what they show, re-render, and compare runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.analysis import formatting as fmt
from runner.measure.validity import withheld_cell
from runner.records.store import STEPS_FILE
from tests.conftest import run_cli
from tests.factories import record, step, write_synthetic
from tests.htmltables import external_refs, tables


def summary_cells(run_dir: Path) -> tuple[list[str], list[list[str]]]:
    rows = tables((run_dir / "report.html").read_text())["summary"]
    return rows[0], rows[1:]


@pytest.mark.slow
def test_html_summary_cells_equal_stored_values(quickstart_run: Path) -> None:
    results = json.loads((quickstart_run / "results.json").read_text())
    header, rows = summary_cells(quickstart_run)
    assert [row[0] for row in rows] == ["10", "20", "30"]
    by_key = {(s["target"], s["level"]): s for s in results["steps"]}
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        for target in results["experiment"]["targets"]:
            stored = by_key[(target, int(row[0]))]
            label = stored["label"]  # derived from what ran (runner.config.experiment.labels)
            # Exactly the stored value in the report's number format (no float tolerance).
            assert cell[f"{label} RPS"] == fmt.rps(stored["rps"])
            # Too few requests for a p99: the cell says why instead (runner.measure.validity).
            withheld = withheld_cell(0.99, stored["requests"])
            p99 = withheld if withheld is not None else fmt.ms(stored["latency_ms"]["p99"])
            assert cell[f"{label} p99 ms"] == p99


@pytest.mark.slow
def test_html_step_tables_equal_stored_values(quickstart_run: Path) -> None:
    results = json.loads((quickstart_run / "results.json").read_text())
    found = tables((quickstart_run / "report.html").read_text())
    for target in results["experiment"]["targets"]:
        header, *rows = found[f"steps:{target}"]
        stored = sorted(
            (s for s in results["steps"] if s["target"] == target), key=lambda s: s["level"]
        )
        for row, s in zip(rows, stored, strict=True):
            cell = dict(zip(header, row, strict=True))
            assert cell["Requests"] == fmt.count(s["requests"])
            assert int(cell["Requests"].replace(",", "")) == s["requests"]
            assert cell["p95 ms"] == fmt.ms(s["latency_ms"]["p95"])
            assert cell["Mem max MiB"] == fmt.mib(s["memory_mib"]["max"])


@pytest.mark.slow
def test_report_is_self_contained(quickstart_run: Path) -> None:
    page = (quickstart_run / "report.html").read_text()
    # Charts are inline SVG drawn by the writer: no script to load or run, nothing to fetch.
    # Six charts against the level, and a latency spectrum per target.
    assert page.count('<svg class="chart"') == 6 + 3
    assert "<script" not in page
    assert external_refs(page) == []
    assert len(page.encode()) < 100_000  # it inlined all of plotly.js before: 4.9 MB


def test_target_names_and_messages_are_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>'
    rec = record([step("a", 10, 1000, label=evil), step("b", 10, 900)], labels={"a": evil})
    write_synthetic(tmp_path, rec)
    page = (tmp_path / "report.html").read_text()
    assert evil not in page
    assert "&lt;script&gt;alert" in page


def test_rerender_from_stored_results_alone(tmp_path: Path) -> None:
    rec = record([step(t, lv, 1000 + lv) for t in ("a", "b") for lv in (10, 20)])
    write_synthetic(tmp_path, rec)
    before = (tmp_path / "report.md").read_text()
    for name in ("report.md", "report.html", "results.csv", "results_aggregated.csv"):
        (tmp_path / name).unlink()
    result = run_cli(str(tmp_path), module="runner.report")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report.md").read_text() == before
    assert (tmp_path / "report.html").is_file() and (tmp_path / "results_aggregated.csv").is_file()


def test_rerender_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = run_cli(str(tmp_path), module="runner.report")
    assert result.returncode == 2 and "not a sweepbench run directory" in result.stderr
    assert "Traceback" not in result.stderr


def run_compare(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(str(a), str(b), module="runner.compare")


@pytest.mark.slow
def test_compare_identical_single_runs_is_inconclusive_not_a_pass(quickstart_run: Path) -> None:
    result = run_compare(quickstart_run, quickstart_run)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Decision: inconclusive (exit status 3: inconclusive)" in result.stdout


@pytest.mark.slow
def test_compare_never_passes_an_injected_drop_in_single_runs(
    quickstart_run: Path, tmp_path: Path
) -> None:
    """One repetition a side cannot show a regression (tests/compare/test_compare.py shows one with
    three); the 30% drop is inconclusive, never a pass."""
    slower = tmp_path / "slower"
    shutil.copytree(quickstart_run, slower)
    lines = []
    for line in (slower / STEPS_FILE).read_text().splitlines():
        entry = json.loads(line)
        if entry["target"] == "fastapi" and entry["level"] == 20:
            entry["rps"] = round(entry["rps"] * 0.7, 2)
        lines.append(json.dumps(entry))
    (slower / STEPS_FILE).write_text("\n".join(lines) + "\n")
    result = run_compare(quickstart_run, slower)
    assert result.returncode == 3, result.stdout
    assert "-30.0% (medians)" in result.stdout
