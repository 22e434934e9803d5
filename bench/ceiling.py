"""k6's client ceiling: how long measuring it takes, and the figure (runner.measure.ceiling).

    python bench/ceiling.py [--server-cpus 0] [--client-cpus 1]

Measures the ceiling afresh (the machine's cache is neither read nor written) with the runner's
own measurement: the minimal responder on the server's cores, k6 with the standard script on the
client's. Budget: under 15 s, start to end. Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import argparse
import time

from _shared import say

from runner.measure import ceiling, k6
from runner.run.machine_lock import exclusive_machine

BUDGET_S = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--client-cpus", default="1")
    args = parser.parse_args()
    server = [int(c) for c in args.server_cpus.split(",")]
    client = [int(c) for c in args.client_cpus.split(",")]
    k6_path = k6.find_k6()
    with exclusive_machine(say):
        began = time.monotonic()
        found = ceiling.measure(k6_path, server, client)
        took = time.monotonic() - began
    print(f"k6's ceiling: {found.rps:,.0f} RPS (server cores {server}, k6 cores {client})")
    print(f"measuring it took {took:.1f} s  (budget < {BUDGET_S:g} s)")
    disturbed = " (disturbed: not to be trusted)" if ceiling.disturbed(found) else ""
    print(f"other work on those cores meanwhile: {found.interference or 0:.1%}{disturbed}")
    for name, value in found.key.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
