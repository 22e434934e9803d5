"""report.html as a reader sees it: small, self-contained, charts on the measured levels, tables
that fit, no Markdown left in the text; and drawn by a real headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from runner.report.charts import CHARTS
from runner.report.matrix import write_matrix_report
from tests.factories import record, step, write_synthetic
from tests.htmltables import external_refs, tables
from tests.pngpixels import colour_counts

CHART_IDS = [spec.id for spec in CHARTS]
SPECTRUM_PREFIX = "chart-latency-spectrum-"
LABELS = {"a": "FastAPI (uvicorn)", "b": "Django WSGI", "c": "Django ASGI"}


class _Svg(HTMLParser):
    """Per chart: its x labels, y tick labels and each point's plotted value."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, list[str]]] = {}
        self._chart: dict[str, list[str]] | None = None
        self._text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "svg":
            self._chart = self.charts.setdefault(str(attributes["data-chart"]), {})
        elif self._chart is not None and tag == "text":
            self._text = str(attributes.get("class"))
        elif self._chart is not None and tag == "circle":
            self._chart.setdefault("values", []).append(str(attributes["data-value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None
        self._text = None

    def handle_data(self, data: str) -> None:
        if self._chart is not None and self._text is not None:
            self._chart.setdefault(self._text, []).append(data)


def svg_charts(page: str) -> dict[str, dict[str, list[str]]]:
    parser = _Svg()
    parser.feed(page)
    return parser.charts


def synthetic_page(tmp_path: Path, levels: tuple[int, ...] = (10, 20, 50)) -> str:
    steps = [
        step(t, lv, 1000.0 * (i + 1) + lv, rep, error_rate=0.02 if t == "b" else 0.0, label=lab)
        for i, (t, lab) in enumerate(LABELS.items())
        for lv in levels
        for rep in (1, 2)
    ]
    write_synthetic(tmp_path, record(steps, labels=LABELS))
    return (tmp_path / "report.html").read_text()


def test_chart_x_axes_hold_the_measured_levels_only(tmp_path: Path) -> None:
    found = svg_charts(synthetic_page(tmp_path, levels=(10, 20, 50)))
    # The latency spectrum's axis is the percentile (test_latency_spectrum_...).
    charts = {k: v for k, v in found.items() if not k.startswith(SPECTRUM_PREFIX)}
    assert sorted(charts) == sorted(CHART_IDS)
    for chart in charts.values():
        # Categories: one tick per measured level, none at 30 or 40 where nothing was measured.
        assert chart["xlabel"] == ["10", "20", "50"]


def test_error_chart_plots_percent_of_requests(tmp_path: Path) -> None:
    chart = svg_charts(synthetic_page(tmp_path))["chart-errors"]
    assert chart["ytitle"] == ["% of requests"]
    # Target b fails 2% of its requests: plotted as 2 on a percent axis, not 0.02.
    assert {float(v) for v in chart["values"]} == {0.0, 2.0}
    assert all(label.endswith("%") for label in chart["ytick"])
    assert float(chart["ytick"][-1].rstrip("%")) >= 2


def test_error_chart_without_errors_keeps_a_percent_scale(tmp_path: Path) -> None:
    steps = [step(t, lv, 1000, label=t) for t in ("a", "b") for lv in (10, 20)]
    write_synthetic(tmp_path, record(steps))
    chart = svg_charts((tmp_path / "report.html").read_text())["chart-errors"]
    assert chart["ytick"][0] == "0%" and chart["ytick"][-1] == "1%"


def test_no_markdown_reaches_the_page(tmp_path: Path) -> None:
    page = synthetic_page(tmp_path)
    assert "`" not in page
    assert "<code>http_req_duration</code>" in page


def test_summary_names_each_target_once_above_its_columns(tmp_path: Path) -> None:
    page = synthetic_page(tmp_path)
    groups = re.search(r'<table id="summary">\s*<tr class="groups">(.*?)</tr>', page, re.S)
    assert groups is not None
    assert re.findall(r'<th colspan="3">([^<]*)</th>', groups.group(1)) == list(LABELS.values())
    # Each heading still carries its full name (for copying, screen readers and the tests).
    header = tables(page)["summary"][0]
    assert header[1:4] == [f"{LABELS['a']} {name}" for name in ("RPS", "p99 ms", "Err %")]


def test_page_is_small_and_self_contained(tmp_path: Path) -> None:
    page = synthetic_page(tmp_path)
    assert "<script" not in page and external_refs(page) == []
    assert len(page.encode()) < 100_000


# --- a real browser --------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed here if missing (the test set-up needs root for apt-get)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip(
            "chromium is not installed and installing it needs root (apt-get install chromium)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    install = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"could not install chromium: {install.stderr[-500:]}")
    return found


def browse(chromium: str, page: Path, profile: Path, *args: str) -> str:
    """Run a fresh headless Chromium on a local file; its standard output."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


def one_chart_page(page: str, chart_id: str) -> str:
    """The report's stylesheet and one chart's <svg>, nothing else (no legend swatches: only
    the chart itself can paint its series' colours)."""
    style = re.search(r"<style>.*?</style>", page, re.S)
    chart = re.search(rf'<svg class="chart" data-chart="{chart_id}".*?</svg>', page, re.S)
    assert style is not None and chart is not None, chart_id
    return f"<!DOCTYPE html><html><head>{style.group(0)}</head><body>{chart.group(0)}</body></html>"


@pytest.mark.slow
def test_every_chart_is_drawn_by_chromium(
    chromium: str, quickstart_run: Path, tmp_path: Path
) -> None:
    page = (quickstart_run / "report.html").read_text()
    colours = {c.lower() for c in re.findall(r'class="swatch" style="background: (#\w{6})"', page)}
    seen: dict[str, int] = dict.fromkeys(colours, 0)
    for chart_id in CHART_IDS:
        alone = tmp_path / f"{chart_id}.html"
        alone.write_text(one_chart_page(page, chart_id))
        shot = tmp_path / f"{chart_id}.png"
        browse(chromium, alone, tmp_path / f"profile-{chart_id}", "--window-size=700,460",
               f"--screenshot={shot}")  # fmt: skip
        painted = colour_counts(shot)
        # The chart's lines and markers are painted in its series' colours. Lines at the same
        # values overlap (every error rate 0%), so per chart only their sum is checked...
        assert sum(painted[c] for c in colours) > 100, chart_id
        for colour in colours:
            seen[colour] += painted[colour]
    # ...and every target's colour across the charts.
    assert len(colours) == 3 and min(seen.values()) > 100, seen


# Measured in the page once laid out: each summary heading's and Winner cell's height in lines,
# and for every table whether its last column lies inside its box (no clipping, no scrolling).
LAYOUT_PROBE = """<script>
const lineHeight = (el) => parseFloat(getComputedStyle(el).lineHeight) || 16;
const lines = (el) => Math.round(el.getBoundingClientRect().height / lineHeight(el) * 10) / 10;
const summary = document.getElementById("summary");
const out = {
  heading_lines: [...summary.querySelectorAll("th")].map(lines),
  winner_lines: [...summary.querySelectorAll("tr td:last-child")].map(lines),
  overflowing: [...document.querySelectorAll(".scroll")]
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => box.firstElementChild.id || box.firstElementChild.className),
};
const pre = document.createElement("pre");
pre.id = "layout";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script>"""


@pytest.mark.slow
def test_tables_fit_a_laptop_screen(chromium: str, quickstart_run: Path, tmp_path: Path) -> None:
    probed = tmp_path / "report.html"
    probed.write_text(
        (quickstart_run / "report.html").read_text().replace("</body>", LAYOUT_PROBE + "</body>")
    )
    dom = browse(chromium, probed, tmp_path / "profile", "--window-size=1280,800", "--dump-dom")
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found is not None, dom[-2000:]
    layout = json.loads(html.unescape(found.group(1)))
    # Padding makes a one-line cell about 1.5 lines tall; a wrapped one is 2.5 or more.
    assert max(layout["heading_lines"]) < 2, layout
    assert max(layout["winner_lines"]) < 2, layout
    assert layout["overflowing"] == [], layout


def test_matrix_chart_and_tables_follow_the_same_rules(tmp_path: Path) -> None:
    for job, factor in (("0", 1.0), ("1", 1.5)):
        steps = [step(t, lv, 1000 * factor + lv, label=t) for t in ("a", "b") for lv in (10, 60)]
        write_synthetic(tmp_path / job, record(steps))
    write_matrix_report(tmp_path)
    page = (tmp_path / "matrix.html").read_text()
    chart = svg_charts(page)["chart-matrix"]
    assert chart["xlabel"] == ["10", "60"] and len(chart["values"]) == 8
    assert "<script" not in page and external_refs(page) == []
    header = tables(page)["matrix:a"][0]
    assert header[1:3] == ["job 0 RPS", "job 0 p99 ms"]


def test_latency_spectrum_has_a_line_per_level_on_a_percentile_axis(tmp_path: Path) -> None:
    """One chart per target, one line per level; the percentiles every repetition has enough
    requests for (the synthetic steps have 5,000 to 15,000: p99 always, p99.9 from 10,000)."""
    found = svg_charts(synthetic_page(tmp_path, levels=(10, 20, 50)))
    spectra = {k: v for k, v in found.items() if k.startswith(SPECTRUM_PREFIX)}
    assert sorted(spectra) == sorted(SPECTRUM_PREFIX + t for t in LABELS)
    for chart in spectra.values():
        assert chart["xlabel"] == ["50%", "90%", "99%", "99.9%", "99.99%"]
        # Three levels, each with p50, p90, p95, p99 and, with enough requests, p99.9 (these
        # records store no p75 or p99.99).
        assert 3 * 4 <= len(chart["values"]) <= 3 * 5


def test_a_withheld_percentile_keeps_its_counts_in_a_tooltip() -> None:
    """On the page "too few" stays as narrow as before; the counts are its tooltip."""
    from runner.report.templating import inline

    cell = str(inline("too few (890 < 1,000 requests)"))
    assert cell == '<span title="890 &lt; 1,000 requests">too few</span>'
    assert str(inline("1,234.5")) == "1,234.5"
