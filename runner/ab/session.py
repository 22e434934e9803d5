"""One A/B run: both servers up on the server cores, one paused k6 each on the client cores,
blocks in ABBA order until the decision or the budget, every block judged and a pair with a
disturbed half measured again (at most `max_retries` times in a row)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from runner.ab.decision import Decision, Pair, decide
from runner.ab.judge import BlockContext, judge_block, read_cpu, uneven
from runner.ab.load import BlockFigures, block_figures
from runner.ab.servers import Side, started_sides
from runner.ab.settings import AbSettings
from runner.config.experiment import ValiditySettings
from runner.errors import UserError
from runner.measure.steal_floor import measure_steal_floor

SIDES = ("baseline", "candidate")
# Refused as client-bound once this many baseline blocks were (throughput would measure k6).
CLIENT_BOUND_REFUSAL = 3


@dataclass
class Block:
    """One block as run: its side, figures and what (if anything) disturbed it."""

    side: str
    pair: int
    attempt: int
    started_at: float  # time.time() of the resume
    figures: BlockFigures
    reasons: list[str]  # the step rules' reasons that would invalidate it as a step
    interference: dict[str, float]  # other work and steal, per role: a share of the cores
    again: str | None = None  # why its pair was measured again, if it was


@dataclass
class AbRun:
    """Everything one run measured and decided (ab.json holds it)."""

    settings: AbSettings
    assignment: dict[str, object]
    steal_floor: dict[int, float] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    load_s: float = 0.0  # time with one of the two k6 resumed
    measure_wall_s: float = 0.0  # from the first resume to the last pause
    wall_s: float = 0.0  # the whole run, servers' start and stop included
    refused: str | None = None

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


def _assignment(settings: AbSettings) -> dict[str, object]:
    """Which side starts first and goes first in each ABBA quartet: drawn from the seed."""
    rng = random.Random(settings.seed)
    first = rng.choice(SIDES)
    start_order = list(SIDES)
    rng.shuffle(start_order)
    return {"seed": settings.seed, "first": first, "start_order": start_order}


def pair_order(index: int, first: str) -> tuple[str, str]:
    """ABBA: pair 0 first-then-other, pair 1 the other way round, and so on."""
    other = SIDES[1] if first == SIDES[0] else SIDES[0]
    return (first, other) if index % 2 == 0 else (other, first)


def run_ab(settings: AbSettings, run_dir: Path, say: Callable[[str], None]) -> AbRun:
    """Measure and decide; the servers and k6 are stopped on the way out, whatever ends it."""
    began = time.monotonic()
    run = AbRun(settings, _assignment(settings))
    floor = measure_steal_floor([*settings.server_cpus, *settings.client_cpus])
    run.steal_floor = floor.shares
    context = BlockContext(
        settings.model, settings.level, settings.server_cpus, settings.client_cpus,
        floor.shares, ValiditySettings(),
    )  # fmt: skip
    try:
        with _sides(settings, run, run_dir, say) as sides:
            _measure(settings, run, sides, context, say)
    finally:
        run.wall_s = time.monotonic() - began
    return run


@contextmanager
def _sides(
    settings: AbSettings, run: AbRun, run_dir: Path, say: Callable[[str], None]
) -> Iterator[dict[str, Side]]:
    with ExitStack() as stack:
        order = [str(side) for side in run.assignment["start_order"]]  # type: ignore[attr-defined]
        sides = stack.enter_context(started_sides(settings, order, run_dir))
        # The ports are free ones the system handed out: recorded beside the drawn order.
        run.assignment["ports"] = {name: side.server.port for name, side in sides.items()}
        for side in sides.values():
            say(f"{side.name}: {side.app} on {side.url} (server pid {side.server.pid})")
        yield sides


def _measure(
    settings: AbSettings,
    run: AbRun,
    sides: dict[str, Side],
    context: BlockContext,
    say: Callable[[str], None],
) -> None:
    first_resume = time.monotonic()
    client_bound = 0
    while True:
        if run.load_s + settings.pair_s > settings.budget_s + 1e-9:
            break
        index = len(run.pairs)
        halves: dict[str, Block] = {}
        for side in pair_order(index, str(run.assignment["first"])):
            attempt = sum(1 for b in run.blocks if b.pair == index and b.side == side) + 1
            halves[side] = _block(settings, run, sides, side, index, attempt, context)
        run.measure_wall_s = time.monotonic() - first_resume
        if any(r.startswith("client_bound") for r in halves["baseline"].reasons):
            client_bound += 1
            if client_bound >= CLIENT_BOUND_REFUSAL:
                run.refused = _client_bound_text(halves["baseline"])
                return
        base, cand = halves["baseline"], halves["candidate"]
        why = uneven(base.interference, cand.interference, context.limit)
        if why:
            for block in halves.values():
                block.again = why
            retries = max(b.attempt for b in halves.values()) - 1
            if retries < settings.max_retries:
                say(f"pair {index + 1}: measured again: {why}")
                continue
            say(f"pair {index + 1}: still uneven after {retries} retries, used: {why}")
        pair = Pair(index, pair_order(index, str(run.assignment["first"]))[0],
                    halves["baseline"].figures, halves["candidate"].figures)  # fmt: skip
        run.pairs.append(pair)
        decision = decide(run.pairs, settings)
        run.decisions.append(decision)
        say(_pair_line(pair, decision))
        if decision.verdict != "continue" and settings.decide:
            return


def _block(
    settings: AbSettings,
    run: AbRun,
    sides: dict[str, Side],
    side: str,
    pair: int,
    attempt: int,
    context: BlockContext,
) -> Block:
    k6 = sides[side].k6
    servers = [s.server.pid for s in sides.values()]
    started_at = time.time()
    resumed = time.monotonic()
    k6.resume()
    # After the resume: under --rate, this block's k6 has only now started.
    k6_pids = [pid for s in sides.values() if (pid := s.k6_pid) is not None]
    active = sides[side].k6_pid or 0
    time.sleep(settings.warmup_s)
    cpu_before, counters_before = read_cpu(servers, k6_pids, active), k6.read()
    time.sleep(max(settings.block_s - (time.monotonic() - counters_before.at), 0.0))
    counters_after = k6.read()
    cpu_after = read_cpu(servers, k6_pids, active)
    k6.pause()
    run.load_s += time.monotonic() - resumed
    figures = block_figures(counters_before, counters_after)
    judgement = judge_block(figures, cpu_before, cpu_after, context)
    for other in sides.values():
        if not other.server.alive():
            raise UserError(
                f"Refused: the {other.name}'s server ({other.app}) died under load "
                f"({other.server.exit_description()}). Last lines of its log:\n"
                f"{other.server.log_tail()}"
            )
    if figures.requests <= 0:
        raise UserError(
            f"The {side} ({sides[side].app}) answered no request in a {settings.block_s:g} s "
            f"block; see {sides[side].log_path}."
        )
    texts = [f"{r.code}: {r.text}" for r in judgement.reasons]
    block = Block(side, pair, attempt, started_at, figures, texts, judgement.interference)
    run.blocks.append(block)
    return block


def _client_bound_text(block: Block) -> str:
    reason = next(r for r in block.reasons if r.startswith("client_bound"))
    return (
        f"The baseline's blocks were client-bound ({reason.removeprefix('client_bound: ')}): "
        "throughput would measure k6, not the servers. Lower --level (or --rate), or give k6 "
        "more cores."
    )


def _pair_line(pair: Pair, decision: Decision) -> str:
    ratio = pair.candidate.ok_rps / pair.baseline.ok_rps if pair.baseline.ok_rps else 0.0
    return (
        f"pair {pair.index + 1}: throughput {pair.baseline.ok_rps:,.0f} -> "
        f"{pair.candidate.ok_rps:,.0f} RPS (x{ratio:.4f}); {decision.verdict}: {decision.because}"
    )
