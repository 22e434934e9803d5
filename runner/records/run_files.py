"""The files of a run directory (runner.records.store writes and reads them; see its docstring).

Their names alone, for the modules that look for a run without reading one (the CLI's cleanup
of a directory where no run started): runner.records.store imports the typed records.
"""

from __future__ import annotations

RUN_FILE = "run.json"
STEPS_FILE = "results.jsonl"
RESULTS_FILE = "results.json"
