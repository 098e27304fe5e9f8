"""The `xinyong` command.

    xinyong run --landing DIR --date YYYY-MM-DD   one night, end to end
    xinyong generate --out DIR ...                 contract deliveries with ground truth
    xinyong demo                                   generate a small landing, run it through the DAG
    xinyong status                                 the last delivery per agency
    xinyong bench --scale S                        a full and a delta night measured against baselines
    xinyong db migrate                             bring the warehouse schema up to date
    xinyong db create-login NAME --role R          a reader's login, maybe limited to cities
    xinyong audit [--date D] [--only A3]           run the cross-audits again on the latest run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path

from xinyong.night import LOG_FORMAT, NightFailed
from xinyong.warehouse.access import CREDENTIAL_VARIABLE, READER_ROLES, LoginRefused, is_city
from xinyong.warehouse.db import WarehouseUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format=LOG_FORMAT)
    try:
        return int(args.handler(args) or 0)
    except WarehouseUnavailable as exc:
        print(f"xinyong: {exc}", file=sys.stderr)
        return 3
    except NightFailed as exc:  # the night could not complete: say why, exit non-zero
        print(f"xinyong: night failed: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xinyong", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one night end to end")
    run.add_argument("--landing", type=Path, required=True, help="the landing folder")
    run.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--full-resolution", action="store_true", default=None,
                     help="re-link every record, not only new ones (default: Sundays, or"
                          " XINYONG_FULL_RESOLUTION)")
    run.set_defaults(handler=_run)

    from xinyong.generate.__main__ import add_arguments as add_generate_arguments
    from xinyong.generate.__main__ import run as run_generate

    generate = commands.add_parser("generate", help="generate contract deliveries with truth")
    add_generate_arguments(generate)
    generate.set_defaults(handler=run_generate)

    demo = commands.add_parser("demo", help="generate a small landing and run it through the DAG")
    demo.add_argument("--enterprises", type=int, default=300)
    demo.add_argument("--nights", type=int, default=3)
    demo.add_argument("--seed", type=int, default=20261110)
    demo.set_defaults(handler=_demo)

    bench = commands.add_parser(
        "bench", help="a full and a delta night, stage by stage, against baselines; query latency",
        description="Generate (or reuse) two nights at the scale, run a full first night and a"
                    " delta night in a scratch database on the warehouse server, the raw-COPY and"
                    " Splink baselines and the query latencies; write <out>/scale-S.{json,md}.")
    bench.add_argument("--scale", type=float, default=0.01, help="1 = 750,000 enterprises")
    bench.add_argument("--out", type=Path, default=Path("bench/results"))
    bench.add_argument("--data", type=Path, default=None,
                       help="where the deliveries are generated or reused (default .xinyong/bench)")
    bench.add_argument("--splink-max-scale", type=float, default=0.1,
                       help="skip the Splink baseline above this scale (default 0.1)")
    bench.add_argument("--lookups", type=int, default=50,
                       help="timed lookups per query, each with another random key (default 50)")
    bench.add_argument("--audit-runs", type=int, default=10,
                       help="timed runs of each audit (default 10)")
    bench.add_argument("--keep-database", action="store_true",
                       help="keep the scratch warehouse afterwards (to profile its queries)")
    bench.set_defaults(handler=_bench)

    bench_audits = commands.add_parser(
        "bench-audits", help="time each audit on the warehouse as it is, first run included",
        description="Run each audit RUNS times as `xinyong audit --only CODE` does, on the latest"
                    " run of the warehouse (XINYONG_WAREHOUSE_DSN), optionally after a command"
                    " that empties the caches; write <out>/audits-<name>.{json,md} with every"
                    " run's time and a digest of each audit's findings.")
    bench_audits.add_argument("--runs", type=int, default=10, help="runs per audit (default 10)")
    bench_audits.add_argument("--only", action="append", metavar="CODE",
                              help="time only this audit (repeat); default: all")
    bench_audits.add_argument("--cold-command", metavar="SHELL",
                              help="run before each audit's first run, e.g. one that restarts"
                                   " the server and drops the page cache")
    bench_audits.add_argument("--out", type=Path, default=Path("bench/results"))
    bench_audits.add_argument("--name", default="latest",
                              help="results file name: <out>/audits-NAME.json (default latest)")
    bench_audits.set_defaults(handler=_bench_audits)

    evaluate = commands.add_parser(
        "evaluate", help="score the published links against a generated set's truth")
    evaluate.add_argument("--truth", type=Path, required=True,
                          help="the truth/ folder written by `xinyong generate`")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--compare-splink", metavar="NAME",
                          help="also resolve the live mentions from scratch with our job and with"
                               " Splink; write bench/results/NAME.{json,md}")
    evaluate.add_argument("--compare-repeats", type=int, default=None, metavar="N",
                          help="with --compare-splink: new processes per tool, the medians"
                               " reported (default 3)")
    evaluate.add_argument("--out", type=Path, default=Path("bench/results"))
    evaluate.add_argument("--errors", type=Path, metavar="CSV",
                          help="also write every record counted as split or merged, with its"
                               " link's rule and evidence and its true enterprise, to CSV")
    evaluate.set_defaults(handler=_evaluate)

    audit = commands.add_parser(
        "audit", help="run the cross-audits (sql/audits/A*.sql) again on the latest run")
    audit.add_argument("--date", type=date.fromisoformat,
                       help="audit the latest run of this night (YYYY-MM-DD); default: the latest"
                            " resolved, audited or published run")
    audit.add_argument("--only", action="append", metavar="CODE",
                       help="run only this audit, e.g. A3 (repeat, or A3,A5); default: all")
    audit.add_argument("--explain", action="store_true",
                       help="print each audit's plan with its steps' rows and times (EXPLAIN"
                            " ANALYZE, BUFFERS of the audit as it runs), then roll back")
    audit.add_argument("--rebuild-summaries", action="store_true",
                       help="build the run's summaries (sql/audits/summaries/) again first, e.g."
                            " after editing one: A2 and A7 copy their findings from theirs")
    audit.set_defaults(handler=_audit)

    status = commands.add_parser("status", help="the last delivery of every agency")
    status.set_defaults(handler=_status)

    db = commands.add_parser("db", help="warehouse administration")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("migrate", help="apply pending migrations").set_defaults(
        handler=_migrate)
    create_login = db_commands.add_parser(
        "create-login", help="create or update the login of an analyst or a regulator",
        description="Create the login NAME with the reader role (or update it: role, cities and,"
                    f" when {CREDENTIAL_VARIABLE} is set, password). Its password is read from"
                    f" {CREDENTIAL_VARIABLE}, never from the command line. Limited to the cities"
                    " given, it sees only their enterprises in every view; without --city, all.")
    create_login.add_argument("name", help="the login (a PostgreSQL role that can log in)")
    create_login.add_argument("--role", choices=sorted(READER_ROLES), required=True)
    create_login.add_argument("--city", action="append", type=_city, default=[],
                              help="a city (first 4 digits of the registration region, e.g."
                                   " 2101); repeat for several")
    create_login.set_defaults(handler=_create_login)
    return parser


def _run(args: argparse.Namespace) -> int:
    from xinyong import night

    summary = night.run_night(night.warehouse_dsn(), args.landing, args.date,
                              full_resolution=args.full_resolution)
    if args.json:
        print(json.dumps(summary.__dict__, default=str, ensure_ascii=False, indent=2))
        return 0
    for delivery in summary.deliveries:
        if delivery["status"] == "skipped":
            continue
        rows = sum(f["rows_loaded"] for f in delivery["files"])
        quarantined = sum(f["rows_quarantined"] for f in delivery["files"])
        reason = f" ({delivery['reason']})" if delivery["reason"] else ""
        print(f"{delivery['agency']:<16} {delivery['folder']}  {delivery['status']:<9}"
              f" loaded {rows:>9}  quarantined {quarantined:>6}{reason}")
    gates = summary.validation
    if gates.get("delivery_ids"):
        print(f"expectations: {gates['passed']} passed, {gates['warnings']} warnings,"
              f" {gates['blocking']} blocking; Data Docs: {gates['docs_index']}")
    publication = summary.publication
    print(f"night {args.date}: {publication['links']} records linked to "
          f"{publication['enterprises']} enterprises (run {publication['run_id']})")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from xinyong import night

    applied = night.prepare(night.warehouse_dsn())
    print("applied: " + (", ".join(applied) if applied else "nothing, schema is current"))
    return 0


def _city(value: str) -> str:
    if not is_city(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a city: 4 digits, e.g. 2101")
    return value


def _create_login(args: argparse.Namespace) -> int:
    from xinyong import night
    from xinyong.warehouse.access import create_login

    try:
        login = create_login(night.warehouse_dsn(), args.name, args.role, args.city,
                             os.environ.get(CREDENTIAL_VARIABLE) or None)
    except LoginRefused as exc:
        print(f"xinyong: {exc}", file=sys.stderr)
        return 2
    print(login.describe())
    return 0


def _audit_codes(only: list[str] | None) -> list[str]:
    """The codes of repeated ``--only`` options, each maybe a list: A3,A5."""
    return [code for value in only or [] for code in value.split(",") if code.strip()]


def _audit(args: argparse.Namespace) -> int:
    from xinyong import night

    only = _audit_codes(args.only)
    try:
        if args.explain:
            plans = night.explain_audits(night.warehouse_dsn(), args.date, only=only or None,
                                         rebuild_summaries=args.rebuild_summaries)
            lines = [f"-- {code}\n{plan}\n" for code, plan in plans.items()]
        else:
            counts = night.audit(night.warehouse_dsn(), args.date, only=only or None,
                                 rebuild_summaries=args.rebuild_summaries)
            lines = [f"{code:<4} {count:>8} enterprises" for code, count in counts.items()]
    except (ValueError, NightFailed) as exc:  # an audit code without a file; no run to audit
        print(f"xinyong: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


def _status(args: argparse.Namespace) -> int:
    from xinyong import night
    from xinyong.report import print_status

    print_status(night.warehouse_dsn())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from xinyong import evaluate, night

    if args.compare_repeats is not None and (not args.compare_splink or args.compare_repeats < 1):
        raise SystemExit("xinyong evaluate: --compare-repeats N (N >= 1) goes with --compare-splink")
    dsn = night.warehouse_dsn()
    cells, unmatched = evaluate.warehouse_feed_cells(dsn, args.truth)
    report = evaluate.evaluate_cells(cells, unmatched, evaluate.read_enterprises(args.truth))
    report["ids"] = evaluate.id_moves(dsn)
    audit_truth = evaluate.read_audit_truth(args.truth)
    audits = (evaluate.evaluate_audits(evaluate.read_findings(dsn),
                                       evaluate.enterprise_cells(cells), audit_truth)
              if audit_truth else {})
    if audits:
        report["audits"] = audits
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(evaluate.format_report(report))
        if audits:
            print()
            print(evaluate.format_audits(audits))
    if args.errors:
        lines = evaluate.write_errors(dsn, args.truth, args.errors)
        print(f"{lines:,} records split or merged written to {args.errors}",
              file=sys.stderr if args.json else sys.stdout)
    if args.compare_splink:
        from xinyong.compare import DEFAULT_REPEATS, compare, format_table

        print()
        repeats = args.compare_repeats or DEFAULT_REPEATS
        print(format_table(compare(dsn, args.truth, args.out, name=args.compare_splink,
                                   repeats=repeats)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from xinyong.bench import markdown, run_bench

    result = run_bench(args.scale, args.out, data_root=args.data,
                       splink_max_scale=args.splink_max_scale, lookups=args.lookups,
                       audit_runs=args.audit_runs, keep_database=args.keep_database)
    print(markdown(result), end="")
    return 0


def _bench_audits(args: argparse.Namespace) -> int:
    from xinyong import night
    from xinyong.audit_bench import bench_audits, markdown, write_results

    try:
        result = bench_audits(night.warehouse_dsn(), _audit_codes(args.only) or None, args.runs,
                              args.cold_command)
    except (ValueError, NightFailed, RuntimeError) as exc:  # no such audit or run; cold command
        print(f"xinyong: {exc}", file=sys.stderr)
        return 2
    print(markdown(result), end="")
    print(f"written: {write_results(result, args.out, args.name)}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from xinyong.demo import run_demo

    return run_demo(enterprises=args.enterprises, nights=args.nights, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main())
