"""Capacity at a latency objective: an adaptive search for the highest sustainable arrival rate.

- objective: the objective, one trial's outcome, and the verdict on it (TRIAL_RULE);
- trials: trial plans, judged trials, each rate's settlement;
- search: the search itself (SEARCH_RULE, CONFIDENCE_RULE), pure and deterministic;
- run: `CapacitySearch` (records trials) and `run_search` (a whole search and its confirmation);
- result: the capacity, its bracket and confidence, and why the search stopped;
- early_stop: when a running trial has clearly broken its objective (EARLY_STOP_RULE);
- settings: `CapacitySettings`, the experiment's `load.capacity` block.
"""
