"""Kinds of host: runs measured on different hardware are not a like-for-like comparison.

A kind is what decides the figures a host can produce: its CPU model, its logical and physical
cores and its memory. The hostname is not part of it: two nodes of one cluster partition are
the same kind, and a matrix whose jobs ran on them may name a winner. Memory is compared with a
tolerance, since identical nodes report slightly different totals (firmware and kernel
reservations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.records.results import Machine

# Identical nodes differ by a few hundred MiB of reserved memory; different memory sizes differ
# by far more than this.
MEMORY_TOLERANCE = 0.05


@dataclass(frozen=True)
class HostKind:
    cpu_model: str
    logical_cores: int | None
    physical_cores: int | None
    memory_gib: float | None

    def same_as(self, other: HostKind) -> bool:
        cores = (self.cpu_model, self.logical_cores, self.physical_cores)
        if cores != (other.cpu_model, other.logical_cores, other.physical_cores):
            return False
        return _same_memory(self.memory_gib, other.memory_gib)

    def describe(self) -> str:
        """'Intel Xeon ..., 2 logical / 1 physical cores, 7.8 GiB'."""
        logical = "?" if self.logical_cores is None else str(self.logical_cores)
        physical = "?" if self.physical_cores is None else str(self.physical_cores)
        memory = "? GiB" if self.memory_gib is None else f"{self.memory_gib:g} GiB"
        return f"{self.cpu_model}, {logical} logical / {physical} physical cores, {memory}"


def _same_memory(first: float | None, second: float | None) -> bool:
    if first is None or second is None:
        return first == second
    return abs(first - second) <= MEMORY_TOLERANCE * max(first, second)


def kind_of(machine: Machine | None) -> HostKind:
    """The kind of the host a run's provenance recorded (all unknown for a run without one)."""
    found = machine or Machine()
    return HostKind(found.cpu_model, found.logical_cores, found.physical_cores, found.memory_gib)


def host_name(machine: Machine | None) -> str:
    return (machine.hostname if machine else None) or "unknown"


def group_kinds(kinds: Sequence[HostKind]) -> list[int]:
    """Per entry, the index of its kind among the distinct kinds, in order of first appearance."""
    distinct: list[HostKind] = []
    indices = []
    for kind in kinds:
        match = next((i for i, seen in enumerate(distinct) if seen.same_as(kind)), None)
        if match is None:
            distinct.append(kind)
            match = len(distinct) - 1
        indices.append(match)
    return indices


def kind_letter(index: int) -> str:
    """Kinds are named A, B, ... Z, then K27, K28, ... (a matrix rarely spans many kinds)."""
    return chr(ord("A") + index) if index < 26 else f"K{index + 1}"


CROSS_HOST_RULE = (
    "Jobs are compared only on the same kind of host (the same CPU model, logical and physical "
    f"cores, and memory within {MEMORY_TOLERANCE:.0%}; the hostname does not count)."
)


def cross_host_rule(allowed: bool) -> str:
    """The rule as the reports print it beside the comparison it governs."""
    if allowed:
        return (
            f"{CROSS_HOST_RULE} Here `report.compare_across_hosts` is true: jobs on different "
            "kinds of host are ranked together, and a highest job across them is named with a note."
        )
    return (
        f"{CROSS_HOST_RULE} Across kinds no highest job is named: a difference there may be the "
        "hardware's, not the configuration's (set `report.compare_across_hosts=true` to rank "
        "them together anyway)."
    )
