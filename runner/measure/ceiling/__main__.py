"""`python -m runner.ceiling [--remeasure] [--server-cpus 0] [--client-cpus 1]`: print k6's
ceiling on this machine (cached), or measure it again. Exit status 2 on bad input."""

from __future__ import annotations

import argparse
import sys

from runner.config.experiment import Pinning
from runner.errors import UserError
from runner.measure import ceiling, k6
from runner.measure.ceiling import cache
from runner.run.machine_lock import exclusive_machine


def _cores(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    defaults = Pinning()
    parser = argparse.ArgumentParser(prog="python -m runner.ceiling", description=__doc__)
    parser.add_argument("--remeasure", action="store_true", help="measure even if cached")
    parser.add_argument("--server-cpus", type=_cores, default=defaults.server_cpus)
    parser.add_argument("--client-cpus", type=_cores, default=defaults.client_cpus)
    args = parser.parse_args(argv)
    try:
        k6_path = k6.find_k6()
        key = ceiling.ceiling_key(k6.k6_version(k6_path), args.server_cpus, args.client_cpus)
        found = None if args.remeasure else cache.cached(key)
        if found is None:
            with exclusive_machine(lambda message: print(message, file=sys.stderr)):
                found = ceiling.measure(k6_path, args.server_cpus, args.client_cpus)
            if ceiling.disturbed(found):
                print(
                    f"k6's ceiling: {found.rps:,.0f} RPS, but other work took "
                    f"{found.interference:.0%} of the cores meanwhile: not cached. Try again "
                    "on a quieter machine.",
                    file=sys.stderr,
                )
                return 1
            cache.store(found)
    except UserError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    how = "cached" if found.cached else f"measured in {found.measure_s:.1f} s"
    print(f"k6's ceiling: {found.rps:,.0f} RPS ({how}; {cache.cache_path()})")
    for name, value in found.key.items():
        print(f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
