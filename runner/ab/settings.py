"""What one A/B run is asked to do (`AbSettings`), from the command line or an experiment file,
and the rule its decision follows (its Bonferroni split over metrics and looks)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import UserError

if TYPE_CHECKING:
    from runner.analysis.settling import SettlingRule

# Pairs before the first look, as runner.analysis.settling.MIN_PAIRS (imported on first use: the
# command line's --help and refusals do without the statistics; a test keeps the two equal).
MIN_PAIRS = 4

# The metrics of every pair, as the decision and the output name them: (name, higher is better).
METRICS: dict[str, bool] = {"ok_rps": True, "p50": False, "p95": False, "p99": False}
METRIC_LABELS = {
    "ok_rps": "successful throughput",
    "p50": "p50 latency",
    "p95": "p95 latency",
    "p99": "p99 latency",
}
# How each server is told where to import the app from (a revision's worktree).
APP_DIR_ARGS = {"uvicorn": "--app-dir", "gunicorn": "--chdir"}
_BUDGET = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


@dataclass(frozen=True)
class AbSettings:
    """One paired A/B run: the two apps, the load, the blocks and the decision's thresholds."""

    baseline: str  # import path, 'mypkg.app:app'
    candidate: str
    server: str = "uvicorn"
    level: int = 10  # virtual users (closed model) or requests per second (open)
    model: str = "closed"
    path: str = "/"
    budget_s: float = 300.0  # of load: blocks and their warmups
    margin: float = 0.02
    alpha: float = 0.05  # family-wise, over the metrics and the looks
    block_s: float = 2.0  # measured per block
    warmup_s: float = 0.5  # unmeasured, before each block
    seed: int = 0
    server_cpus: list[int] = field(default_factory=lambda: [0])
    client_cpus: list[int] = field(default_factory=lambda: [1])
    max_retries: int = 3  # a pair with a disturbed half measured again, at most this often in a row
    decide: bool = True  # False: measure the whole budget without stopping (bench/ab_power.py)
    app_dirs: tuple[Path, Path] | None = None  # the revisions' worktrees (baseline, candidate)
    revisions: tuple[str, str] | None = None

    @property
    def primary(self) -> str:
        """The metric 'the same' and 'faster' rest on: throughput with fixed users, p95 latency
        under a fixed rate (as a sweep's levels are decided, runner.config.load_model)."""
        return "p95" if self.model == "open" else "ok_rps"

    @property
    def pair_s(self) -> float:
        return 2 * (self.warmup_s + self.block_s)

    @property
    def max_pairs(self) -> int:
        return max(int(self.budget_s // self.pair_s), MIN_PAIRS)

    @property
    def looks(self) -> int:
        """Decisions the run may take: after every pair from the MIN_PAIRS-th to the last."""
        return self.max_pairs - MIN_PAIRS + 1

    @property
    def rule(self) -> SettlingRule:
        """alpha split over the metrics (confidence) and over the looks (SettlingRule.looks)."""
        from runner.analysis.settling import SettlingRule

        return SettlingRule(
            min_effect=self.margin,
            confidence=1 - self.alpha / len(METRICS),
            margin=self.margin,
            looks=self.looks,
        )

    def describe(self) -> dict[str, Any]:
        """The settings as stored in ab.json."""
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "revisions": list(self.revisions) if self.revisions else None,
            "server": self.server,
            "model": self.model,
            "level": self.level,
            "path": self.path,
            "budget_s": self.budget_s,
            "margin": self.margin,
            "alpha": self.alpha,
            "block_s": self.block_s,
            "warmup_s": self.warmup_s,
            "seed": self.seed,
            "server_cpus": self.server_cpus,
            "client_cpus": self.client_cpus,
        }


def parse_budget(text: str) -> float:
    """'5m', '90s', '300' (seconds), '1h' -> seconds."""
    found = _BUDGET.match(text.strip())
    if not found:
        raise UserError(f"--budget {text!r} is not a duration such as 90s, 5m or 1h.")
    value = float(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2) or "s"]
    if value <= 0:
        raise UserError(f"--budget {text!r} must be more than zero.")
    return value


def parse_margin(text: str) -> float:
    """'2%' or '0.02' -> 0.02; between 0.1% and 50%."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserError(f"--margin {text!r} is not a share such as 2% or 0.02.") from None
    if not (0.001 <= value <= 0.5) or math.isnan(value):
        raise UserError(f"--margin {text!r} must be between 0.1% and 50%.")
    return value
