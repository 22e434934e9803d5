"""Which steps a verdict may use: valid ones only. Invalid steps stay in the results and the
step tables, but no cell, verdict or finding is drawn from them, and each verdict names the ones
it left out and why (their validity reasons)."""

from __future__ import annotations

from collections.abc import Iterable

from runner.config.load_model import LoadModel
from runner.measure.validity.facts import PASSING_CAUSES
from runner.records.results import StepKey, StepResult

# How a reason reads in a list of left-out steps ("client_bound" -> "client-bound").
REASON_WORDS = {"client_bound": "client-bound"}


def valid_for_verdicts(step: StepResult) -> bool:
    """A step counts towards verdicts unless judged invalid; steps of runs from before
    validity was judged (validity None) count."""
    return step.validity is None or step.validity.valid


def disturbed(step: StepResult) -> bool:
    """Invalid, with a cause that passes by itself (PASSING_CAUSES) among its reasons: worth
    another attempt. Its other reasons do not matter, since the disturbance may explain them (a
    busy core also flattens throughput: an unexplained ceiling); a step invalid without a
    passing cause would be invalid again."""
    if step.validity is None or step.validity.valid:
        return False
    return any(r.invalidates and r.code in PASSING_CAUSES for r in step.validity.reasons)


def one_attempt_per_key(steps: Iterable[StepResult]) -> list[StepResult]:
    """Each step once: its first valid attempt, else its last (a step measured again after a
    disturbance, `retry:`, is stored once per attempt). Every attempt stays in the step tables."""
    chosen: dict[StepKey, StepResult] = {}
    for step in sorted(steps, key=lambda s: s.attempt):
        kept = chosen.get(step.key)
        if kept is None or not valid_for_verdicts(kept):
            chosen[step.key] = step
    return list(chosen.values())


def invalid_reasons(step: StepResult) -> list[str]:
    """The reasons that invalidate the step, in words ('client-bound', 'interference')."""
    if step.validity is None:
        return []
    codes = dict.fromkeys(r.code for r in step.validity.reasons if r.invalidates)
    return [REASON_WORDS.get(code, code.replace("_", " ")) for code in codes]


def describe_step(step: StepResult, model: LoadModel) -> str:
    """'FastAPI c=20 rep 1 (client-bound)'."""
    why = ", ".join(invalid_reasons(step)) or "invalid"
    return f"{step.label} {model.level_text(step.level)} rep {step.repetition} ({why})"


def left_out_text(steps: Iterable[StepResult], model: LoadModel) -> str:
    """'2 steps left out as invalid: ...' for the invalid ones among `steps`; '' when none."""
    invalid = sorted(
        (s for s in steps if not valid_for_verdicts(s)),
        key=lambda s: s.key,
    )
    if not invalid:
        return ""
    noun = "step" if len(invalid) == 1 else "steps"
    listing = ", ".join(describe_step(s, model) for s in invalid)
    return f"{len(invalid)} {noun} left out as invalid: {listing}"


def with_left_out(text: str, steps: Iterable[StepResult], model: LoadModel) -> str:
    """A verdict's text followed by the steps it left out, if any."""
    note = left_out_text(steps, model)
    return f"{text}; {note}" if note else text
