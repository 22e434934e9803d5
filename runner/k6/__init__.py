"""The k6 driver: the binary, a step's options, the script contract, the process, its summary.

Modules, in the order they build on each other:
  binary   find_k6, k6_version
  options  a step's scenarios (warmup, then measure), thresholds, trend statistics
  script   the script contract (STANDARD_SCRIPT, the SWEEPBENCH_* environment), `k6 inspect`
  process  run_k6: one k6 process for a step, stopped when its server dies
  summary  parse_summary: the measured window's figures
  live     live numbers from k6's REST API for the progress display; stopping a test
"""

from runner.k6.binary import find_k6, k6_version
from runner.k6.live import LiveNumbers, LiveView, live_feed, read_metrics, stop_test
from runner.k6.options import options_for_step, step_options
from runner.k6.process import K6Run, run_k6
from runner.k6.script import STANDARD_SCRIPT, check_script, resolve_script, step_env
from runner.k6.summary import K6Metrics, parse_summary

__all__ = [
    "STANDARD_SCRIPT",
    "K6Metrics",
    "K6Run",
    "LiveNumbers",
    "LiveView",
    "check_script",
    "find_k6",
    "k6_version",
    "live_feed",
    "options_for_step",
    "parse_summary",
    "read_metrics",
    "resolve_script",
    "run_k6",
    "step_env",
    "step_options",
    "stop_test",
]
