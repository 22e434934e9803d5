"""The headline every report opens with: what the run found, then the caveats that matter.

In the spirit of hyperfine's "A ran 3.70 ± 0.05 times faster than B": the leader's deciding
figure as a multiple of the runner-up's, over every level when the answer holds at every level,
else level by level; then how sure it is (provisional with one run, steps left out as invalid,
targets not ranked). Every number comes from the Analysis (runner.analysis.answers), every
sentence from those numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import groupby

from runner.analysis import Analysis
from runner.analysis import formatting as fmt
from runner.analysis.answers import Bound, LevelAnswer, Outcome, level_answers
from runner.analysis.floors import figure_text
from runner.analysis.left_out import invalid_reasons
from runner.analysis.significance import confidence_text
from runner.analysis.steal_spell import SpellSteps
from runner.analysis.verdicts import winner_metric


def headline(analysis: Analysis) -> list[str]:
    """One to two lines: the answer, then its caveats (if any) as one sentence."""
    answers = level_answers(analysis)
    lines = [_answer_line(analysis, answers)]
    caveats = _caveats(analysis, answers)
    if caveats:
        lines.append(_sentence(caveats))
    return lines


# --- the answer --------------------------------------------------------------------------------


def _key(answer: LevelAnswer) -> tuple[object, ...]:
    """Levels with the same key read as one stretch of the answer."""
    leader = answer.leader.target if answer.leader else None
    runner_up = answer.runner_up.target if answer.runner_up else None
    return answer.outcome, leader, runner_up, answer.bound


def _groups(answers: list[LevelAnswer]) -> list[list[LevelAnswer]]:
    return [list(group) for _, group in groupby(answers, key=_key)]


def _answer_line(analysis: Analysis, answers: list[LevelAnswer]) -> str:
    ranked = [a for a in answers if a.outcome is not Outcome.EMPTY]
    if not ranked:
        return "No target has a valid step: there is nothing to rank."
    groups = _groups(ranked)
    if len(groups) == 1:
        group = groups[0]
        return f"{_stretch(analysis, group)} {_where(analysis, group)}."
    if _one_leader(groups):
        return _one_leader_line(analysis, groups)
    return "; ".join(f"{_levels(analysis, g)}: {_stretch(analysis, g)}" for g in groups) + "."


def _one_leader(groups: list[list[LevelAnswer]]) -> bool:
    """The same target won every level ranked, only the runner-up changed."""
    firsts = [g[0] for g in groups]
    return (
        all(a.outcome is Outcome.WON and a.bound is firsts[0].bound for a in firsts)
        and firsts[0].bound is not Bound.UNKNOWN
        and len({a.leader.target for a in firsts if a.leader}) == 1
        and all(a.ratio is not None for g in groups for a in g)
    )


def _one_leader_line(analysis: Analysis, groups: list[list[LevelAnswer]]) -> str:
    answers = [a for g in groups for a in g]
    first = answers[0]
    assert first.leader is not None
    runner_ups = ", ".join(
        f"{analysis.labels[g[0].runner_up.target]} at {_levels(analysis, g)}"
        for g in groups
        if g[0].runner_up is not None
    )
    won = _won(analysis, analysis.labels[first.leader.target], "the runner-up", first.bound)
    return f"{won(_times(analysis, answers))} {_where(analysis, answers)}: {runner_ups}."


def _won(analysis: Analysis, leader: str, runner_up: str, bound: Bound) -> Callable[[str], str]:
    """The sentence of a win, given the ratio's text: the deciding figure's words."""
    at = "" if bound is Bound.EXACT else f"{bound.value} "
    if analysis.model.higher_is_better:
        return lambda times: f"{leader} served {at}{times} the successful RPS of {runner_up}"
    possessive = runner_up if runner_up.startswith("the ") else f"{runner_up}'s"
    return lambda times: f"{leader}'s p95 latency was {at}{times} {possessive}"


def _where(analysis: Analysis, group: list[LevelAnswer]) -> str:
    levels = [a.level for a in group]
    if len(levels) == 1:
        return f"at {analysis.model.level_words(levels[0])}"
    span = f"{fmt.count(levels[0])}-{fmt.count(levels[-1])} {analysis.level_unit}"
    if group[0].outcome is Outcome.ALONE and _others_unmeasured(analysis, group):
        return f"at {span}"
    every = "at every level" if levels == analysis.levels else "at every level ranked"
    return f"{every} ({span})"


def _levels(analysis: Analysis, group: list[LevelAnswer]) -> str:
    """'c=20', 'c=10-30', '500 RPS', '500-1000 RPS' (as the load model writes a level)."""
    first, last = group[0].level, group[-1].level
    if first == last:
        return analysis.model.level_text(first)
    return analysis.model.level_text(last).replace(str(last), f"{first}-{last}", 1)


def _stretch(analysis: Analysis, group: list[LevelAnswer]) -> str:
    """What a stretch of levels with one outcome found, without where."""
    first = group[0]
    leader = analysis.labels[first.leader.target] if first.leader else ""
    if first.outcome is Outcome.ALONE:
        if len(analysis.targets) == 1:
            return _alone(analysis, group, leader)
        measured = "was measured" if _others_unmeasured(analysis, group) else "has a valid step"
        return f"only {leader} {measured}"
    assert first.runner_up is not None  # WON, TIED and CANNOT_RANK rank two
    runner_up = analysis.labels[first.runner_up.target]
    if first.outcome is Outcome.CANNOT_RANK:
        pair = " and ".join(
            f"{analysis.labels[c.target]} {figure_text(c).removeprefix(c.label).strip()}"
            for c in (first.leader, first.runner_up)
            if c
        )
        return f"cannot rank {pair}: k6, not the server, set a floor"
    if first.outcome is Outcome.TIED:
        return _tie(analysis, group, leader, runner_up)
    if any(a.ratio is None for a in group) or first.bound is Bound.UNKNOWN:
        why = "both reached k6's limit" if first.bound is Bound.UNKNOWN else "a figure of 0"
        return f"{leader} won over {runner_up} by a ratio the figures cannot give ({why})"
    return _won(analysis, leader, runner_up, first.bound)(_times(analysis, group))


def _alone(analysis: Analysis, group: list[LevelAnswer], leader: str) -> str:
    """The one target of an experiment: its deciding figure over the stretch, as measured."""
    values = [winner_metric(a.leader, analysis.model).median for a in group if a.leader]
    low, high = min(values), max(values)
    if analysis.model.higher_is_better:
        span = fmt.rps(low) if fmt.rps(low) == fmt.rps(high) else f"{fmt.rps(low)}-{fmt.rps(high)}"
        return f"{leader} served {span} successful RPS"
    span = fmt.ms(low) if fmt.ms(low) == fmt.ms(high) else f"{fmt.ms(low)}-{fmt.ms(high)}"
    return f"{leader}'s p95 latency was {span} ms"


def _others_unmeasured(analysis: Analysis, group: list[LevelAnswer]) -> bool:
    """No other target has a step at these levels: never measured (a run stopped early, a
    target that failed to start), not measured and found invalid."""
    leader = group[0].leader
    others = [t for t in analysis.targets if leader is None or t != leader.target]
    return bool(others) and not any(a.unranked for a in group)


def _times(analysis: Analysis, group: list[LevelAnswer]) -> str:
    """'2.72x', '2.72-4.95x', with the ratios' confidence intervals when all have one."""
    ratios = [a.ratio for a in group if a.ratio is not None]
    values = [r.value for r in ratios]
    text = _span(min(values), max(values))
    lows = [r.low for r in ratios if r.low is not None]
    highs = [r.high for r in ratios if r.high is not None]
    if len(lows) < len(ratios) or len(highs) < len(ratios):
        return text
    level = confidence_text(1 - analysis.settings.confidence)
    intervals = "CI" if len(ratios) == 1 else "CIs within"
    return f"{text} ({level} {intervals} {_span(min(lows), max(highs))})"


def _span(low: float, high: float) -> str:
    if fmt.ratio(low) == fmt.ratio(high):
        return fmt.ratio(low)
    return f"{fmt.ratio(low, times=False)}-{fmt.ratio(high)}"


def _tie(analysis: Analysis, group: list[LevelAnswer], leader: str, runner_up: str) -> str:
    ratios = [a.ratio for a in group if a.ratio is not None]
    reach = fmt.change(max((r.spread_from_one() for r in ratios), default=0.0), signed=False)
    if ratios and all(r.has_interval for r in ratios):
        return (
            f"no significant difference between {leader} and {runner_up} (the same within "
            f"±{reach}, {confidence_text(1 - analysis.settings.confidence)} CI)"
        )
    need = fmt.setting_percent(analysis.settings.min_effect)
    return (
        f"no clear difference between {leader} and {runner_up} ({leader} ahead by at most "
        f"{reach}, under the {need} a win needs)"
    )


# --- the caveats -------------------------------------------------------------------------------


def _caveats(analysis: Analysis, answers: list[LevelAnswer]) -> list[str]:
    found = [
        _stopped_early(analysis),
        _provisional(analysis, answers),
        _left_out(analysis),
        _no_valid_step(analysis, answers),
        _unranked(analysis, answers),
        _not_measured(analysis),
        _steal_spell(analysis),
    ]
    return [caveat for caveat in found if caveat]


def _stopped_early(analysis: Analysis) -> str:
    if not analysis.stopped_early:
        return ""
    return f"partial: the run stopped after {fmt.count(analysis.step_count)} steps, before its last"


def _provisional(analysis: Analysis, answers: list[LevelAnswer]) -> str:
    provisional = [a for a in answers if a.provisional]
    if not provisional:
        return ""
    if len(provisional) == len(answers) and all(c.runs == 1 for c in analysis.cells.values()):
        return "provisional: 1 run per level, so run-to-run noise is unmeasured"
    where = ", ".join(analysis.model.level_text(a.level) for a in provisional)
    return f"provisional at {where}: fewer than 2 valid runs a side"


def _left_out(analysis: Analysis) -> str:
    if not analysis.left_out:
        return ""
    reasons = Counter(r for s in analysis.left_out for r in invalid_reasons(s) or ["invalid"])
    why = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
    count, total = len(analysis.left_out), analysis.step_count
    return f"{fmt.count(count)} of {fmt.count(total)} steps left out as invalid ({why})"


def _no_valid_step(analysis: Analysis, answers: list[LevelAnswer]) -> str:
    empty = [a.level for a in answers if a.outcome is Outcome.EMPTY and a.unranked]
    if not empty or len(empty) == len(answers):  # none ranked: the answer says so
        return ""
    return "no valid step at " + ", ".join(analysis.model.level_text(lv) for lv in empty)


def _unranked(analysis: Analysis, answers: list[LevelAnswer]) -> str:
    """Targets left out of a level's ranking: the winner there won without them."""
    where: dict[str, list[str]] = {}
    for answer in answers:
        if answer.outcome is Outcome.EMPTY:
            continue
        for target in answer.unranked:
            where.setdefault(target, []).append(analysis.model.level_text(answer.level))
    if not where:
        return ""
    listed = "; ".join(f"{analysis.labels[t]} at {', '.join(lv)}" for t, lv in where.items())
    return f"not ranked where it had no valid step: {listed}"


def _not_measured(analysis: Analysis) -> str:
    measured = {target for target, _ in analysis.measured}
    missing = [analysis.labels[t] for t in analysis.targets if t not in measured]
    return f"not measured: {', '.join(missing)}" if missing else ""


def _steal_spell(analysis: Analysis) -> str:
    """Valid steps that met more steal than the idle floor allows (runner.analysis.steal_spell)."""
    if not analysis.steal_spell:
        return ""
    allowance = f"{analysis.validity.max_steal:.0%}"
    listed = ", ".join(_spell_text(analysis.labels[s.target], s) for s in analysis.steal_spell)
    return (
        f"measured in a steal spell (a core's steal over the idle floor by more than "
        f"{allowance}, judged against the last steps' steal): {listed}; the hypervisor took "
        "that share of the core from the server or k6"
    )


def _spell_text(label: str, spell: SpellSteps) -> str:
    """'FastAPI 2 steps up to 6.8%', 'Django WSGI 1 step at 3.5% on k6's core'."""
    steps = f"{fmt.count(spell.steps)} step{'s' if spell.steps > 1 else ''}"
    share = f"{'up to' if spell.steps > 1 else 'at'} {spell.highest:.1%}"
    where = "" if spell.on_server else " on k6's core"
    return f"{label} {steps} {share}{where}"


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
