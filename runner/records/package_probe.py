"""Which top-level modules a target's app loads, probed in a child interpreter set up as its
server will be, and kept in this machine's cache while nothing it depends on has changed.

The probe imports the app (2 s for FastAPI here, every run). Its answer changes only when the
interpreter, the installed packages, the app's own source or its declared environment does, so
it is cached under those: the interpreter, the target's app, server and `env`, and the
modification times of every import directory (a pip install or removal changes its
site-packages directory) and of every source file of the app's top-level package. Versions are
read fresh each run (runner.records.provenance). Where: runner.machine_cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from runner.config.experiment import Target
from runner.machine_cache import cache_dir
from runner.measure.server.command import PROJECT_ROOT, server_env

__all__ = ["PROBE_TIMEOUT_S", "app_modules"]

CACHE_FILE = "app_modules.json"
MOST_ENTRIES = 64
PROBE_TIMEOUT_S = 60
# Run in a fresh interpreter set up as the server will be: import the app, list what got loaded.
_IMPORT_PROBE = (
    "import importlib, sys; before = set(sys.modules); importlib.import_module(sys.argv[1]); "
    "print('\\n'.join(sorted({name.split('.')[0] for name in set(sys.modules) - before})))"
)


def app_modules(targets: Mapping[str, Target]) -> dict[str, set[str]]:
    """Per target, the top-level modules its app loads (none when it does not import: its
    start-up reports why); probes not in the cache run side by side."""
    keys = {name: _key(target) for name, target in targets.items()}
    cached = _cached()
    found = {name: set(cached[key]) for name, key in keys.items() if key and key in cached}
    probes = {name: _start(t) for name, t in targets.items() if name not in found}
    for name, probe in probes.items():
        modules = found[name] = _modules(probe)
        key = keys[name]
        if modules and key:
            cached[key] = sorted(modules)
    if probes:
        _store(cached)
    return found


def _key(target: Target) -> str | None:
    """What the probe's answer depends on, as one string; None: not cacheable (the app's
    source is not found on disk)."""
    module = str(target.app).split(":")[0]
    sources = _package_sources(module.split(".")[0])
    if not sources:
        return None
    roots = [Path(p or ".").resolve() for p in sys.path]
    key = {
        "python": sys.executable,
        "app": target.app,
        "server": str(target.server),
        "worker_class": target.worker_class,
        "env": dict(sorted((target.env or {}).items())),
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "paths": {str(root): _mtime(root) for root in roots},
        "sources": {str(path): _mtime(path) for path in sources},
    }
    return json.dumps(key, sort_keys=True, default=str)


def _package_sources(top: str) -> list[Path]:
    """The source files of top-level module `top`, found as the probe would import it."""
    for base in [PROJECT_ROOT, *(Path(p) for p in sys.path if p)]:
        package, single = base / top, base / f"{top}.py"
        if package.is_dir() and any(package.glob("*.py")):
            return sorted(package.rglob("*.py"))
        if single.is_file():
            return [single]
    return []


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _start(target: Target) -> subprocess.Popen[str]:
    module = str(target.app).split(":")[0]
    return subprocess.Popen(
        [sys.executable, "-c", _IMPORT_PROBE, module],
        cwd=PROJECT_ROOT,
        env=server_env(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _modules(probe: subprocess.Popen[str]) -> set[str]:
    try:
        output, _ = probe.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        return set()
    return set(output.split()) if probe.returncode == 0 else set()


def _cached() -> dict[str, list[str]]:
    """The cache's entries (key -> modules); an unreadable cache is an empty one."""
    try:
        stored = json.loads((cache_dir() / CACHE_FILE).read_text())
        return {str(e["key"]): [str(m) for m in e["modules"]] for e in stored["entries"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _store(entries: dict[str, list[str]]) -> None:
    """Keep the newest MOST_ENTRIES entries, written atomically (a failure to write is ignored:
    the next run probes again)."""
    kept = list(entries.items())[-MOST_ENTRIES:]
    data = {"entries": [{"key": key, "modules": modules} for key, modules in kept]}
    path = cache_dir() / CACHE_FILE
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{CACHE_FILE}.{os.getpid()}")
        temporary.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(temporary, path)
