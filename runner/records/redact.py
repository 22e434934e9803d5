"""Secrets never reach a file or the console: passwords in DSNs and URLs are masked.

Applied at the boundaries where text leaves the runner: the result store (run.json,
results.jsonl, results.json), the report writers, the runner's own console output, server logs
once the server has stopped, and Hydra's copies of the config (`.hydra/`). What is masked, and
how, is runner.config.secrets (the model masks `database.dsn` with it too).
"""

from __future__ import annotations

from pathlib import Path

from runner.config.secrets import MASK, redact_data, redact_text

__all__ = ["MASK", "redact_data", "redact_file", "redact_run_files", "redact_text"]


def redact_file(path: Path) -> None:
    """Mask secrets in a text file in place (a server log, a Hydra config copy)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    masked = redact_text(text)
    if masked != text:
        path.write_text(masked)


def redact_run_files(run_dir: Path) -> None:
    """Hydra's config copies and every log in a run directory."""
    for pattern in (".hydra/*.yaml", "*.log", "logs/*.log"):
        for path in sorted(run_dir.glob(pattern)):
            redact_file(path)
