"""The k6 script for k6 on another host: one `k6 archive` (the script with everything it
imports), made once per run and sent to that host's agent.

k6 bakes its consolidated options into an archive, defaults included, and they then win over
the `--config` file each step passes: the archive's default summaryTrendStats would hide the
percentiles the runner reads. The options the runner owns (runner.measure.k6.script.RUNNER_OWNED; a
custom script may not set them, `k6 inspect` checks) are therefore cleared from the archive,
so each step's own options apply.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from runner.config.experiment import Experiment
from runner.errors import UserError
from runner.measure.k6.script import INSPECT_BASE_URL, RUNNER_OWNED, step_env
from runner.run.plan import Step

ARCHIVE_TIMEOUT_S = 60
METADATA = "metadata.json"


def k6_archive(k6_path: Path, script: Path, experiment: Experiment, step: Step) -> bytes:
    """The script archived by k6, the runner's options cleared from it."""
    with tempfile.TemporaryDirectory(prefix="sweepbench-archive-") as work_dir:
        archive = Path(work_dir) / "script.tar"
        command = [str(k6_path), "archive", "--quiet", "-O", str(archive), str(script)]
        # Its init code reads the environment; as for `k6 inspect`, nothing is sent.
        env = {**os.environ, **step_env(INSPECT_BASE_URL, experiment, step)}
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=ARCHIVE_TIMEOUT_S
        )
        if done.returncode != 0:
            raise UserError(f"k6 cannot archive the script {script}: {done.stderr.strip()}")
        return without_runner_options(archive.read_bytes())


def without_runner_options(archive: bytes) -> bytes:
    """The archive with the runner-owned options of its metadata set to null (unset)."""
    rewritten = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive)) as source,
        tarfile.open(fileobj=rewritten, mode="w") as target,
    ):
        for member in source.getmembers():
            stream = source.extractfile(member) if member.isfile() else None
            data = stream.read() if stream is not None else None
            if member.name == METADATA and data is not None:
                metadata = json.loads(data)
                metadata["options"].update(dict.fromkeys(RUNNER_OWNED))
                data = json.dumps(metadata).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return rewritten.getvalue()
