"""The rules that can invalidate a step: one pure function each, its text beside it (the
ceiling rules are in runner.measure.validity.ceiling, the open model's rate in open_rate)."""

from __future__ import annotations

from collections.abc import Mapping

from runner.measure.steal_floor import MOST_STEAL_FLOOR, RECENT_STEPS
from runner.measure.validity.facts import Reason, StepFacts, ValiditySettings
from runner.measure.validity.open_rate import server_could_not_hold, target_rate

INTERFERENCE_RULE = (
    "Interference: invalid when work other than the server tree, k6 and the runner (the "
    "hypervisor's steal included, less the steal floor the steal rule allows) took more than "
    "{max_interference:.0%} of the server's or k6's cores over the window."
)


def interference_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    reasons = []
    for role, share in sorted(facts.interference.items()):
        allowed = floor_steal_share(facts, role)
        if share - allowed <= settings.max_interference:
            continue
        # One decimal: "took 10% (limit 10%)" would not say why it is over.
        less = f", {share - allowed:.1%} beyond the steal floor" if allowed >= 0.0005 else ""
        text = (
            f"other work (steal included) took {share:.1%} of the {role} cores{less} "
            f"(limit {settings.max_interference:.0%})"
        )
        figures = {f"{role}_interference": share, "limit": settings.max_interference}
        if allowed > 0:
            figures["floor_steal"] = allowed
        reasons.append(Reason(code="interference", text=text, figures=figures))
    return reasons


def floor_steal_share(facts: StepFacts, role: str) -> float:
    """The steal a role's cores met up to their floor, as a share of those cores: the
    machine's state the steal rule allows (runner.measure.recent_steal), not other work."""
    cores = facts.steal_by_core.get(role, {})
    if facts.steal_floor is None or not cores:
        return 0.0
    floor = facts.steal_floor
    return sum(min(floor.get(core, 0.0), share) for core, share in cores.items()) / len(cores)


STEAL_RULE = "Steal: invalid when the hypervisor took more than {max_steal:.0%} of any core."
# With this machine's idle floor measured at the run's start (runner.measure.steal_floor), raised
# to the steal the last steps met (runner.measure.recent_steal).
STEAL_FLOOR_RULE = (
    "Steal: invalid when the hypervisor took more than {max_steal:.0%} of a core above its "
    "floor: this machine's idle steal (measured at the run's start: {steal_floor}), or the "
    f"median steal of the last {RECENT_STEPS} steps when higher, at most {MOST_STEAL_FLOOR:.0%} "
    "(steal every recent step met is the machine's state; the report names the steps measured "
    "in it)."
)


def steal_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    if facts.steal_floor is not None and facts.steal_by_core:
        return _steal_above_floor(facts, facts.steal_floor, settings)
    return [
        Reason(
            code="steal",
            text=f"steal took {share:.1%} of a {role} core (limit {settings.max_steal:.0%})",
            figures={f"{role}_steal": share, "limit": settings.max_steal},
        )
        for role, share in sorted(facts.steal.items())
        if share > settings.max_steal
    ]


def _steal_above_floor(
    facts: StepFacts, floor: Mapping[int, float], settings: ValiditySettings
) -> list[Reason]:
    """Each core whose steal rose more than max_steal above its floor (0 for a core not read)."""
    reasons = []
    for role, cores in sorted(facts.steal_by_core.items()):
        for core, share in sorted(cores.items()):
            idle = floor.get(core, 0.0)
            if share - idle <= settings.max_steal:
                continue
            text = (
                f"steal took {share:.1%} of {role} core {core}, {share - idle:.1%} above its "
                f"{facts.steal_floor_words} of {idle:.1%} (limit {settings.max_steal:.0%} above it)"
            )
            figures = {f"{role}_steal": share, "core": float(core), "floor": idle}
            reasons.append(
                Reason(code="steal", text=text, figures={**figures, "limit": settings.max_steal})
            )
    return reasons


CLIENT_BOUND_RULE = (
    "Client-bound: invalid when k6 used {client_cpu_limit:.0%} of its cores or more, or the "
    "throughput reached {client_ceiling_share:.0%} of k6's measured ceiling."
)


def ceiling_share(facts: StepFacts) -> float | None:
    """The step's throughput as a share of k6's measured ceiling, if one was measured."""
    if not facts.client_ceiling_rps:
        return None
    return facts.rps / facts.client_ceiling_rps


def client_bound_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    findings, figures = [], {}
    cpu = facts.client_cpu_share
    if cpu is not None and cpu >= settings.client_cpu_limit:
        findings.append(f"k6 used {cpu:.0%} of its cores")
        figures["client_cpu_share"] = cpu
    share = ceiling_share(facts)
    if share is not None and share >= settings.client_ceiling_share:
        findings.append(
            f"{facts.rps:,.0f} RPS is {share:.0%} of k6's ceiling "
            f"({facts.client_ceiling_rps:,.0f} RPS)"
        )
        figures["ceiling_share"] = share
    if not findings:
        return []
    text = " and ".join(findings) + ": the step measured k6, not the server"
    return [Reason(code="client_bound", text=text, figures=figures)]


INCONSISTENT_LOAD_RULE = (
    "Inconsistent load: closed model, invalid when throughput x mean iteration time (Little's "
    "law) falls more than {littles_law_tolerance:.0%} short of the virtual users, or exceeds them "
    "by more than that plus the warmup's carry-over (its users finish their last request inside "
    "the window: at most mean iteration time / window); open model, when "
    "the achieved rate is below {open_rate_floor:.0%} of the target or iterations were dropped "
    "because k6 itself was short (a server that could not hold the rate: see Rate not held)."
)


def inconsistent_load_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    if facts.model == "closed":
        return _littles_law_reasons(facts, settings)
    return _open_rate_reasons(facts, settings)


def _littles_law_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    # Iteration time with the iteration rate when k6 gave them (a script may send several
    # requests per iteration, or sleep); else each request is taken as one iteration.
    mean_ms = facts.iteration_duration_avg_ms or facts.http_req_duration_avg_ms
    rate = facts.rps
    if facts.iteration_duration_avg_ms and facts.iterations_per_s is not None:
        rate = facts.iterations_per_s
    implied_vus = rate * mean_ms / 1000.0
    off_by = implied_vus / facts.level - 1.0 if facts.level else 0.0
    if (
        -settings.littles_law_tolerance
        <= off_by
        <= settings.littles_law_tolerance + _carry_over(facts, mean_ms)
    ):
        return []
    text = (
        f"{facts.level} virtual users but {rate:,.1f}/s x {mean_ms:,.2f} ms = "
        f"{implied_vus:,.1f} busy on average ({off_by:+.0%}): "
        + (
            "k6 did not keep its users busy"
            if off_by < 0
            else "more requests in flight than users, beyond the warmup's carry-over"
        )
    )
    figures = {"vus": float(facts.level), "implied_vus": implied_vus, "off_by": off_by}
    return [Reason(code="inconsistent_load", text=text, figures=figures)]


def _carry_over(facts: StepFacts, mean_ms: float) -> float:
    """How far the warmup's last requests, still in flight when the window opens, can lift the
    window's busy users: up to one mean iteration each, over the window (the k6 options let
    warmup users finish their request, runner.measure.k6.options)."""
    if not facts.window_s:
        return 0.0
    return mean_ms / 1000.0 / facts.window_s


def _open_rate_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    if server_could_not_hold(facts, settings):
        return []  # the server's result, not k6's: the rate-not-held rule names it
    target = target_rate(facts)
    reasons = []
    if target > 0 and facts.rps < settings.open_rate_floor * target:
        reasons.append(
            Reason(
                code="inconsistent_load",
                text=f"achieved {facts.rps:,.1f} RPS of the {target:,.0f} asked "
                f"({facts.rps / target:.1%}; floor {settings.open_rate_floor:.0%})",
                figures={"achieved_rps": facts.rps, "target_rps": target},
            )
        )
    if facts.dropped_iterations:
        reasons.append(
            Reason(
                code="inconsistent_load",
                text=f"k6 dropped {facts.dropped_iterations:,} iterations {_k6_short(facts, settings)}",
                figures={"dropped_iterations": float(facts.dropped_iterations)},
            )
        )
    return reasons


def _k6_short(facts: StepFacts, settings: ValiditySettings) -> str:
    """Why dropped iterations are k6's shortfall, not the server's (validity.open_rate)."""
    cpu = facts.client_cpu_share
    if cpu is None:
        return "and k6's CPU was not measured: the server cannot be shown to be the cause"
    if cpu >= settings.client_cpu_limit:
        return (
            f"while k6 used {cpu:.0%} of its cores (limit {settings.client_cpu_limit:.0%}): "
            "k6 could not keep the rate"
        )
    busy = f"{facts.at_server:,.1f} of {facts.max_vus:,}" if facts.max_vus else "some"
    return (
        f"while its virtual users were free ({busy} busy on average, none started beyond those "
        "preallocated): k6 could not keep the rate"
    )
