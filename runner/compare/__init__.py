"""`python -m runner.compare BASELINE CANDIDATE`: a regression gate for CI.

It compares two runs of the same experiment, cell by cell (target x level), on successful
throughput, error rate, p95 and p99 latency, using valid steps only (invalid ones are left out
and named), and decides with runner.analysis.significance: Welch's t-test on log values per comparison,
Holm-corrected across every target, level and metric at once, so the chance of any false alarm
in a compare stays at `--alpha`. A regression needs at least `--min-repetitions` (3) valid
repetitions a side; fewer, or noise wider than the threshold, is "inconclusive", never a pass.

Before comparing it refuses runs it cannot judge: a run that stopped before its last step, a
baseline with steps missing, or two runs whose design (targets, levels, load model, durations,
scenario, database, pinning) or kind of host (CPU model, cores, memory) differs, unless each
difference is named as intended with `--allow-difference KEY` (e.g. `targets.fastapi.workers`;
a key allows everything under it; `host` allows runs from different kinds of host).
A target or level of the baseline that the candidate did not measure is a failure, not skipped.

Exit status:
  0  no regression (every comparison "no change" or "improvement")
  1  a regression, or a target or level of the baseline missing from the candidate
  2  refused or bad input (not a run, incomplete or partial run, design differs)
  3  inconclusive (too few valid repetitions, or noise wider than the threshold)
"""

from runner.compare.design import DESIGN_KEYS, Difference, Refused, check_comparable
from runner.compare.gate import GateResult, Missing, compare

__all__ = [
    "DESIGN_KEYS",
    "Difference",
    "GateResult",
    "Missing",
    "Refused",
    "check_comparable",
    "compare",
]
