"""The quickstart through the command line, as a user runs it, with short steps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.analysis import formatting as fmt
from runner.measure.validity import withheld_cell
from tests.conftest import server_like_processes

# Every test here starts servers and k6 (or a database): see tests/conftest.py.
pytestmark = pytest.mark.slow

# A printed figure is off the stored one by at most half its last digit (plus the binary
# rounding error of the float): RPS print whole, ms one decimal, error rates two (in percent).
HALF_UNIT = 0.5 + 1e-9
HALF_TENTH = 0.05 + 1e-9
HALF_CENT = 0.005 + 1e-9


def printed(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("%"))


def summary_rows(report: str) -> tuple[list[str], list[list[str]]]:
    section = report.split("## Summary", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    return split[0], split[2:]


def test_every_planned_step_is_stored(quickstart_run: Path) -> None:
    results = json.loads((quickstart_run / "results.json").read_text())
    assert results["complete"] is True
    keys = {(s["target"], s["level"], s["repetition"]) for s in results["steps"]}
    expected = {(t, c, 1) for t in ("fastapi", "django_wsgi", "django_asgi") for c in (10, 20, 30)}
    assert keys == expected
    lines = (quickstart_run / "results.jsonl").read_text().splitlines()
    assert len(lines) == 9
    for step in results["steps"]:
        assert step["requests"] > 0 and step["error_rate"] == 0
        assert step["cpu_percent"]["avg"] > 0 and step["memory_mib"]["max"] > 0


def test_summary_cells_equal_stored_values(quickstart_run: Path) -> None:
    results = json.loads((quickstart_run / "results.json").read_text())
    report = (quickstart_run / "report.md").read_text()
    header, rows = summary_rows(report)
    assert [row[0] for row in rows] == ["10", "20", "30"]  # exactly one row per level
    labels = {s["target"]: s["label"] for s in results["steps"]}  # as stored, per step
    by_key = {(s["target"], s["level"]): s for s in results["steps"]}
    for row in rows:
        level = int(row[0])
        for target, label in labels.items():
            step = by_key[(target, level)]
            cell = dict(zip(header, row, strict=True))
            assert cell[f"{label} RPS"] == fmt.rps(step["rps"])
            assert printed(cell[f"{label} RPS"]) == pytest.approx(step["rps"], abs=HALF_UNIT)
            # Too few requests for a p99: the cell says why instead (runner.measure.validity).
            withheld = withheld_cell(0.99, step["requests"])
            if withheld is not None:
                assert cell[f"{label} p99 ms"] == withheld
            else:
                assert cell[f"{label} p99 ms"] == fmt.ms(step["latency_ms"]["p99"])
                assert printed(cell[f"{label} p99 ms"]) == pytest.approx(
                    step["latency_ms"]["p99"], abs=HALF_TENTH
                )
            assert printed(cell[f"{label} Err %"]) == pytest.approx(
                step["error_rate"] * 100, abs=HALF_CENT
            )


def test_winner_follows_the_data(quickstart_run: Path) -> None:
    """One repetition: the best successful throughput wins with a lead of at least min_effect
    (provisional), else there is no clear difference; the cell says which, with the lead."""
    results = json.loads((quickstart_run / "results.json").read_text())
    report = (quickstart_run / "report.md").read_text()
    _header, rows = summary_rows(report)
    labels = {s["target"]: s["label"] for s in results["steps"]}  # as stored, per step
    min_effect = results["experiment"]["report"]["min_effect"]
    for row in rows:
        level = int(row[0])
        ranked = sorted(
            (s for s in results["steps"] if s["level"] == level),
            key=lambda s: s["rps"] * (1 - s["error_rate"]),
            reverse=True,
        )
        best, second = (s["rps"] * (1 - s["error_rate"]) for s in ranked[:2])
        lead = best / second - 1
        label = labels[ranked[0]["target"]]
        if lead >= min_effect:
            expected = f"{label}, {fmt.change(lead)} successful RPS (provisional: 1 run)"
        else:
            expected = f"no clear difference ({label} {fmt.change(lead)} successful RPS, 1 run)"
        assert row[-1] == expected


def test_run_directory_records_what_ran(quickstart_run: Path) -> None:
    assert (quickstart_run / ".hydra" / "config.yaml").is_file()
    overrides = (quickstart_run / ".hydra" / "overrides.yaml").read_text()
    assert "load.duration=1s" in overrides
    provenance = json.loads((quickstart_run / "run.json").read_text())["provenance"]
    assert re.match(r"k6 v\d", provenance["k6"])
    assert provenance["config_sha256"] and provenance["ended_at"] > provenance["started_at"]
    assert (quickstart_run / "results.csv").read_text().count("\n") == 10


def test_no_process_outlives_the_run(quickstart_run: Path) -> None:
    assert server_like_processes() == []
