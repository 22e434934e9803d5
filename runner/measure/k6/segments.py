"""Splitting one step's load over several k6 processes with k6 execution segments.

k6 divides every scenario of a test between the segments of one sequence: instance i of N runs
`--execution-segment i/N:(i+1)/N` of `--execution-segment-sequence 0,1/N,...,1`, and gets that
share of the virtual users (closed model) or of the arrival rate and its virtual users (open
model); together the instances run exactly the whole test. Each instance is its own k6 process
with its own files, summary and REST API port, so an instance can run wherever its command runs
(a later list of k6 hosts would give each instance a host; nothing here assumes loopback).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Segment", "segments", "tree_names"]

# The sampler's tree for the one k6 of an unsplit step (runner.measure.step, runner.measure.judging).
CLIENT_TREE = "k6"


@dataclass(frozen=True)
class Segment:
    """One instance's part of a split step: instance `index` (from 0) of `count`."""

    index: int
    count: int

    @property
    def number(self) -> int:
        """1-based, as the instance is named in files, records and messages."""
        return self.index + 1

    @property
    def share(self) -> Fraction:
        return Fraction(1, self.count)

    @property
    def segment(self) -> str:
        """`--execution-segment`: e.g. `1/2:1` (k6 writes 0 and 1 as plain numbers)."""
        return f"{_fraction(self.index, self.count)}:{_fraction(self.index + 1, self.count)}"

    @property
    def sequence(self) -> str:
        """`--execution-segment-sequence`: e.g. `0,1/2,1`, the same for every instance."""
        return ",".join(_fraction(i, self.count) for i in range(self.count + 1))

    def k6_args(self) -> list[str]:
        """The k6 run arguments that select this segment; none for an unsplit step."""
        if self.count == 1:
            return []
        return ["--execution-segment", self.segment, "--execution-segment-sequence", self.sequence]

    @property
    def tree(self) -> str:
        """The sampler's name for this instance's process tree: `k6` unsplit, else `k6.1`..."""
        return CLIENT_TREE if self.count == 1 else f"{CLIENT_TREE}.{self.number}"


def _fraction(numerator: int, denominator: int) -> str:
    value = Fraction(numerator, denominator)
    return str(value.numerator) if value.denominator == 1 else f"{value}"


def segments(count: int) -> list[Segment]:
    """The `count` segments that together make the whole test."""
    if count < 1:
        raise ValueError(f"a step needs at least one k6 instance, not {count}")
    return [Segment(index, count) for index in range(count)]


def tree_names(count: int) -> list[str]:
    """The sampler trees of a step's k6 instances."""
    return [segment.tree for segment in segments(count)]
