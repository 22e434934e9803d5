"""What an A/B run says: the console lines, the Markdown summary for a pull request, and ab.json
(the settings, the random assignment, every block and pair, the decision)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from runner.ab.decision import EXIT_STATUS, Verdict, rule_text
from runner.ab.session import AbRun
from runner.ab.settings import METRIC_LABELS, METRICS
from runner.analysis import formatting as fmt

HEADLINES: dict[Verdict, str] = {
    "slower": "The candidate is **slower**",
    "faster": "The candidate is **faster**",
    "same": "The candidate is **the same** within the margin",
    "inconclusive": "**Inconclusive** at the budget",
    "continue": "**Inconclusive** at the budget",
    "refused": "**Refused**",
}


def verdict(run: AbRun) -> Verdict:
    if run.refused:
        return "refused"
    decision = run.decision
    if decision is None or decision.verdict == "continue":
        return "inconclusive"
    return decision.verdict


def exit_status(run: AbRun) -> int:
    return EXIT_STATUS[verdict(run)]


def _names(run: AbRun) -> tuple[str, str]:
    s = run.settings
    if s.revisions:
        return f"{s.baseline} @ {s.revisions[0]}", f"{s.candidate} @ {s.revisions[1]}"
    return s.baseline, s.candidate


def _retried(run: AbRun) -> int:
    return sum(1 for block in run.blocks if block.attempt > 1)


def _facts(run: AbRun) -> list[str]:
    s = run.settings
    share = run.load_s / run.measure_wall_s if run.measure_wall_s else 0.0
    level = f"{s.level} RPS offered (open model)" if s.model == "open" else f"{s.level} users"
    return [
        f"{len(run.pairs)} ABBA pairs used ({_retried(run)} block(s) measured again after a "
        f"disturbance), {s.block_s:g} s measured per block after a {s.warmup_s:g} s warmup",
        f"load {run.load_s:.0f} s of a {s.budget_s:.0f} s budget; {run.wall_s:.0f} s wall in all, "
        f"load {share:.0%} of the measuring time",
        f"{s.server} on core(s) {fmt.number_list(s.server_cpus)}, k6 on core(s) "
        f"{fmt.number_list(s.client_cpus)}, GET {s.path} at {level}; seed {s.seed} "
        f"({run.assignment['first']} first)",
    ]


def _metric_rows(run: AbRun) -> list[tuple[str, str, str, str]]:
    decision = run.decision
    rows = []
    for metric in METRICS:
        settling = decision.metrics.get(metric) if decision else None
        if settling is None:
            rows.append((METRIC_LABELS[metric], "-", "-", "too few pairs"))
            continue
        interval = f"{settling.low:.4f} to {settling.high:.4f}"
        rows.append((METRIC_LABELS[metric], f"{settling.ratio:.4f}", interval, settling.state))
    return rows


def console_lines(run: AbRun) -> list[str]:
    baseline, candidate = _names(run)
    lines = [f"{HEADLINES[verdict(run)].replace('**', '')}: {candidate} against {baseline}."]
    if run.refused:
        return [*lines, run.refused]
    if run.decision:
        lines.append(f"Rests on: {run.decision.because}.")
    for label, ratio, interval, state in _metric_rows(run):
        lines.append(f"  {label:<22} ratio {ratio:<7} interval {interval:<18} {state}")
    lines += [f"  {fact}." for fact in _facts(run)]
    lines.append(f"Rule: {rule_text(run.settings)}")
    return lines


def markdown(run: AbRun) -> str:
    baseline, candidate = _names(run)
    head = f"### sweepbench A/B: {HEADLINES[verdict(run)]}\n\n"
    head += f"Candidate `{candidate}` against baseline `{baseline}`.\n\n"
    if run.refused:
        return head + run.refused + "\n"
    if run.decision:
        head += f"Rests on: {run.decision.because}.\n\n"
    confidence = f"{100 * (1 - run.settings.rule.alpha):.3g}%"
    table = "| metric | ratio (candidate/baseline) | " + confidence + " interval | state |\n"
    table += "|---|---|---|---|\n"
    table += "".join(f"| {' | '.join(row)} |\n" for row in _metric_rows(run))
    facts = "".join(f"- {fact}.\n" for fact in _facts(run))
    return head + table + "\n" + facts + f"\n<sub>Rule: {rule_text(run.settings)}</sub>\n"


def record(run: AbRun) -> dict[str, Any]:
    """ab.json: enough to replay the decision (bench/ab_power.py) and audit every block."""
    return {
        "settings": run.settings.describe(),
        "assignment": run.assignment,
        "steal_floor": run.steal_floor,
        "verdict": verdict(run),
        "because": run.decision.because if run.decision else run.refused,
        "rule": rule_text(run.settings),
        "load_s": round(run.load_s, 3),
        "measure_wall_s": round(run.measure_wall_s, 3),
        "wall_s": round(run.wall_s, 3),
        "blocks": [asdict(block) for block in run.blocks],
        "pairs": [
            {m: pair.log_ratio(m) for m in METRICS} | {"index": pair.index, "first": pair.first}
            for pair in run.pairs
        ],
    }


def record_json(run: AbRun) -> str:
    return json.dumps(record(run), indent=2)
