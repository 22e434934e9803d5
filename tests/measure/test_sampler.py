"""The tree sampler on real processes: children that start late are found and their CPU counted."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from runner.measure.sampler import TREE_REFRESH_S, TreeSampler
from runner.measure.usage import summarize

# A parent that, after a pause, forks a child which keeps one core busy for 3 s (the sampler
# watches for the first 2.3 s).
LATE_WORKER = """
import os, time
time.sleep(0.3)
if os.fork() == 0:
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        pass
    os._exit(0)
os.wait()
"""


# No server, but it keeps a core busy for 3 s and measures CPU shares: load, so it waits its turn.
@pytest.mark.slow
def test_a_child_forked_after_sampling_began_is_sampled() -> None:
    parent = subprocess.Popen([sys.executable, "-c", LATE_WORKER])
    try:
        with TreeSampler({"server": parent.pid}, 0.1, memory_interval_s=0.5) as sampler:
            time.sleep(0.3 + TREE_REFRESH_S + 1.0)
    finally:
        parent.wait(timeout=30)
    samples = sampler.samples["server"]
    assert samples[0].processes == 1
    assert max(s.processes for s in samples) == 2
    late = summarize(samples, samples[-1].at - 0.8, samples[-1].at)
    assert late is not None
    assert late.cpu_percent.avg > 60  # the busy child, counted in the tree's CPU
    assert late.uss_mib is not None and late.uss_mib.max <= late.memory_mib.max
