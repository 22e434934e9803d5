"""The k6 driver: the binary, a step's options, the script contract, the process, its summary.

Modules, in the order they build on each other:
  binary   find_k6, k6_version
  options  a step's scenarios (warmup, then measure), thresholds, trend statistics
  script   the script contract (STANDARD_SCRIPT, the SWEEPBENCH_* environment), `k6 inspect`
  segments execution segments: one instance's share of a step split over several k6
  process  k6_command (argv and files), run_k6 / run_k6_instances: k6 processes for a step,
           stopped when its server dies
  summary  parse_summary: the measured window's figures
  raw      the measured window's request durations in k6's raw CSV samples
  merge    a split step's figures from its instances: counts summed, pooled percentiles
  split    step_instances, run_instances, SplitRun: a step's k6 instance(s), read as one
  client_trees  the instances' sampled process trees as one client
  live     live numbers from k6's REST API (merged over instances) for the progress display;
           stopping a test

The names below are imported on first use (PEP 562): a dry run needs the binary and the script,
not numpy (split, merge, raw) nor the live view. `segments` is both a module and a function of
it, so it is imported now: a later import of the module would otherwise shadow the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.lazy import lazy_names
from runner.measure.k6.segments import Segment, segments

if TYPE_CHECKING:
    from runner.measure.k6.binary import find_k6, k6_version
    from runner.measure.k6.live import (
        LiveNumbers,
        LiveView,
        live_feed,
        read_merged_metrics,
        read_metrics,
        stop_test,
        stop_tests,
    )
    from runner.measure.k6.options import options_for_step, step_options
    from runner.measure.k6.process import (
        K6Command,
        K6Run,
        k6_command,
        run_k6,
        run_k6_instances,
        spawn_without_user_settings,
    )
    from runner.measure.k6.script import STANDARD_SCRIPT, check_script, resolve_script, step_env
    from runner.measure.k6.split import (
        Instance,
        K6Failed,
        SplitRun,
        run_instances,
        step_instances,
    )
    from runner.measure.k6.summary import K6Metrics, parse_summary


__all__ = [
    "STANDARD_SCRIPT",
    "Instance",
    "K6Command",
    "K6Failed",
    "K6Metrics",
    "K6Run",
    "LiveNumbers",
    "LiveView",
    "Segment",
    "SplitRun",
    "check_script",
    "find_k6",
    "k6_command",
    "k6_version",
    "live_feed",
    "options_for_step",
    "parse_summary",
    "read_merged_metrics",
    "read_metrics",
    "resolve_script",
    "run_instances",
    "run_k6",
    "run_k6_instances",
    "segments",
    "spawn_without_user_settings",
    "step_env",
    "step_instances",
    "step_options",
    "stop_test",
    "stop_tests",
]


__getattr__, __dir__ = lazy_names(__name__, __file__, __all__)
