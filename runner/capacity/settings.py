"""What the capacity search makes of an experiment's `load.capacity` (`CapacitySettings`, in
runner.config.experiment.capacity): its objective, early-stop rule and search configuration."""

from __future__ import annotations

from runner.capacity.early_stop import EarlyStopRule
from runner.capacity.objective import Objective
from runner.capacity.search_config import SearchConfig
from runner.config.experiment.base import parse_duration
from runner.config.experiment.capacity import CapacitySettings

__all__ = ["early_stop_rule_of", "objective_of", "search_config_of"]


def objective_of(settings: CapacitySettings) -> Objective:
    """The latency objective a rate must sustain."""
    return Objective(settings.percentile, settings.latency_ms, settings.max_error_rate)


def early_stop_rule_of(settings: CapacitySettings) -> EarlyStopRule | None:
    """The early-stop rule, None when early stop is off."""
    return EarlyStopRule() if settings.early_stop else None


def search_config_of(settings: CapacitySettings, trial_overhead_s: float = 0.0) -> SearchConfig:
    """The search's configuration; `trial_overhead_s` (warm-up, start-up) counts against
    the budget on every trial."""
    return SearchConfig(
        objective=objective_of(settings),
        start_rate=settings.start_rate,
        min_rate=settings.min_rate,
        max_rate=settings.max_rate,
        budget_s=parse_duration(settings.budget),
        short_s=parse_duration(settings.short_trial),
        long_s=parse_duration(settings.long_trial),
        confirmation_s=parse_duration(settings.confirmation),
        precision=settings.precision,
        trial_overhead_s=trial_overhead_s,
        noise_prior=settings.noise,
    )
