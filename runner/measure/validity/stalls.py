"""The platform's own stalls (runner.measure.stalls) in a step's verdict: two rules, one code.

A stall of S ms on the server's core delays every request in flight by up to S ms, whatever the
server does. When the longest stall is a good part of the step's p99 and the stalls touched
enough of the window to reach the 1% tail, the tail is the platform's: p99 and beyond are
withheld from latency verdicts while the step (its throughput) stands. When stalls took more
than `max_stall_share` of any measured core's time, the step measured the platform: invalid,
a passing cause, so measuring it again may give a clean step.
"""

from __future__ import annotations

from runner.measure.validity.facts import Reason, StepFacts, ValiditySettings

# The percentiles a stalled tail withholds (fractions): p99 and beyond.
STALLED_PERCENTILES = (0.99, 0.999, 0.9999)
# The share of the window stalls must touch to reach the p99 tail: 1 - 0.99.
TAIL_REACH = 1.0 - STALLED_PERCENTILES[0]

STALLED_TAIL_RULE = (
    "Stalled tail: the step's p99 and beyond are the platform's, withheld from latency verdicts "
    "(the step stays valid), when the stall probe's longest stall on the server's cores is at "
    "least {stall_tail_share:.0%} of the step's p99 and the stalls, with the requests in flight "
    "during them (mean latency each), touched at least {tail_reach:.0%} of the window."
)
STALL_TIME_RULE = (
    "Stalls: invalid when the stall probe counted more than {max_stall_share:.0%} of the window "
    "late on any measured core (the platform, not the server, held the core)."
)


def stalled_tail_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    stalls, p99 = facts.stalls, facts.p99_ms
    if stalls is None or not p99 or not stalls.server_cores or stalls.window_s <= 0:
        return []
    server = {core: stalls.max_ms.get(core, 0.0) for core in stalls.server_cores}
    core, longest = max(sorted(server.items()), key=lambda item: item[1])
    if longest < settings.stall_tail_share * p99:
        return []
    # Requests in flight during a stall are delayed by it: each stall reaches its own length
    # plus a mean request's latency of the window.
    late_ms = sum(stalls.total_late_ms.get(c, 0.0) for c in stalls.server_cores)
    wakes = sum(stalls.late_wakes.get(c, 0) for c in stalls.server_cores)
    reach = (late_ms + wakes * facts.http_req_duration_avg_ms) / (stalls.window_s * 1000)
    if reach < TAIL_REACH:
        return []
    text = (
        f"p99 {p99:,.1f} ms: the platform stalled up to {longest:,.1f} ms on core {core} during "
        f"the step (probe every {stalls.interval_ms:g} ms); p99 and beyond are withheld"
    )
    figures = {"p99_ms": p99, "stall_max_ms": longest, "core": float(core), "reach": reach}
    return [Reason(code="stalls", text=text, figures=figures, invalidates=False)]


def stall_time_reasons(facts: StepFacts, settings: ValiditySettings) -> list[Reason]:
    stalls = facts.stalls
    if stalls is None or stalls.window_s <= 0:
        return []
    window_ms = stalls.window_s * 1000
    reasons = []
    for core, late_ms in sorted(stalls.total_late_ms.items()):
        share = late_ms / window_ms
        if share <= settings.max_stall_share:
            continue
        text = (
            f"the platform stalled core {core} for {late_ms:,.0f} ms in all, {share:.1%} of "
            f"the window (limit {settings.max_stall_share:.0%})"
        )
        figures = {"core": float(core), "stall_share": share, "limit": settings.max_stall_share}
        reasons.append(Reason(code="stalls", text=text, figures=figures))
    return reasons


def stalled_percentiles(reasons: list[Reason]) -> dict[float, str]:
    """Percentile (fraction) -> why it is withheld, for a step whose tail is the platform's."""
    tail = [r for r in reasons if r.code == "stalls" and not r.invalidates]
    return {p: tail[0].text for p in STALLED_PERCENTILES} if tail else {}
