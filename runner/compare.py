"""`python -m runner.compare RUN_A RUN_B`: what changed from run A to run B, and is it a regression.

Per target and level: the change in median throughput, p95 and p99, each with a Welch t-test
p-value when both runs have two or more repetitions. A regression is a throughput drop beyond
`--threshold` or a p95/p99 rise beyond `--latency-threshold`, and, where repetitions allow a test,
significant at p < 0.05. The exit status is 1 when a regression is found, so it can gate CI.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from runner.analysis import Analysis, Spread, analyze, welch_p_value
from runner.errors import UserError
from runner.report import formatting as fmt
from runner.store import RUN_FILE, STEPS_FILE, load_run

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Change:
    metric: str
    before: float
    after: float
    p_value: float | None
    higher_is_better: bool
    threshold: float

    @property
    def relative(self) -> float:
        return self.after / self.before - 1 if self.before else 0.0

    @property
    def regression(self) -> bool:
        worse = -self.relative if self.higher_is_better else self.relative
        significant = self.p_value is None or self.p_value < SIGNIFICANCE
        return worse > self.threshold and significant

    def describe(self) -> str:
        p_text = (
            f", {fmt.p_value(self.p_value)}" if self.p_value is not None else ", 1 run: untested"
        )
        shown = fmt.rps if self.metric == "RPS" else fmt.ms
        before, after = shown(self.before), shown(self.after)
        return f"{self.metric} {before} -> {after} ({fmt.change(self.relative)}{p_text})"


def _change(metric: str, a: Spread, b: Spread, higher_is_better: bool, threshold: float) -> Change:
    p_value = welch_p_value(a.values, b.values) if a.n >= 2 and b.n >= 2 else None
    return Change(metric, a.median, b.median, p_value, higher_is_better, threshold)


def compare(
    before: Analysis, after: Analysis, threshold: float, latency_threshold: float
) -> list[tuple[str, int, list[Change]]]:
    rows = []
    for (target, level), a in sorted(before.cells.items()):
        b = after.cell(target, level)
        if b is None:
            continue
        changes = [
            _change("RPS", a.rps, b.rps, True, threshold),
            _change("p95 ms", a.p95, b.p95, False, latency_threshold),
            _change("p99 ms", a.p99, b.p99, False, latency_threshold),
        ]
        rows.append((target, level, changes))
    return rows


def _load(path: Path) -> Analysis:
    missing = [name for name in (RUN_FILE, STEPS_FILE) if not (path / name).is_file()]
    if missing:
        raise SystemExit(
            f"error: {path} is not a sweepbench run directory (missing {', '.join(missing)})."
        )
    try:
        return analyze(load_run(path))
    except UserError as error:  # a schema this version cannot read
        raise SystemExit(f"error: {path}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.compare", description=__doc__)
    parser.add_argument("run_a", type=Path, help="the baseline run directory")
    parser.add_argument("run_b", type=Path, help="the run to check against it")
    parser.add_argument(
        "--threshold", type=float, default=0.05, help="throughput drop (default 0.05)"
    )
    parser.add_argument(
        "--latency-threshold", type=float, default=0.10, help="p95/p99 rise (default 0.10)"
    )
    args = parser.parse_args(argv)
    try:
        before, after = _load(args.run_a), _load(args.run_b)
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    rows = compare(before, after, args.threshold, args.latency_threshold)
    if not rows:
        print("error: the two runs share no target and level to compare.", file=sys.stderr)
        return 2
    regressions = 0
    for target, level, changes in rows:
        flagged = [c for c in changes if c.regression]
        regressions += len(flagged)
        status = "REGRESSION" if flagged else "ok"
        details = "; ".join(c.describe() for c in changes)
        print(f"{status:10} {target} at {fmt.count(level)}: {details}")
    print(
        f"{regressions} regression(s) beyond {fmt.setting_percent(args.threshold)} throughput / "
        f"{fmt.setting_percent(args.latency_threshold)} latency (significance p < {SIGNIFICANCE} "
        "where repetitions allow)."
    )
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
