"""Open model: a rate the server could not hold is the server's result, not a bad step.

Under k6's arrival-rate executor each virtual user waits for its response, so the users busy on
average are the requests in flight (Little's law: throughput x mean request duration). k6 drops
an iteration when no user is free to start it. Dropped iterations with every allowed user busy
mean the server was slow; a rate missed while k6 had CPU and users to spare is the server's too.
Only when k6 itself was short (its CPU at the client-bound limit, or iterations dropped while
users sat idle) is the step an inconsistent load.

The window's mean in flight understates a queue that grows through a short step (responses of
0.5 ms at first, 200 ms at the end average 30 ms), so k6's own word counts too: it starts virtual
users beyond those preallocated only when every one is busy (k6 `vus_max`).
"""

from __future__ import annotations

from runner.measure.validity.facts import Reason, StepFacts, ValiditySettings

RATE_NOT_HELD_RULE = (
    "Rate not held: open model, a step below {open_rate_floor:.0%} of its rate or with dropped "
    'iterations is the server\'s result, valid and marked "could not hold the rate", when k6 '
    "had CPU to spare (below {client_cpu_limit:.0%} of its cores) and did not drop iterations "
    "while its virtual users were free (k6 had to start users beyond those preallocated, or "
    "throughput x mean request duration is within {littles_law_tolerance:.0%} of the "
    "virtual-user cap, or no iteration dropped); otherwise it is an inconsistent load."
)


def target_rate(facts: StepFacts) -> float:
    return facts.target_rps if facts.target_rps is not None else float(facts.level)


def rate_missed(facts: StepFacts, settings: ValiditySettings) -> bool:
    target = target_rate(facts)
    below = target > 0 and facts.rps < settings.open_rate_floor * target
    return below or bool(facts.dropped_iterations)


def users_all_waiting(facts: StepFacts, settings: ValiditySettings) -> bool | None:
    """Were all of k6's users waiting for the server at some point? None: not known."""
    if users_added(facts):
        return True
    if not facts.max_vus:
        return None
    return facts.at_server >= facts.max_vus * (1.0 - settings.littles_law_tolerance)


def users_added(facts: StepFacts) -> int:
    """Virtual users k6 started beyond those preallocated: it does only when all are busy."""
    if facts.vus_initialised is None or not facts.vus_preallocated:
        return 0
    return max(0, facts.vus_initialised - facts.vus_preallocated)


def k6_was_short(facts: StepFacts, settings: ValiditySettings) -> bool:
    """k6 itself could not keep the rate: at its CPU limit, not measured, or dropping
    iterations while its users were free (or their cap unknown)."""
    cpu = facts.client_cpu_share
    if cpu is None or cpu >= settings.client_cpu_limit:
        return True
    return bool(facts.dropped_iterations) and not users_all_waiting(facts, settings)


def server_could_not_hold(facts: StepFacts, settings: ValiditySettings) -> bool:
    """Open model: the rate was missed and the server, not k6, is why."""
    if facts.model != "open" or not rate_missed(facts, settings):
        return False
    return not k6_was_short(facts, settings)


def rate_not_held_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    if not server_could_not_hold(facts, settings):
        return []
    target = target_rate(facts)
    p99 = "" if facts.p99_ms is None else f", p99 {facts.p99_ms:,.1f} ms"
    dropped = facts.dropped_iterations or 0
    text = f"could not hold the rate: achieved {facts.rps:,.1f} of {target:,.0f} RPS{p99}"
    if dropped:
        text += f"; {dropped:,} iterations dropped: {_all_busy(facts)}"
    figures = {"achieved_rps": facts.rps, "target_rps": target, "dropped_iterations": dropped}
    if facts.p99_ms is not None:
        figures["p99_ms"] = facts.p99_ms
    return [Reason(code="rate_not_held", text=text, figures=figures, invalidates=False)]


def _all_busy(facts: StepFacts) -> str:
    added = users_added(facts)
    if added:
        return (
            f"all {facts.vus_preallocated:,} preallocated virtual users were waiting for the "
            f"server and k6 started {added:,} more"
        )
    return f"all {facts.max_vus or 0:,} allowed virtual users were waiting for the server"
