"""runner.ab with real servers and k6 (short blocks, small budgets): identical twins are not
called slower, even with a CPU hog on the servers' core for a moment (its block measured
again); 30% more work is called slower; two revisions of a git repository the test makes are
served from worktrees, and after Ctrl-C no worktree, server or k6 is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import PROJECT_ROOT, cli_command, cli_env, run_cli, server_like_processes

pytestmark = pytest.mark.slow
APPS = "tests.apps.ab_work"
# Short blocks keep each test near 15 s; the CLI's defaults are 2 s blocks after 0.5 s warmup.
FAST = ["--block", "1", "--warmup", "0.25", "--level", "4", "--seed", "3"]


def ab(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "run"
    return run_cli(*args, *FAST, "--output", str(out), module="runner.ab", timeout=180)


def record(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((tmp_path / "run" / "ab.json").read_text())  # type: ignore[no-any-return]


def test_at_a_fixed_rate_thirty_percent_more_work_is_slower_on_latency(tmp_path: Path) -> None:
    """--rate: an open model, a k6 per block at 200 requests per second (the app serves about
    800 on one core): the heavier candidate's latency is what changes."""
    out = tmp_path / "run"
    done = run_cli(
        "--baseline", f"{APPS}:app", "--candidate", f"{APPS}:heavier", "--rate", "200",
        "--block", "1", "--warmup", "0.5", "--seed", "3", "--budget", "1m",
        "--output", str(out), module="runner.ab", timeout=180,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    stored = record(tmp_path)
    assert stored["settings"]["model"] == "open" and stored["settings"]["level"] == 200
    assert stored["verdict"] == "slower"
    blocks = stored["blocks"]
    # Each block offered the rate: its throughput near 200 RPS, whichever side it loaded.
    assert all(150 <= b["figures"]["requests"] / b["figures"]["window_s"] <= 250 for b in blocks)
    assert "200 RPS offered (open model)" in (out / "summary.md").read_text()
    assert server_like_processes() == []


def test_thirty_percent_more_work_is_called_slower(tmp_path: Path) -> None:
    markdown = tmp_path / "summary.md"
    done = ab(
        tmp_path, "--baseline", f"{APPS}:app", "--candidate", f"{APPS}:heavier",
        "--budget", "2m", "--markdown", str(markdown),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "slower" in done.stdout
    stored = record(tmp_path)
    assert stored["verdict"] == "slower"
    assert stored["load_s"] <= 120
    assert "**slower**" in markdown.read_text()
    assert "| successful throughput |" in markdown.read_text()


def test_twins_are_not_called_slower_and_a_disturbed_block_is_measured_again(
    tmp_path: Path,
) -> None:
    command = cli_command(
        "--baseline", f"{APPS}:app", "--candidate", f"{APPS}:twin", "--budget", "20s",
        *FAST, "--margin", "5%", "--output", str(tmp_path / "run"), module="runner.ab",
    )  # fmt: skip
    cli = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=cli_env(), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    hog = None
    try:
        assert cli.stdout is not None
        for line in cli.stdout:
            if line.startswith("pair 1:"):
                # A CPU hog on the servers' core for about one block.
                hog = subprocess.Popen(
                    ["taskset", "-c", "0", sys.executable, "-c",
                     "import time\nt=time.time()+1.5\nwhile time.time()<t: pass"],
                )  # fmt: skip
                break
        output = cli.communicate(timeout=120)[0]
    finally:
        if hog is not None:
            hog.wait(timeout=10)
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode != 1, output
    stored = record(tmp_path)
    assert stored["verdict"] in ("same", "inconclusive", "faster")
    again = [b for b in stored["blocks"] if b["attempt"] > 1]
    assert again, output
    disturbed = [b for b in stored["blocks"] if b["reasons"]]
    assert any("interference" in r for b in disturbed for r in b["reasons"])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=30)


def _tiny_repo(repo: Path) -> None:
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    source = (PROJECT_ROOT / "tests" / "apps" / "ab_work.py").read_text()
    for number, work in ((1, "1"), (2, "1.3")):
        (repo / "app.py").write_text(source.replace('"AB_WORK_MS", "1"', f'"AB_WORK_MS", "{work}"'))
        _git(repo, "add", "app.py")
        _git(repo, "commit", "-q", "-m", f"revision {number}")
        _git(repo, "tag", f"r{number}")


def test_revisions_run_from_worktrees_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    repo, run_dir = tmp_path / "repo", tmp_path / "run"
    _tiny_repo(repo)
    command = cli_command(
        "--app", "app:app", "--baseline-rev", "r1", "--candidate-rev", "r2", "--budget", "5m",
        *FAST, "--output", str(run_dir), module="runner.ab",
    )  # fmt: skip
    env = cli_env({"PYTHONPATH": str(PROJECT_ROOT)})
    cli = subprocess.Popen(
        command, cwd=repo, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert cli.stdout is not None
        seen = []
        for line in cli.stdout:
            seen.append(line)
            if line.startswith("pair 1:"):
                break
        running = [p.cmdline() for p in psutil.Process(cli.pid).children(recursive=True)]
        servers = [c for c in running if "uvicorn" in c and "--app-dir" in c]
        app_dirs = sorted(c[c.index("--app-dir") + 1] for c in servers)
        assert app_dirs == [str(run_dir / "worktrees" / s) for s in ("baseline", "candidate")]
        cli.send_signal(signal.SIGINT)
        output = cli.communicate(timeout=60)[0]
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 130, "".join(seen) + output
    assert not (run_dir / "worktrees" / "baseline").exists()
    assert not (run_dir / "worktrees" / "candidate").exists()
    listed = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True
    )
    assert len(listed.stdout.strip().splitlines()) == 1, listed.stdout
    time.sleep(0.2)
    assert not server_like_processes()
    assert "Traceback" not in output
    assert os.path.isdir(repo)
