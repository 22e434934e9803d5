"""The app-module probe's cache (runner.records.package_probe): probed once, then read while
nothing it depends on changed; a change to the app's source probes again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runner.config.experiment import Target
from runner.records import package_probe


def app_package(root: Path, imports: str) -> Target:
    package = root / "probe_app_pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(f"{imports}\napp = None\n")
    return Target.model_validate({"app": "probe_app_pkg.main:app", "server": "uvicorn"})


def test_a_probe_is_cached_until_the_apps_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(package_probe, "PROJECT_ROOT", tmp_path)
    target = app_package(tmp_path, "import json")
    started: list[str] = []
    real_start = package_probe._start

    def counted(t: Target) -> object:
        started.append(str(t.app))
        return real_start(t)

    monkeypatch.setattr(package_probe, "_start", counted)
    assert "json" in package_probe.app_modules({"a": target})["a"]
    assert "json" in package_probe.app_modules({"a": target})["a"]
    assert len(started) == 1  # the second answer came from the cache
    time.sleep(0.01)
    main = tmp_path / "probe_app_pkg" / "main.py"
    main.write_text("import csv\napp = None\n")
    os.utime(main, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert "csv" in package_probe.app_modules({"a": target})["a"]
    assert len(started) == 2  # the source changed: probed again
