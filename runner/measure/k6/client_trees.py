"""The k6 instances of a split step, sampled as one client: their process trees summed.

The sampler tracks each instance as its own tree (`k6.1`, `k6.2`, ...; runner.measure.k6.segments).
The client-bound rule, the interference judged on the client cores and the step's k6 CPU all
read the tree `k6`, so a split step's `k6` series is the instances' sum, tick by tick: the
sampler reads every tree in the same tick at the same instant, so the ticks line up exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.measure.k6.segments import CLIENT_TREE
from runner.measure.sampler import TreeSampler
from runner.measure.usage import Sample

__all__ = ["combined_latest", "combined_series", "summed", "with_client_total"]


def combined_series(samples: dict[str, list[Sample]], names: Sequence[str]) -> list[Sample]:
    """The trees `names` as one: at every tick CPU, memory and processes summed. A tree tracked
    later, or gone, adds nothing to a tick it has no sample in, and its CPU seconds so far."""
    by_tree = [{sample.at: sample for sample in samples.get(name, [])} for name in names]
    cpu_seconds = [0.0] * len(by_tree)
    combined = []
    for at in sorted({at for tree in by_tree for at in tree}):
        present = []
        for index, tree in enumerate(by_tree):
            if at in tree:
                present.append(tree[at])
                cpu_seconds[index] = tree[at].cpu_seconds
        memory = [s.rss_mib for s in present if s.rss_mib is not None]
        combined.append(
            Sample(
                at=at,
                cpu_percent=sum(s.cpu_percent for s in present),
                rss_mib=sum(memory) if memory else None,
                processes=sum(s.processes for s in present),
                cpu_seconds=sum(cpu_seconds),
            )
        )
    return combined


def with_client_total(
    samples: dict[str, list[Sample]], names: Sequence[str]
) -> dict[str, list[Sample]]:
    """The samples with the instances' total as the `k6` tree (unchanged for one instance)."""
    if list(names) == [CLIENT_TREE]:
        return samples
    return {**samples, CLIENT_TREE: combined_series(samples, names)}


def combined_latest(sampler: TreeSampler, names: Sequence[str]) -> Sample | None:
    """The newest reading of the trees `names` together (the live view), None before any."""
    latest = [sample for name in names if (sample := sampler.latest(name)) is not None]
    if not latest:
        return None
    return summed(max(s.at for s in latest), latest)


def summed(at: float, present: Sequence[Sample]) -> Sample:
    """Readings of several trees as one at `at`: CPU, memory, processes and CPU seconds added."""
    memory = [s.rss_mib for s in present if s.rss_mib is not None]
    return Sample(
        at=at,
        cpu_percent=sum(s.cpu_percent for s in present),
        rss_mib=sum(memory) if memory else None,
        processes=sum(s.processes for s in present),
        cpu_seconds=sum(s.cpu_seconds for s in present),
    )
