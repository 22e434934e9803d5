"""Where this machine's caches live (k6's ceiling, the apps' modules): $SWEEPBENCH_CACHE_DIR,
else $XDG_CACHE_HOME/sweepbench, else ~/.cache/sweepbench."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    if explicit := os.environ.get("SWEEPBENCH_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sweepbench"
