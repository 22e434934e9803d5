"""Is a step's measurement to be believed? One verdict per step, with named reasons and figures.

Each rule is one pure function of the step's own figures (`StepFacts`, plus the previous level's
for the ceiling rule) and the thresholds (`ValiditySettings`, `validity:` in an experiment); the
rule's text sits next to it as a constant, so a report can print the rules it applied. All shares
are fractions (0.5 = 50%), of the window and of the cores named.

A reason either invalidates the step (the step's figures measured something other than the
server) or only says what the step cannot support or what limited it: too few requests for a
percentile withholds that percentile; a ceiling the server's concurrency explains, or a rate
the server could not hold, names the server's limit. The step's throughput still stands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from runner.measure.validity.ceiling import (
    CEILING_LEVEL_STEP_FACTOR,
    EXPLAINED_CEILING_RULE,
    UNEXPLAINED_CEILING_RULE,
    explained_ceiling_reasons,
    unexplained_ceiling_reasons,
)
from runner.measure.validity.facts import (
    Reason,
    ReasonCode,
    StepFacts,
    StepStalls,
    Validity,
    ValiditySettings,
)
from runner.measure.validity.open_rate import RATE_NOT_HELD_RULE, rate_not_held_reasons
from runner.measure.validity.rules import (
    CLIENT_BOUND_RULE,
    INCONSISTENT_LOAD_RULE,
    INTERFERENCE_RULE,
    STEAL_FLOOR_RULE,
    STEAL_RULE,
    ceiling_share,
    client_bound_reasons,
    inconsistent_load_reasons,
    interference_reasons,
    steal_reasons,
)
from runner.measure.validity.samples import (
    TOO_FEW_SAMPLES_RULE,
    percentile_allowed,
    percentile_name,
    requests_needed,
    too_few_samples_reasons,
    withheld_cell,
)
from runner.measure.validity.stalls import (
    STALL_TIME_RULE,
    STALLED_TAIL_RULE,
    TAIL_REACH,
    stall_time_reasons,
    stalled_percentiles,
    stalled_tail_reasons,
)

__all__ = [
    "RULES",
    "Reason",
    "ReasonCode",
    "StepFacts",
    "StepStalls",
    "Validity",
    "ValiditySettings",
    "ceiling_share",
    "client_bound_reasons",
    "explained_ceiling_reasons",
    "floor_words",
    "inconsistent_load_reasons",
    "interference_reasons",
    "judge_step",
    "percentile_allowed",
    "percentile_name",
    "rate_not_held_reasons",
    "requests_needed",
    "rule_texts",
    "steal_reasons",
    "too_few_samples_reasons",
    "unexplained_ceiling_reasons",
    "withheld_cell",
    "withheld_percentiles",
]


# A rule's check: the step's facts, the previous level's (only the ceiling rule reads them).
Check = Callable[[StepFacts, StepFacts | None, ValiditySettings], list[Reason]]


class Rule(NamedTuple):
    code: ReasonCode
    text: str
    check: Check


def _own(check: Callable[[StepFacts, ValiditySettings], list[Reason]]) -> Check:
    """A rule that reads the step's own figures only."""
    return lambda facts, _previous, settings: check(facts, settings)


# Every rule, once, in the order a step's reasons are listed and the report prints the rules.
_RULES: tuple[Rule, ...] = (
    Rule("interference", INTERFERENCE_RULE, _own(interference_reasons)),
    Rule("steal", STEAL_RULE, _own(steal_reasons)),
    Rule("client_bound", CLIENT_BOUND_RULE, _own(client_bound_reasons)),
    Rule("inconsistent_load", INCONSISTENT_LOAD_RULE, _own(inconsistent_load_reasons)),
    Rule("rate_not_held", RATE_NOT_HELD_RULE, _own(rate_not_held_reasons)),
    Rule("unexplained_ceiling", UNEXPLAINED_CEILING_RULE, unexplained_ceiling_reasons),
    Rule("explained_ceiling", EXPLAINED_CEILING_RULE, explained_ceiling_reasons),
    Rule("too_few_samples", TOO_FEW_SAMPLES_RULE, _own(too_few_samples_reasons)),
    Rule("stalls", STALL_TIME_RULE, _own(stall_time_reasons)),
    Rule("stalls", STALLED_TAIL_RULE, _own(stalled_tail_reasons)),
)
# Each code's rule text; a code with two rules ("stalls": invalid, or only its tail withheld)
# has both texts, in order.
RULES: dict[ReasonCode, str] = {}
for _rule in _RULES:
    RULES[_rule.code] = f"{RULES[_rule.code]} {_rule.text}" if _rule.code in RULES else _rule.text


def rule_texts(
    settings: ValiditySettings, steal_floor: Mapping[int, float] | None = None
) -> dict[ReasonCode, str]:
    """Every rule with the thresholds in force, for the report's list of rules; the steal rule
    names this machine's idle floor when the run measured one."""
    values = {
        **settings.model_dump(),
        "ceiling_level_step": CEILING_LEVEL_STEP_FACTOR * settings.ceiling_min_gain,
        "p99": requests_needed(0.99, settings.samples_per_tail),
        "p999": requests_needed(0.999, settings.samples_per_tail),
        "tail_reach": TAIL_REACH,
        "steal_floor": floor_words(steal_floor or {}),
    }
    texts: dict[ReasonCode, str] = dict(RULES)
    if steal_floor is not None:
        texts["steal"] = STEAL_FLOOR_RULE
    return {code: text.format(**values) for code, text in texts.items()}


def floor_words(floor: Mapping[int, float]) -> str:
    """'3.1% on core 0, 2.5% on core 1'."""
    return ", ".join(f"{share:.1%} on core {core}" for core, share in sorted(floor.items()))


def judge_step(
    facts: StepFacts,
    settings: ValiditySettings | None = None,
    previous: StepFacts | None = None,
) -> Validity:
    """The step's verdict: every rule applied; valid unless a reason invalidates it."""
    settings = settings or ValiditySettings()
    reasons = [reason for rule in _RULES for reason in rule.check(facts, previous, settings)]
    return Validity(
        valid=not any(r.invalidates for r in reasons),
        reasons=reasons,
        measured=measured_shares(facts),
    )


def measured_shares(facts: StepFacts) -> dict[str, float]:
    """Other work (steal included) and steal per role, and the server's cores' busy time, as
    shares of the window."""
    busy = facts.server_core_busy_share
    return {
        **{f"{role}_interference": share for role, share in facts.interference.items()},
        **{f"{role}_steal": share for role, share in facts.steal.items()},
        **({"server_cores_busy": busy} if busy is not None else {}),
    }


def withheld_percentiles(validity: Validity) -> dict[float, str]:
    """Percentile (fraction) -> why its cell stays empty: too few requests for it, or a tail
    the platform's stalls explain."""
    return {
        **stalled_percentiles(validity.reasons),
        **{
            r.figures["percentile"]: r.text for r in validity.reasons if r.code == "too_few_samples"
        },
    }
