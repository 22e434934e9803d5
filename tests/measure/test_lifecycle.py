"""Target lifecycle with real servers: start, verify, stop, and nothing left behind."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from runner.config.experiment import Expect, Request, Target
from runner.errors import TargetError
from runner.measure.server import running_server, send, server_command
from tests.conftest import JSON_CHECK


def start(target: Target, tmp_path: Path, expect: Expect = JSON_CHECK.expect, timeout: float = 30):  # type: ignore[no-untyped-def]
    check = JSON_CHECK.model_copy(update={"expect": expect})
    return running_server("t", target, tmp_path, None, [check], timeout, 5)


@pytest.mark.parametrize(
    "target",
    [
        Target(app="targets.fastapi_app:app", server="uvicorn", workers=2),
        Target(app="targets.django_project.wsgi:application", server="gunicorn", workers=2),
    ],
    ids=["uvicorn-2-workers", "gunicorn-2-workers"],
)
@pytest.mark.slow
def test_server_tree_is_gone_after_stop(target: Target, tmp_path: Path) -> None:
    with start(target, tmp_path) as server:
        tree = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        # master + 2 workers (uvicorn may add a helper process of its own)
        assert len(tree) >= 3
    survivors = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == []


@pytest.mark.slow
def test_app_that_cannot_import_fails_with_log_tail(tmp_path: Path) -> None:
    target = Target(app="targets.no_such_module:app", server="uvicorn")
    with pytest.raises(TargetError) as caught, start(target, tmp_path):
        pass
    assert "exited during start-up" in str(caught.value)
    assert "no_such_module" in caught.value.log_tail


@pytest.mark.slow
def test_wrong_body_is_refused_before_load(tmp_path: Path) -> None:
    target = Target(app="targets.fastapi_app:app", server="uvicorn")
    expect = Expect(status=200, json={"message": "something else"})
    with (
        pytest.raises(TargetError, match="answered GET /json wrongly"),
        start(target, tmp_path, expect),
    ):
        pass


def worker_processes(server_pid: int, expected: int) -> list[psutil.Process]:
    """The server's worker processes, once it has started `expected` of them (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        children = psutil.Process(server_pid).children(recursive=True)
        # uvicorn's workers are spawned interpreters; helpers (a resource tracker) are not workers.
        workers = [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]
        if len(workers) >= expected or time.monotonic() > deadline:
            return workers
        time.sleep(0.1)


@pytest.mark.parametrize(
    "target",
    [
        Target(app="targets.fastapi_app:app", server="uvicorn", workers=3),
        Target(app="targets.django_project.wsgi:application", server="gunicorn", workers=3),
        Target(
            app="targets.django_project.asgi:application",
            server="gunicorn",
            workers=3,
            worker_class="uvicorn_worker.UvicornWorker",
        ),
    ],
    ids=["uvicorn", "gunicorn-sync", "gunicorn-uvicorn-worker"],
)
@pytest.mark.slow
def test_worker_count_reaches_the_real_server(target: Target, tmp_path: Path) -> None:
    with start(target, tmp_path) as server:
        assert len(worker_processes(server.pid, 3)) == 3


def test_server_settings_reach_the_command_line() -> None:
    uvicorn = Target(
        app="m:app", server="uvicorn", workers=2, loop="asyncio", http="h11", keep_alive=7
    )
    command = server_command(uvicorn, "127.0.0.1", 8000)
    for flag, value in [
        ("--workers", "2"),
        ("--loop", "asyncio"),
        ("--http", "h11"),
        ("--timeout-keep-alive", "7"),
    ]:
        assert command[command.index(flag) + 1] == value
    gunicorn = Target(
        app="m:app", server="gunicorn", worker_class="gthread", threads=16, keep_alive=3
    )
    command = server_command(gunicorn, "127.0.0.1", 8000)
    for flag, value in [("--worker-class", "gthread"), ("--threads", "16"), ("--keep-alive", "3")]:
        assert command[command.index(flag) + 1] == value
    assert "--loop" not in server_command(Target(app="m:app", server="uvicorn"), "h", 1)


@pytest.mark.slow
def test_gthread_threads_reach_the_real_server(tmp_path: Path) -> None:
    """Eight blocking requests at once on one gthread worker with 8 threads: 8 threads serve."""
    target = Target(
        app="targets.django_project.wsgi:application",
        server="gunicorn",
        worker_class="gthread",
        threads=8,
    )
    with start(target, tmp_path) as server, ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: send(server.port, Request(path="/io?ms=300"), 10), range(8))
        )
        (worker,) = worker_processes(server.pid, 1)
        # The pool grows a thread per request that finds none idle; the main thread accepts.
        threads = worker.num_threads()
    assert all(a.status == 200 for a in answers)
    assert threads >= 8 + 1
