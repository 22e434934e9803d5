"""A target's label in the plan and every report, derived from what runs (`app_label` and the
server's settings: "FastAPI (granian, asgi)"); a label written by hand is kept while it still
describes what runs, else what ran is shown beside it ("FastAPI (uvicorn) [ran: granian, asgi]").
"""

from __future__ import annotations

import re

from runner.config.experiment.servers import SERVERS
from runner.config.experiment.targets import GUNICORN_WORKER_CLASSES, Target

__all__ = ["server_words", "stale_label", "target_label"]

_WORD = re.compile(r"[a-z0-9_]+")
_WORKERS = re.compile(r"\b(\d+)\s+workers?\b", re.IGNORECASE)


def target_label(name: str, target: Target) -> str:
    """The hand label (flagged when stale), else `app_label (what runs)`, else the target name."""
    if target.label is not None:
        if stale_label(target.label, target):
            return f"{target.label} [ran: {server_words(target)}]"
        return target.label
    if target.app_label is None:
        return name
    if target.server is None:  # a `url` target: the runner knows nothing of its server
        return target.app_label
    return f"{target.app_label} ({server_words(target)})"


def server_words(target: Target) -> str:
    """What runs the app, as a label's parenthesis says it: 'gunicorn sync, 2 workers'."""
    if target.server is None:
        return "already running"
    head: str = target.server
    if target.worker_class is not None:
        head += " " + target.worker_class.rsplit(".", 1)[-1]
    words = [
        head,
        target.interface or "",
        f"{target.workers} workers" if target.workers > 1 else "",
        f"{target.threads} threads" if target.threads else "",
        f"loop {target.loop}" if target.loop else "",
        f"http {target.http}" if target.http else "",
        f"keep-alive {target.keep_alive} s" if target.keep_alive is not None else "",
    ]
    return ", ".join(filter(None, words))


def stale_label(label: str, target: Target) -> bool:
    """True when a hand label names a server, gunicorn worker class or worker count other than
    the one that runs: a label that names none of them claims nothing to check."""
    if target.server is None:
        return False
    words = set(_WORD.findall(label.lower()))
    servers_named = words & set(SERVERS)
    if servers_named and target.server not in servers_named:
        return True
    if target.server == "gunicorn":
        classes_named = words & set(GUNICORN_WORKER_CLASSES)
        running = (target.worker_class or "sync").lower()
        if classes_named and running not in classes_named:
            return True
    counts = {int(n) for n in _WORKERS.findall(label)}
    return bool(counts) and target.workers not in counts
