"""`python -m runner.ceiling [--remeasure] [--levels 10,64] [--server-cpus 0] [--client-cpus 1]`:
print k6's ceiling on this machine per number of virtual users (cached), measuring the levels
the cache lacks, or all of them again. Exit status 2 on bad input."""

from __future__ import annotations

import argparse
import sys

from runner.config.experiment import Pinning
from runner.errors import UserError
from runner.measure import ceiling, k6
from runner.measure.ceiling import cache
from runner.measure.ceiling.levels import CEILING_VUS
from runner.records.results import ClientCeiling
from runner.run.machine_lock import exclusive_machine


def _cores(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    defaults = Pinning()
    parser = argparse.ArgumentParser(prog="python -m runner.ceiling", description=__doc__)
    parser.add_argument("--remeasure", action="store_true", help="measure even if cached")
    parser.add_argument("--server-cpus", type=_cores, default=defaults.server_cpus)
    parser.add_argument("--client-cpus", type=_cores, default=defaults.client_cpus)
    parser.add_argument(
        "--levels",
        type=_cores,
        default=None,
        help=f"virtual users to measure at (default: the cached ones, else {CEILING_VUS})",
    )
    args = parser.parse_args(argv)
    if args.levels is not None and not all(vus > 0 for vus in args.levels):
        print(
            "Error: --levels takes positive numbers of virtual users, e.g. 10,64.", file=sys.stderr
        )
        return 2
    try:
        found = _ceiling(args)
    except UserError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if found is None:
        return 1
    how = "cached" if found.cached else f"measured in {found.measure_s:.1f} s"
    print(f"k6's ceiling ({how}; {cache.cache_path()}):")
    for vus, rps in sorted(found.levels.items()):
        print(f"  {vus:>6,} virtual users: {rps:>9,.0f} RPS")
    for name, value in found.key.items():
        print(f"  {name}: {value}")
    return 0


def _ceiling(args: argparse.Namespace) -> ClientCeiling | None:
    """The cached ceiling with the levels it lacks measured (all of them with --remeasure);
    None when the measurement was disturbed."""
    k6_path = k6.find_k6()
    key = ceiling.ceiling_key(k6.k6_version(k6_path), args.server_cpus, args.client_cpus)
    found = cache.cached(key)
    levels = args.levels or (sorted(found.levels) if found else [CEILING_VUS])
    kept = None if args.remeasure else found
    missing = [vus for vus in levels if kept is None or vus not in kept.levels]
    if kept is not None and not missing:
        return kept
    with exclusive_machine(lambda message: print(message, file=sys.stderr)):
        fresh = ceiling.measure(k6_path, args.server_cpus, args.client_cpus, None, missing)
    if ceiling.disturbed(fresh):
        print(
            f"k6's ceiling: {fresh.levels_text()}, but other work took "
            f"{fresh.interference:.0%} of the cores meanwhile: not cached. Try again "
            "on a quieter machine.",
            file=sys.stderr,
        )
        return None
    merged = cache.merged(found, fresh)
    cache.store(merged)
    return merged


if __name__ == "__main__":
    sys.exit(main())
