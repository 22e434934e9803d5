"""k6's raw samples (`--out csv=FILE`): the measured window's request durations, one per request.

A split step's latency spectrum is computed from these, concatenated over its instances
(runner.measure.k6.merge): a percentile of the whole step cannot be had from the instances' own
percentiles. The measured window is exactly the summary's: the samples tagged
`scenario=measure` (a warmup request still in flight when the window opens stays `warmup`).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["RAW_FILE", "measured_durations", "read_measured_durations"]

# Each instance's raw output, beside its summary. k6 gzips it (the name's `.gz`): about a dozen
# rows per request, some 1.5 kB uncompressed, a twentieth of that compressed.
RAW_FILE = "k6-samples.csv.gz"
DURATION_METRIC = "http_req_duration"
MEASURE_SCENARIO = "measure"


def measured_durations(rows: Iterable[list[str]]) -> npt.NDArray[np.float64]:
    """The `http_req_duration` values (ms) of the measured window, from k6's CSV rows (the first
    row its header)."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return np.empty(0)
    name, value, scenario = (
        header.index(column) for column in ("metric_name", "metric_value", "scenario")
    )
    found = [
        float(row[value])
        for row in iterator
        if row[name] == DURATION_METRIC and row[scenario] == MEASURE_SCENARIO
    ]
    return np.asarray(found, dtype=np.float64)


def read_measured_durations(path: Path) -> npt.NDArray[np.float64]:
    """The measured window's request durations (ms) in one instance's raw CSV file (gzipped if
    its name ends in `.gz`)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", newline="") as compressed:
            return measured_durations(csv.reader(compressed))
    with path.open(newline="") as stream:
        return measured_durations(csv.reader(stream))
