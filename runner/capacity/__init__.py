"""Capacity at a latency objective: an adaptive search for the highest sustainable arrival rate.

- objective: the objective, one trial's outcome, and the verdict on it (TRIAL_RULE);
- trials: trial plans, judged trials, each rate's settlement;
- search_config: `SearchConfig` and the rules in words (SEARCH_RULE, CONFIDENCE_RULE);
- search: the search's decisions, pure and deterministic;
- run: `CapacitySearch` (records trials) and `run_search` (a whole search and its confirmation);
- result: the capacity, its bracket and confidence, and why the search stopped;
- early_stop: when a running trial has clearly broken its objective (EARLY_STOP_RULE);
- settings: `CapacitySettings`, the experiment's `load.capacity` block;
- watch: a trial's live feed (a latency histogram from k6's REST API) and its early stop;
- trial: one trial with real k6, an open-model step judged by the step validity rules;
- settle: after a failed trial, wait until the server has worked off its backlog;
- driver: a target's search with real k6, each trial stored as it ends (runner.run.sweep calls it).

The reports' Capacity section (rules, tables, charts) is runner.report.capacity: it reads the
stored record, as every report section does.
"""
