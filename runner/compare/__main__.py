"""The command line of runner.compare (see the package docstring for what it decides)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner import compare as package
from runner.analysis.significance import SignificanceSettings
from runner.compare.design import Refused
from runner.compare.gate import compare
from runner.compare.output import markdown_refusal, markdown_summary, print_result
from runner.errors import EXIT_BAD_INPUT, UserError
from runner.records.results import RunRecord
from runner.records.store import RUN_FILE, STEPS_FILE, load_run


def _load(path: Path) -> RunRecord:
    missing = [name for name in (RUN_FILE, STEPS_FILE) if not (path / name).is_file()]
    if missing:
        raise UserError(f"{path} is not a sweepbench run directory (missing {', '.join(missing)}).")
    try:
        return load_run(path)
    except UserError as error:  # a schema this version cannot read
        raise UserError(f"{path}: {error}") from None


def parser() -> argparse.ArgumentParser:
    doc = package.__doc__ or ""
    made = argparse.ArgumentParser(
        prog="python -m runner.compare",
        description=doc.split("\n\n", 1)[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("baseline", type=Path, help="the baseline run directory")
    made.add_argument("candidate", type=Path, help="the run to check against it")
    made.add_argument(
        "--threshold",
        type=float,
        default=0.05,
        help="smallest successful-RPS change that counts (0.05)",
    )
    made.add_argument(
        "--latency-threshold",
        type=float,
        default=0.10,
        help="smallest p95/p99 change that counts (0.10)",
    )
    made.add_argument(
        "--error-rate-threshold",
        type=float,
        default=0.01,
        help="smallest error-rate change that counts, in fraction points (0.01)",
    )
    made.add_argument(
        "--alpha", type=float, default=0.05, help="family-wise false-alarm rate (0.05)"
    )
    made.add_argument(
        "--min-repetitions",
        type=int,
        default=3,
        help="valid repetitions a side a decision needs (3)",
    )
    made.add_argument(
        "--allow-difference",
        action="append",
        default=[],
        metavar="KEY",
        help="an intended design difference, e.g. targets.fastapi.workers (repeatable)",
    )
    made.add_argument("--markdown", type=Path, metavar="FILE", help="also write a Markdown summary")
    return made


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    names = str(args.baseline), str(args.candidate)
    try:
        settings = SignificanceSettings(
            alpha=args.alpha,
            min_repetitions=args.min_repetitions,
            threshold=args.threshold,
            latency_threshold=args.latency_threshold,
            error_rate_threshold=args.error_rate_threshold,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = compare(
            _load(args.baseline), _load(args.candidate), settings, args.allow_difference
        )
    except (Refused, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        if args.markdown:
            args.markdown.write_text(markdown_refusal(str(error), *names))
        return EXIT_BAD_INPUT
    print_result(result)
    if args.markdown:
        args.markdown.write_text(markdown_summary(result, *names))
    return result.exit_status


if __name__ == "__main__":
    sys.exit(main())
