"""Can two runs be compared at all? Refusals (exit status 2) with the reason, before any figure.

Only complete runs are compared, and only runs of the same design: the keys of the experiment
that decide what was measured (DESIGN_KEYS). Repetitions may differ (the decision needs enough of
them on each side anyway), and so may the report, sampler and runner settings and the labels.
The kind of host each run was measured on (CPU model, cores, memory: runner.records.host_kind) is part of
the design too, under the key `host`: figures from different hardware are not a regression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import EXIT_BAD_INPUT, UserError
from runner.records.host_kind import kind_of
from runner.records.results import RunRecord

# The experiment keys that decide what is measured: a difference under any of them changes the
# question, so it is refused unless allowed.
DESIGN_KEYS = (
    "targets",
    "sweep",
    "load",
    "scenario",
    "database",
    "pinning",
    "restart_between_repetitions",
)
# Keys under DESIGN_KEYS that only name or describe (the last part of the key).
COSMETIC_KEYS = ("label", "description")
# The design difference of runs measured on different kinds of host (`--allow-difference host`).
HOST_KEY = "host"


class Refused(UserError):
    """The two runs cannot be compared; the message says why (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_BAD_INPUT)


@dataclass(frozen=True)
class Difference:
    key: str
    baseline: Any
    candidate: Any

    def describe(self) -> str:
        return f"{self.key}: baseline {self.baseline!r}, candidate {self.candidate!r}"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping | list):
        flat: dict[str, Any] = {}
        items = data.items() if isinstance(data, Mapping) else enumerate(data)
        for key, value in items:
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}


def _design(record: RunRecord) -> dict[str, Any]:
    dumped = record.experiment.model_dump(mode="json", by_alias=True)
    flat = _flatten({key: dumped.get(key) for key in DESIGN_KEYS})
    return {k: v for k, v in flat.items() if k.rsplit(".", 1)[-1] not in COSMETIC_KEYS}


def design_differences(baseline: RunRecord, candidate: RunRecord) -> list[Difference]:
    before, after = _design(baseline), _design(candidate)
    found = [
        Difference(key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    host = host_difference(baseline, candidate)
    return found if host is None else [host, *found]


def host_difference(baseline: RunRecord, candidate: RunRecord) -> Difference | None:
    """Runs measured on different kinds of host; None when either run did not record its host
    (runs from before machines were recorded cannot be told apart)."""
    machines = baseline.provenance.machine, candidate.provenance.machine
    if machines[0] is None or machines[1] is None:
        return None
    kinds = kind_of(machines[0]), kind_of(machines[1])
    if kinds[0].same_as(kinds[1]):
        return None
    return Difference(HOST_KEY, kinds[0].describe(), kinds[1].describe())


def is_allowed(key: str, allowed: Iterable[str]) -> bool:
    """`targets.fastapi` allows `targets.fastapi.workers` and everything else under it."""
    return any(key == a or key.startswith(f"{a}.") for a in allowed)


def _completeness(name: str, record: RunRecord) -> str | None:
    if not record.complete:
        return (
            f"the {name} is incomplete: the run stopped before its last step "
            f"({len(record.steps)} step(s) stored); finish it with runner.resume=<run dir>"
        )
    return None


def _baseline_gaps(record: RunRecord) -> str | None:
    """A baseline must have measured every planned target and level."""
    measured = {(s.target, s.level) for s in record.steps}
    planned = [(t, lv) for t in record.experiment.targets for lv in record.experiment.levels()]
    missing = [f"{t} at {lv}" for t, lv in planned if (t, lv) not in measured]
    if not missing:
        return None
    return (
        f"the baseline is partial: {len(missing)} planned target/level(s) were never measured "
        f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})"
    )


def check_comparable(
    baseline: RunRecord, candidate: RunRecord, allowed: Iterable[str] = ()
) -> list[Difference]:
    """Raise Refused unless the runs can be compared; returns the allowed differences."""
    allowed = list(allowed)
    problems = [
        p
        for p in (
            _completeness("baseline", baseline),
            _completeness("candidate", candidate),
            _baseline_gaps(baseline),
        )
        if p
    ]
    differences = design_differences(baseline, candidate)
    refused = [d for d in differences if not is_allowed(d.key, allowed)]
    if refused:
        listing = "; ".join(d.describe() for d in refused[:10])
        more = f" (and {len(refused) - 10} more)" if len(refused) > 10 else ""
        problems.append(
            f"the design differs: {listing}{more}. If a difference is intended, name it with "
            "--allow-difference KEY"
        )
    if problems:
        raise Refused("Refused to compare: " + "; ".join(problems) + ".")
    return [d for d in differences if is_allowed(d.key, allowed)]
