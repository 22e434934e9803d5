"""The ceiling rules: throughput that stops rising from one level to the next while neither the
server nor k6 is near the limit of its cores. The server's own concurrency explains such a
ceiling (a property of the server, the step stays valid); only an unexplained one invalidates.

Little's law over the step's window: requests at the server (queued or in service) = throughput
x mean request duration. A server whose workers each hold one request until it is answered
(gunicorn sync, gthread threads) serves at most that many at once: when at least as many
requests were at the server, every worker was busy throughout, and each request held one for
workers / throughput seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.measure.validity.facts import Reason, StepFacts, ValiditySettings

# The ceiling rules judge only level steps this many times the minimum gain (see `ceiling`).
CEILING_LEVEL_STEP_FACTOR = 2.0

UNEXPLAINED_CEILING_RULE = (
    "Unexplained ceiling: invalid when throughput rose less than {ceiling_min_gain:.0%} from "
    "the previous level (one at least {ceiling_level_step:.0%} lower) while neither the server "
    "(its process tree, or the busy time of its cores) nor k6 used {near_limit:.0%} of its "
    "cores, and the server's concurrency does not explain it (see Explained ceiling)."
)
EXPLAINED_CEILING_RULE = (
    "Explained ceiling: such a ceiling is the server's own limit, and the step stays valid, when "
    "Little's law explains it: the server's workers each serve one request at a time (gunicorn "
    "sync: workers; gthread: workers x threads) and at least that many requests were at the "
    "server (throughput x mean request duration, within {littles_law_tolerance:.0%}), so every "
    "worker was busy throughout; or the requests at the server stopped growing (less than "
    "{ceiling_min_gain:.0%}) while the level rose. The reason names the limit."
)


@dataclass(frozen=True)
class Ceiling:
    """Throughput that stopped rising from the previous level with both sides below the limit."""

    gain: float
    server: float  # the busier of the server tree's CPU share and its cores' busy share
    client: float


def ceiling(
    facts: StepFacts, previous: StepFacts | None, settings: ValiditySettings
) -> Ceiling | None:
    """`previous` is the same target's step at the next lower level, if any."""
    if previous is None or previous.successful_rps <= 0 or previous.level <= 0:
        return None
    # A server with headroom turns a level twice the minimum gain higher into at least the
    # minimum gain; a smaller level step cannot be expected to.
    if facts.level / previous.level - 1.0 < CEILING_LEVEL_STEP_FACTOR * settings.ceiling_min_gain:
        return None
    gain = facts.successful_rps / previous.successful_rps - 1.0
    server, client = facts.server_busy_share, facts.client_cpu_share
    if gain >= settings.ceiling_min_gain or server is None or client is None:
        return None
    if max(server, client) >= settings.near_limit:
        return None  # a saturated server (or k6) explains the ceiling
    return Ceiling(gain, server, client)


def explanation(
    facts: StepFacts, previous: StepFacts, settings: ValiditySettings
) -> tuple[str, dict[str, float]] | None:
    """What limited the server, in words with its figures; None: nothing explains it."""
    return _workers_busy(facts, settings) or _flat_at_server(facts, previous, settings)


def _workers_busy(
    facts: StepFacts, settings: ValiditySettings
) -> tuple[str, dict[str, float]] | None:
    workers = facts.concurrency
    if not workers or facts.rps <= 0:
        return None
    if facts.at_server < workers * (1.0 - settings.littles_law_tolerance):
        return None  # some workers waited for requests: they were not the limit
    held_ms = workers / facts.rps * 1000.0
    noun = "request" if workers == 1 else "requests"
    text = (
        f"{workers:.1f} {noun} in service (Little's law: {facts.rps:,.1f} RPS x "
        f"{held_ms:,.1f} ms): the limit of {facts.concurrency_words}"
    )
    if facts.at_server > workers * (1.0 + settings.littles_law_tolerance):
        text += (
            f"; {facts.at_server:,.1f} requests at the server ({facts.rps:,.1f} RPS x "
            f"{facts.http_req_duration_avg_ms:,.1f} ms), the others waiting in its queue"
        )
    figures = {"in_service": float(workers), "held_ms": held_ms, "at_server": facts.at_server}
    return text, figures


def _flat_at_server(
    facts: StepFacts, previous: StepFacts, settings: ValiditySettings
) -> tuple[str, dict[str, float]] | None:
    before, now = previous.at_server, facts.at_server
    if before <= 0 or now / before - 1.0 >= settings.ceiling_min_gain:
        return None
    text = (
        f"{now:,.1f} requests in service (Little's law: {facts.rps:,.1f} RPS x "
        f"{facts.http_req_duration_avg_ms:,.1f} ms), {before:,.1f} at level {previous.level}: "
        f"they stopped growing while the level rose to {facts.level}, the server's own "
        "concurrency limit"
    )
    return text, {"in_service": now, "previous_in_service": before}


def unexplained_ceiling_reasons(
    facts: StepFacts, previous: StepFacts | None, settings: ValiditySettings
) -> list[Reason]:
    found = ceiling(facts, previous, settings)
    if found is None or previous is None or explanation(facts, previous, settings):
        return []
    other = max(facts.interference.values(), default=None)
    other_text = "not measured" if other is None else f"{other:.0%} of the busiest core set"
    text = (
        f"throughput rose {found.gain:+.1%} from level {previous.level} "
        f"({previous.successful_rps:,.0f} RPS) to {facts.level} ({facts.successful_rps:,.0f} RPS) "
        f"while the server used {found.server:.0%} of its cores and k6 {found.client:.0%} of its; "
        f"other work: {other_text}"
    )
    figures = {
        "gain": found.gain,
        "server_cpu_share": found.server,
        "client_cpu_share": found.client,
    }
    if other is not None:
        figures["interference"] = other
    return [Reason(code="unexplained_ceiling", text=text, figures=figures)]


def explained_ceiling_reasons(
    facts: StepFacts, previous: StepFacts | None, settings: ValiditySettings
) -> list[Reason]:
    found = ceiling(facts, previous, settings)
    explained = explanation(facts, previous, settings) if found and previous else None
    if found is None or explained is None:
        return []
    text, figures = explained
    figures = {"gain": found.gain, **figures}
    return [Reason(code="explained_ceiling", text=text, figures=figures, invalidates=False)]
