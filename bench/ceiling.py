"""k6's client ceiling: how long measuring it takes, and the figure (runner.measure.ceiling).

    python bench/ceiling.py [--server-cpus 0] [--client-cpus 1]

Measures the ceiling afresh (the machine's cache is neither read nor written) with the runner's
own measurement: the minimal responder on the server's cores, k6 with the standard script on the
client's. Budget: under 15 s, start to end. Holds the machine-wide load lock while it runs.
"""

from __future__ import annotations

import time

from _shared import bench_parser, machine_lock, print_figure

from runner.measure import ceiling, k6

BUDGET_S = 15.0


def main() -> None:
    parser = bench_parser(__file__, __doc__)
    parser.add_argument("--server-cpus", default="0", help="the responder's cores, e.g. 0,1 (0)")
    parser.add_argument("--client-cpus", default="1", help="k6's cores (1)")
    args = parser.parse_args()
    server = [int(c) for c in args.server_cpus.split(",")]
    client = [int(c) for c in args.client_cpus.split(",")]
    k6_path = k6.find_k6()
    with machine_lock():
        began = time.monotonic()
        found = ceiling.measure(k6_path, server, client)
        took = time.monotonic() - began
    print_figure(
        "k6's ceiling",
        found.rps,
        "RPS",
        spec=",.0f",
        note=f"server cores {server}, k6 cores {client}",
    )
    print_figure(
        "measuring it took",
        took,
        "s",
        spec=".1f",
        budget=f"< {BUDGET_S:g} s",
        within=took < BUDGET_S,
    )
    disturbed = "disturbed: not to be trusted" if ceiling.disturbed(found) else None
    print_figure(
        "other work on those cores meanwhile", found.interference or 0, spec=".1%", note=disturbed
    )
    for name, value in found.key.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
