"""``python -m xinyong.generate --out DIR``: write deliveries and truth (see the package doc)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from xinyong.generate import GeneratorConfig, generate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--enterprises", type=int, default=1000, help="number of enterprises")
    size.add_argument("--scale", type=float, help="scale x 750,000 enterprises (about 42.7M records)")
    parser.add_argument("--nights", type=int, default=3, help="consecutive batch dates")
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2026, 11, 10),
                        help="first batch date YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=20261110)
    parser.add_argument("--problem-rate", type=float, default=0.02,
                        help="data-problem rate per eligible field/row; 0 gives clean data")
    parser.add_argument("--fault-night", type=int, default=None,
                        help="1-based night with three broken deliveries (2..nights-1)")
    parser.add_argument("--resend-night", type=int, default=None,
                        help="1-based night of the re-sent delivery (default last; 0: none)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default CPU count)")


def build_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser] | None = None,
) -> argparse.ArgumentParser:
    description = "Generate contract-conformant agency deliveries with ground truth."
    if subparsers is None:
        parser = argparse.ArgumentParser(prog="xinyong generate", description=description)
    else:
        parser = subparsers.add_parser("generate", help=description, description=description)
        parser.set_defaults(func=run)
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    config = GeneratorConfig(
        enterprises=args.enterprises, scale=args.scale, nights=args.nights,
        start_date=args.start_date, seed=args.seed, problem_rate=args.problem_rate,
        fault_night=args.fault_night, resend_night=args.resend_night, workers=args.workers,
    )
    report = generate(args.out, config)
    print(report.text())
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
