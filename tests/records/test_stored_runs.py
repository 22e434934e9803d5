"""A run written by an earlier schema (tests/fixtures/schema1_run, a real quickstart stored with
schema 1) still loads, re-renders the same tables and compares; older shapes are upgraded."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runner.analysis.verdicts import FLOOR_RULE
from runner.config.experiment import Experiment, stored_experiment
from runner.errors import UserError
from runner.records.results import SCHEMA_VERSION
from runner.records.store import RUN_FILE, STEPS_FILE, ResultStore, load_run
from runner.report.step_table import STEPS_NOTE
from tests.conftest import SCHEMA1_RUN
from tests.htmltables import tables

TARGETS = ["fastapi", "django_wsgi", "django_asgi"]


@pytest.fixture
def schema1_run(tmp_path: Path) -> Path:
    """A copy to write into: the fixture itself stays as it was stored."""
    return Path(shutil.copytree(SCHEMA1_RUN, tmp_path / "schema1_run"))


def test_schema1_run_loads_into_typed_records() -> None:
    assert json.loads((SCHEMA1_RUN / RUN_FILE).read_text())["schema_version"] == 1
    record = load_run(SCHEMA1_RUN)
    assert record.schema_version == SCHEMA_VERSION
    assert list(record.experiment.targets) == TARGETS
    assert record.experiment.levels() == [10, 20, 30]
    assert record.experiment.load.kind.csv_column == "concurrency_vus"
    assert sorted((s.target, s.level) for s in record.steps) == sorted(
        (t, level) for t in TARGETS for level in (10, 20, 30)
    )
    prov = record.provenance
    assert prov.git is not None and prov.git.commit == "6ce8bbd9d963e4ed4cb0a9e9fec43b5c2e07c450"
    assert prov.machine is not None and prov.machine.logical_cores == 2
    assert [d.target for d in prov.load_destinations] == TARGETS
    assert prov.resumed_at == [] and record.complete


def run_module(module: str, *args: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True
    )


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as stream:
        return list(csv.reader(stream))


# Intended changes of schema 3 (step validity): a sentence under the summary, the step tables'
# "Valid" column, p99.9 withheld below 10,000 requests, the Step validity section; in
# results.csv, five columns at the end.
STEP_TABLE_CELLS = 18
P99_9_CELL = 10
SCHEMA3_CSV_COLUMNS = 5


# Intended changes of issue 20: the stall probe's two columns beside p99 (n/a before it
# existed) and the note on them under Detailed Results.
STALL_CELLS = slice(10, 12)
STEP_TABLE_CELLS_WITH_STALLS = STEP_TABLE_CELLS + 3


def _without_stall_columns(report: str) -> str:
    report = report.replace("\n\n" + STEPS_NOTE, "")
    lines = []
    for line in report.splitlines():
        cells = line.split(" | ")
        if line.startswith("|") and len(cells) >= STEP_TABLE_CELLS_WITH_STALLS:
            assert line.startswith("| Concurrency") or cells[STALL_CELLS] == ["n/a", "n/a"]
            del cells[STALL_CELLS]
            line = " | ".join(cells)
        lines.append(line.replace("|---" * 21 + "|", "|---" * 19 + "|"))
    return "\n".join(lines)


def _without_schema3_changes(report: str) -> str:
    report = report.replace(
        " A percentile is printed only from enough requests (see Step validity).", ""
    )
    report = re.sub(r"\n## Step validity\n.*?(?=\n## )", "", report, flags=re.S)
    lines = []
    for line in report.splitlines():
        cells = line.split(" | ")
        if line.startswith("|") and len(cells) >= STEP_TABLE_CELLS:
            cells = cells[:STEP_TABLE_CELLS]
            cells[P99_9_CELL] = "*"
            line = " | ".join(cells).removesuffix(" |")
        lines.append(line.replace("|---" * 19 + "|", "|---" * 18 + "|"))
    return "\n".join(lines)


def _split_headline(report: str) -> tuple[list[str], str]:
    """The headline's quote under the title (and its blank line), and the report without it."""
    lines = report.splitlines(keepends=False)
    end = 2
    while lines[end].startswith(">"):
        end += 1
    return lines[2 : end + 1], "\n".join(lines[:2] + lines[end + 1 :]) + "\n"


def test_schema1_run_rerenders_the_same_report(schema1_run: Path) -> None:
    result = run_module("runner.report", schema1_run)
    assert result.returncode == 0, result.stderr
    after = (schema1_run / "report.md").read_text()
    assert "9 step(s) not judged" in after
    assert (
        len(re.findall(r"\| too few \([\d,]+ < 10,000 requests\) \|", after)) == 9
    )  # every step's p99.9: each has fewer than 10,000 requests
    after = re.sub(r"too few \([\d,]+ < [\d,]+ requests\)", "too few", after)
    # Issue 20: the report opens with its headline, under the title; the rest re-renders.
    headline, after = _split_headline(after)
    assert headline == [
        "> **FastAPI (uvicorn) served 3.24-4.13x the successful RPS of the runner-up at every "
        "level (10-30 virtual users): Django WSGI (gunicorn sync) at c=10, Django ASGI (uvicorn) "
        "at c=20-30.**",
        ">",
        "> Provisional: 1 run per level, so run-to-run noise is unmeasured.",
        "",
    ]
    before_report = _without_schema3_changes((SCHEMA1_RUN / "report.md").read_text())
    # Issue 19: the winner rule now names the test's log scale (the compare gate's Welch test).
    before_report = before_report.replace(
        "Welch t-test on that figure",
        "Welch t-test on the logarithms of that figure (on the ratio of the two, as in the "
        "compare gate)",
    )
    # Issue 20: every winner names the figure its lead is on; the rule says how floors rank.
    before_report = re.sub(
        r"(\| [^|]*[+-][\d,.]+%)( \(|, 1 run\))", r"\1 successful RPS\2", before_report
    )
    before_report = before_report.replace(
        "marked provisional.",
        f"marked provisional. The lead is on the figure the winner names. {FLOOR_RULE}",
    )
    after_report = _without_schema3_changes(_without_stall_columns(after))
    before_report, after_report = (
        before_report.split("## Analysis"),
        after_report.split("## Analysis"),
    )
    # Everything but the Analysis section re-renders exactly; the verdicts there changed on
    # purpose (issue 12: peak, knee and break from successful throughput, memory by PSS).
    assert after_report[0] == before_report[0]
    assert after_report[1].split("---")[-1] == before_report[1].split("---")[-1]
    analysis = after_report[1]
    assert "- **FastAPI (uvicorn)**: 30 (successful throughput 4,042 RPS is 11.9% below" in analysis
    assert "FastAPI (uvicorn) peaks at 4,588 RPS successful at 10 virtual users, below" in analysis
    assert "Django ASGI (uvicorn) holds at most 42.0 MiB (PSS, whole process tree" in analysis
    for name in ("results.csv", "results_aggregated.csv"):
        before_rows, after_rows = csv_rows(SCHEMA1_RUN / name), csv_rows(schema1_run / name)
        if name == "results.csv":
            # Issue 20: the stall probe's four columns at the end, blank before it existed.
            assert all(row[-4:] == [""] * 4 for row in after_rows[1:])
            after_rows = [row[:-4] for row in after_rows]
            assert all(row[-2:] == ["", ""] for row in after_rows[1:])  # not judged
            after_rows = [row[:-SCHEMA3_CSV_COLUMNS] for row in after_rows]
        # Intended change: the level column is named for its unit since schema 2.
        assert before_rows[0][2] == "concurrency" and after_rows[0][2] == "concurrency_vus"
        assert after_rows[0][:2] + after_rows[0][3:] == before_rows[0][:2] + before_rows[0][3:]
        assert after_rows[1:] == before_rows[1:]


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells, without the --- separator line."""
    found: list[list[list[str]]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("| "):
            if not previous.startswith("|"):
                found.append([])
            found[-1].append([cell.strip() for cell in line.strip("| ").split(" | ")])
        previous = line
    return found


def test_html_shows_the_markdown_tables(schema1_run: Path) -> None:
    assert run_module("runner.report", schema1_run).returncode == 0
    in_html = tables((schema1_run / "report.html").read_text())
    in_markdown = markdown_tables((schema1_run / "report.md").read_text())
    keys = ["targets", "summary", *(f"steps:{t}" for t in TARGETS)]
    assert [in_html[key] for key in keys] == in_markdown


def test_schema1_run_compares_with_itself() -> None:
    """Comparable, but one repetition a side decides nothing: inconclusive (3), not a pass."""
    result = run_module("runner.compare", SCHEMA1_RUN, SCHEMA1_RUN)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.count("inconclusive │") == 9 * 4  # 9 cells x 4 metrics


def test_resuming_a_schema1_run_rewrites_it_in_the_current_schema(schema1_run: Path) -> None:
    stored = json.loads((schema1_run / RUN_FILE).read_text())["experiment"]
    kept = ResultStore(schema1_run).resume(stored)
    assert len(kept) == 9
    assert json.loads((schema1_run / RUN_FILE).read_text())["schema_version"] == SCHEMA_VERSION
    lines = [json.loads(line) for line in (schema1_run / STEPS_FILE).read_text().splitlines()]
    assert all("concurrency" not in line and "level" in line for line in lines)
    record = load_run(schema1_run)
    assert len(record.steps) == 9 and len(record.provenance.resumed_at) == 1


def test_oldest_schema1_shapes_are_upgraded(schema1_run: Path) -> None:
    """Runs from before scenarios (load.endpoint) and failures named by `concurrency`."""
    run = json.loads((schema1_run / RUN_FILE).read_text())
    del run["experiment"]["scenario"]
    run["experiment"]["load"].update({"endpoint": "/json", "expect": {"status": 200}})
    del run["schema_version"]
    (schema1_run / RUN_FILE).write_text(json.dumps(run))
    failure: dict[str, object] = {"kind": "failure", "target": "fastapi", "stage": "step"}
    failure |= {"label": "FastAPI", "concurrency": 40, "repetition": 1, "message": "died"}
    with (schema1_run / STEPS_FILE).open("a") as stream:
        stream.write(json.dumps(failure) + "\n")
    record = load_run(schema1_run)
    assert record.experiment.scenario.describe() == "GET /json"
    assert record.failures[0].level == 40


def test_a_newer_schema_is_refused(schema1_run: Path) -> None:
    run = json.loads((schema1_run / RUN_FILE).read_text())
    (schema1_run / RUN_FILE).write_text(json.dumps({**run, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(UserError, match="newer than this sweepbench reads"):
        load_run(schema1_run)


def test_a_stored_url_target_loads_back() -> None:
    """A stored experiment lists every key, so a `url` target's unused keys are at defaults."""
    experiment = Experiment.model_validate(
        {
            "name": "external",
            "targets": {"api": {"url": "http://127.0.0.1:8000", "label": "API"}},
            "sweep": {"concurrency": {"levels": [1]}},
            "load": {"duration": "1s"},
            "scenario": {"name": "json", "requests": [{"path": "/json"}]},
        }
    )
    dumped = experiment.model_dump(mode="json", by_alias=True)
    assert stored_experiment(dumped) == experiment
    with pytest.raises(ValueError, match="cannot apply to it"):
        stored_experiment(
            {**dumped, "targets": {"api": {**dumped["targets"]["api"], "workers": 2}}}
        )
