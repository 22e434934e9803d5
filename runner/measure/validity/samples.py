"""Enough requests for a percentile? A tail percentile from a handful of requests is one
request's latency, not a property of the server."""

from __future__ import annotations

import math

from runner.measure.validity.facts import Reason, StepFacts, ValiditySettings

TOO_FEW_SAMPLES_RULE = (
    "Too few samples: percentile p is printed only from {samples_per_tail:g} / (1 - p) "
    "requests (p99 from {p99:,}, p99.9 from {p999:,}); the step stays valid."
)


def percentile_name(p: float) -> str:
    return f"p{p * 100:g}"


def requests_needed(p: float, samples_per_tail: float = 10.0) -> int:
    """Requests a step needs before its percentile p (a fraction) is printed."""
    # Rounded first: 10 / (1 - 0.99) is 1000.0000000000001 in floating point.
    return math.ceil(round(samples_per_tail / (1.0 - p), 6))


def percentile_allowed(p: float, requests: int, samples_per_tail: float = 10.0) -> str | None:
    """None when `requests` support percentile p; otherwise why the cell stays empty."""
    needed = requests_needed(p, samples_per_tail)
    if requests >= needed:
        return None
    return f"{percentile_name(p)} needs {needed:,} requests; the step has {requests:,}"


def too_few_samples_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    reasons = []
    for p in sorted(settings.percentiles):
        why = percentile_allowed(p, facts.requests, settings.samples_per_tail)
        if why is not None:
            figures = {
                "percentile": p,
                "requests": float(facts.requests),
                "needed": float(requests_needed(p, settings.samples_per_tail)),
            }
            reasons.append(
                Reason(code="too_few_samples", text=why, figures=figures, invalidates=False)
            )
    return reasons


# A percentile's cell when the step has too few requests for it, with how many it has and needs.
WITHHELD = "too few"


def withheld_cell(p: float, requests: int | None, samples_per_tail: float = 10.0) -> str | None:
    """What a report cell of percentile p says instead of a value when `requests` (a step's,
    or the fewest of a cell's repetitions) are too few for it; None: print the value."""
    needed = requests_needed(p, samples_per_tail)
    if requests is None or requests >= needed:
        return None
    return f"{WITHHELD} ({requests:,} < {needed:,} requests)"
