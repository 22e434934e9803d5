"""Target lifecycle with real servers: start, verify, stop, and nothing left behind."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from runner.errors import TargetError
from runner.lifecycle import running_server
from runner.model import Expect, Target

JSON_EXPECT = Expect(status=200, json={"message": "Hello, World!"})


def start(target: Target, tmp_path: Path, expect: Expect = JSON_EXPECT, timeout: float = 30):  # type: ignore[no-untyped-def]
    return running_server("t", target, tmp_path, None, "/json", expect, timeout, 5)


@pytest.mark.parametrize(
    "target",
    [
        Target(app="targets.fastapi_app:app", server="uvicorn", workers=2),
        Target(app="targets.django_project.wsgi:application", server="gunicorn", workers=2),
    ],
    ids=["uvicorn-2-workers", "gunicorn-2-workers"],
)
def test_server_tree_is_gone_after_stop(target: Target, tmp_path: Path) -> None:
    with start(target, tmp_path) as server:
        tree = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        # master + 2 workers (uvicorn may add a helper process of its own)
        assert len(tree) >= 3
    survivors = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == []


def test_app_that_cannot_import_fails_with_log_tail(tmp_path: Path) -> None:
    target = Target(app="targets.no_such_module:app", server="uvicorn")
    with pytest.raises(TargetError) as caught, start(target, tmp_path):
        pass
    assert "exited during start-up" in str(caught.value)
    assert "no_such_module" in caught.value.log_tail


def test_wrong_body_is_refused_before_load(tmp_path: Path) -> None:
    target = Target(app="targets.fastapi_app:app", server="uvicorn")
    expect = Expect(status=200, json={"message": "something else"})
    with (
        pytest.raises(TargetError, match="answered /json wrongly"),
        start(target, tmp_path, expect),
    ):
        pass
