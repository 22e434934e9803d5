"""The thresholds of the rules that judge each step (`validity:`, `ValiditySettings`); the
rules themselves are in runner.measure.validity. Shares are fractions (0.5 = 50%)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ValiditySettings"]


class ValiditySettings(BaseModel):
    """Thresholds of the validity rules."""

    model_config = ConfigDict(extra="forbid")

    max_interference: float = Field(
        default=0.10, ge=0.0, le=1.0,
        description="Most CPU time that other work may take on the server's or k6's cores, as a "
        "share of the window x those cores.",
    )  # fmt: skip
    max_steal: float = Field(
        default=0.02, ge=0.0, le=1.0,
        description="Most steal time (the hypervisor running someone else) on any one core, "
        "as a share of the window.",
    )  # fmt: skip
    client_cpu_limit: float = Field(
        default=0.90, ge=0.0, le=1.0,
        description="k6 using this share of its cores or more makes the step client-bound.",
    )  # fmt: skip
    client_ceiling_share: float = Field(
        default=0.90, ge=0.0, le=1.0,
        description="Throughput at this share of k6's measured ceiling (against a minimal "
        "responder) or more makes the step client-bound.",
    )  # fmt: skip
    littles_law_tolerance: float = Field(
        default=0.10, ge=0.0,
        description="Closed model: how far virtual users may be from throughput x mean "
        "iteration time (Little's law), relative.",
    )  # fmt: skip
    open_rate_floor: float = Field(
        default=0.99, ge=0.0, le=1.0,
        description="Open model: the achieved rate must be at least this share of the target.",
    )  # fmt: skip
    ceiling_min_gain: float = Field(
        default=0.05, ge=0.0,
        description="Throughput rising less than this from the previous level is a ceiling.",
    )  # fmt: skip
    near_limit: float = Field(
        default=0.80, ge=0.0, le=1.0,
        description="A ceiling is explained when the server or k6 uses this share of its "
        "cores or more.",
    )  # fmt: skip
    samples_per_tail: float = Field(
        default=10.0, gt=0.0,
        description="Percentile p is printed from samples_per_tail / (1 - p) requests: p99 "
        "needs 1,000 and p99.9 10,000 at the default 10.",
    )  # fmt: skip
    stall_tail_share: float = Field(
        default=0.5, gt=0.0,
        description="A step's tail latency (p99 and beyond) is marked the platform's, and not "
        "used for latency verdicts, when the stall probe's longest stall on the server's cores "
        "is at least this share of the step's p99 (the step stays valid).",
    )  # fmt: skip
    max_stall_share: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="Most time late the stall probe may count on any measured core, as a "
        "share of the window: beyond it the platform stalled the step, which is invalid.",
    )  # fmt: skip
    percentiles: list[float] = Field(
        default_factory=lambda: [0.5, 0.9, 0.95, 0.99, 0.999],
        description="The latency percentiles the reports print, as fractions.",
    )
    measure_ceiling: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="k6's ceiling against a minimal responder (runner.measure.ceiling): 'auto' "
        "measures it once per machine, k6 version and pinning and reuses the cached figure; "
        "'always' measures it before this run; 'never' judges without it.",
    )
