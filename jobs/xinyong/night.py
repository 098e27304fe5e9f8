"""One night, as task functions: the Airflow DAG and `xinyong run` call exactly these.

    prepare -> ingest (per agency) -> validate (GX) -> resolve (Spark) -> audit -> publish

Each step is safe to repeat: ingestion skips deliveries already seen, resolution writes a
new unpublished run (discarding one a stopped night left), publication swaps the published
run in one transaction. Readers see the previous night or the new one, never half of one.
"""

from __future__ import annotations

import graphlib
import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
from psycopg2 import sql

from xinyong.feeds import agencies
from xinyong.feeds import agency as get_agency
from xinyong.ingest.deliveries import ingest_agency, pending_folders
from xinyong.timing import timed_step
from xinyong.warehouse.db import WarehouseUnavailable, one_line, transaction
from xinyong.warehouse.exchange import parquet_to_table, query_to_parquet
from xinyong.warehouse.migrate import migrate, sql_dir

log = logging.getLogger(__name__)

MENTION_SCHEMA = pa.schema([
    ("mention_id", pa.string()), ("agency", pa.string()), ("feed", pa.string()),
    ("record_id", pa.string()), ("name", pa.string()), ("name_norm", pa.string()),
    ("uscc", pa.string()), ("org", pa.string()), ("regno", pa.string()), ("taxno", pa.string()),
    ("customs", pa.string()), ("is_branch", pa.bool_()), ("legal_rep", pa.string()),
    ("source_rank", pa.int32()), ("name_core", pa.string()), ("former_name_norm", pa.string()),
    ("weak_code", pa.string()), ("named_on", pa.date32()), ("closed_on", pa.date32()),
    ("founded_on", pa.date32()), ("penalized_on", pa.date32()),
])
PRIOR_LINK_SCHEMA = pa.schema([("mention_id", pa.string()), ("enterprise_id", pa.string()),
                               ("rule", pa.string()), ("evidence", pa.string())])


class NightFailed(RuntimeError):
    """The night cannot complete (as opposed to a delivery being rejected, which it survives)."""


def agency_codes() -> list[str]:
    return list(agencies())


def prepare(dsn: str) -> list[str]:
    """Bring the warehouse schema up to date; returns migrations applied now."""
    return migrate(dsn)


def ingest(dsn: str, landing: Path, agency_code: str, run_date: date) -> list[dict[str, Any]]:
    return [r.as_dict() for r in ingest_agency(dsn, Path(landing), agency_code, run_date)]


# Below this size of the night's deliveries, starting worker processes costs more than it saves.
PARALLEL_INGEST_MIN_BYTES = 32 << 20
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def ingest_all(dsn: str, landing: Path, run_date: date) -> list[dict[str, Any]]:
    """``ingest`` for every agency; the deliveries come back in agency order.

    Parsing is Python, one core per agency: agencies are loaded in worker processes, one per
    core (XINYONG_INGEST_WORKERS overrides, also for small nights), the largest deliveries
    first. Each delivery is loaded in its own transaction, as in the DAG's mapped tasks.
    """
    codes = agency_codes()
    night_bytes = {code: _night_bytes(Path(landing), code, run_date) for code in codes}
    workers = int(os.environ.get("XINYONG_INGEST_WORKERS") or 0)
    if not workers:
        small = sum(night_bytes.values()) < PARALLEL_INGEST_MIN_BYTES
        workers = 1 if small else os.cpu_count() or 1
    workers = min(workers, len(codes))
    if workers <= 1:
        return [d for code in codes for d in ingest(dsn, landing, code, run_date)]
    # Spawned, not forked: this process may hold a Spark gateway's or Arrow's threads, and a
    # forked child can hang on a lock one of them held.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker,
                             initargs=(logging.getLogger().getEffectiveLevel(),)) as pool:
        loading = {code: pool.submit(ingest, dsn, landing, code, run_date)
                   for code in sorted(codes, key=lambda code: -night_bytes[code])}
        return [d for code in codes for d in loading[code].result()]


def _night_bytes(landing: Path, agency_code: str, run_date: date) -> int:
    """Size of the agency's newest delivery folder up to run_date (the night's own, usually)."""
    folders = pending_folders(landing, get_agency(agency_code), run_date)
    return sum(f.stat().st_size for f in folders[-1].iterdir() if f.is_file()) if folders else 0


def start_worker(level: int) -> None:
    """A loading worker logs as its parent does and ends with it. A parent killed by a signal
    cannot stop its pool: the workers would go on parsing for nobody, holding their open
    transactions, which end (rolled back) when the worker exits."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True,
                     name="exit-when-orphaned").start()


ORPHANED_EXIT = 70


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by init or a subreaper
        time.sleep(1.0)
    os._exit(ORPHANED_EXIT)  # not SystemExit: this thread cannot stop the worker's main thread


def validate(dsn: str, run_date: date) -> dict[str, Any]:
    """Run the feeds' expectation suites on every delivery not validated yet, in PostgreSQL,
    and build the night's Data Docs (XINYONG_DOCS_DIR, default .xinyong/data-docs)."""
    from xinyong import validate as gates
    from xinyong.platform import state_dir

    docs_root = Path(os.environ.get("XINYONG_DOCS_DIR") or state_dir() / "data-docs")
    with transaction(dsn) as conn, conn.cursor() as cursor:
        delivery_ids = gates.deliveries_to_validate(cursor)
    if not delivery_ids:
        return {"delivery_ids": [], "passed": 0, "warnings": 0, "blocking": 0, "docs_index": None}
    report = gates.validate_deliveries(dsn, delivery_ids, docs_root / run_date.isoformat())
    return dict(report.as_dict())


def export_mentions(cursor, path: Path) -> int:
    """Every live mention as the resolution job reads it (MENTION_SCHEMA) into ``path``."""
    return query_to_parquet(cursor, sql.SQL(
        "select agency || '|' || feed || '|' || record_id as mention_id, agency, feed,"
        " record_id, name, name_norm, uscc, org, regno, taxno, customs, is_branch,"
        " legal_rep, source_rank, name_core, former_name_norm, weak_code, named_on,"
        " closed_on, founded_on, penalized_on from ingest.live_mention"
    ), MENTION_SCHEMA, path)


def export_links(cursor, path: Path, run_id: int | None = None) -> int:
    """The links of a run (default: the published one) as the job's prior links."""
    where = (sql.SQL("l.run_id = {}").format(sql.Literal(run_id)) if run_id is not None
             else sql.SQL("l.run_id = (select run_id from credit.published)"))
    return query_to_parquet(cursor, sql.SQL(
        "select l.agency || '|' || l.feed || '|' || l.record_id as mention_id,"
        " l.enterprise_id, l.rule, l.evidence::text from resolve.link l where {}"
    ).format(where), PRIOR_LINK_SCHEMA, path)


def full_resolution_due(run_date: date) -> bool:
    """Whether the night re-links every signature: XINYONG_FULL_RESOLUTION=1, or Sundays.

    A delta night links only new signatures and never splits an enterprise; the weekly
    full night lets a split happen (a record that bound two enterprises was corrected).
    """
    setting = os.environ.get("XINYONG_FULL_RESOLUTION", "").strip().lower()
    if setting in ("1", "true", "yes", "always"):
        return True
    if setting in ("0", "false", "no", "never"):
        return False
    return run_date.weekday() == 6


def resolve(dsn: str, run_date: date, *, work_dir: Path | None = None,
            full: bool | None = None) -> dict[str, Any]:
    """Export live mentions, run the Spark job, store its links as a new unpublished run.

    The job is incremental when a run was published before, unless ``full`` (default:
    ``full_resolution_due``). ``steps`` in the result: the stage's wall time step by step
    (exports, the Spark job, each part of storing its results), also kept in the run's stats."""
    started = time.monotonic()
    discard_unpublished_runs(dsn)
    exchange_root = Path(os.environ.get("XINYONG_EXCHANGE_DIR", tempfile.gettempdir()))
    exchange_root.mkdir(parents=True, exist_ok=True)
    steps: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="xinyong-resolve-", dir=exchange_root) as tmp:
        exchange = Path(work_dir or tmp)
        with transaction(dsn) as conn, conn.cursor() as cursor:
            with timed_step(steps, "export_mentions"):
                mentions = export_mentions(cursor, exchange / "mentions.parquet")
            with timed_step(steps, "export_prior_links"):
                export_links(cursor, exchange / "prior_links.parquet")
            cursor.execute("select count(*) from credit.published")
            published_before = cursor.fetchone()[0] > 0
            cursor.execute(
                "select coalesce(max(substr(enterprise_id, 2)::bigint), 0) + 1"
                " from resolve.enterprise_registry")
            next_id = int(cursor.fetchone()[0])
        incremental = published_before and not (
            full if full is not None else full_resolution_due(run_date))
        with timed_step(steps, "spark_job"):
            stats = run_spark_job(exchange / "mentions.parquet", exchange / "prior_links.parquet",
                                  exchange / "out", next_id, incremental=incremental,
                                  mention_count=mentions)
        with transaction(dsn) as conn, conn.cursor() as cursor:
            cursor.execute(
                "insert into resolve.night_run (run_date, status, stats) values (%s, 'resolved', %s)"
                " returning run_id", (run_date, json.dumps(stats)))
            run_id = int(cursor.fetchone()[0])
            _store_resolution(cursor, exchange / "out", run_id, run_date, steps)
            cursor.execute("update resolve.night_run set stats = stats || %s where run_id = %s",
                           (json.dumps({"steps": steps}), run_id))
    log.info("resolution of run %s, seconds by step: %s", run_id,
             ", ".join(f"{step} {seconds:.1f}" for step, seconds in steps.items()))
    stats.update(run_id=run_id, mentions=mentions, steps=steps,
                 seconds=round(time.monotonic() - started, 1))
    return stats


def _store_resolution(cursor, out: Path, run_id: int, run_date: date,
                      steps: dict[str, float]) -> None:
    # The run's links go into their own table, loaded before it has an index, then attached
    # as the run's partition of resolve.link (which builds its indexes once).
    with timed_step(steps, "copy_links"):
        partition = create_link_partition(cursor, run_id)
        parquet_to_table(cursor, out / "links", partition,
                         ["mention_id", "enterprise_id", "rule", "evidence"], {"run_id": run_id},
                         reshape=_link_columns)
    with timed_step(steps, "index_links"):
        attach_link_partition(cursor, run_id)
    with timed_step(steps, "analyze"):
        analyze_stale_tables(cursor)
    with timed_step(steps, "audit_summaries"):
        build_audit_summaries(cursor, run_id)  # the enterprises' status is read from them
    with timed_step(steps, "store_enterprises"):
        _store_enterprises(cursor, out, run_id)
        parquet_to_table(cursor, out / "id_changes",
                         sql.Identifier("resolve", "enterprise_id_change"),
                         ["enterprise_id", "change", "other_enterprise_id"], {"run_id": run_id})
        cursor.execute(
            "insert into resolve.enterprise_registry (enterprise_id, first_run_id, issued_on)"
            " select enterprise_id, %s, %s from resolve.enterprise where run_id = %s"
            " on conflict (enterprise_id) do nothing", (run_id, run_date, run_id))


def _link_columns(links: pa.Table) -> pa.Table:
    """The job's links as resolve.link's columns: mention_id "agency|feed|record_id" split
    (a record_id may itself hold "|"), and no evidence as an empty object."""
    parts = pc.split_pattern(links["mention_id"], "|", max_splits=2)
    return pa.table({
        "agency": pc.list_element(parts, 0), "feed": pc.list_element(parts, 1),
        "record_id": pc.list_element(parts, 2), "enterprise_id": links["enterprise_id"],
        "rule": links["rule"], "evidence": pc.fill_null(links["evidence"], "{}"),
    })


def link_partition(run_id: int) -> sql.Identifier:
    """The partition of resolve.link holding one run's links (sql/migrations/V008)."""
    return sql.Identifier("resolve", f"link_run_{int(run_id)}")


def create_link_partition(cursor, run_id: int) -> sql.Identifier:
    """A new table shaped as resolve.link for the run's links, without indexes (a bulk load
    into it maintains none); its check on run_id lets attaching skip the validating scan."""
    partition = link_partition(run_id)
    cursor.execute(sql.SQL(
        "create table {} (like resolve.link including defaults,"
        " constraint {} check (run_id = {}))"
    ).format(partition, sql.Identifier(f"link_run_{int(run_id)}_run"), sql.Literal(int(run_id))))
    return partition


def attach_link_partition(cursor, run_id: int) -> None:
    """Attach the run's table as its partition: builds its indexes and checks its foreign key
    once. Needs only a SHARE UPDATE EXCLUSIVE lock on resolve.link, so readers go on."""
    cursor.execute(sql.SQL("alter table resolve.link attach partition {} for values in ({})")
                   .format(link_partition(run_id), sql.Literal(int(run_id))))


def link_partitions(cursor) -> dict[tuple[str, str], set[int]]:
    """Every partition of resolve.link, (schema, table), with the runs its bound lists."""
    cursor.execute(
        "select n.nspname, c.relname, array(select m[1]::bigint from regexp_matches("
        "  pg_get_expr(c.relpartbound, c.oid), '([0-9]+)', 'g') as m)"
        " from pg_inherits as i join pg_class as c on c.oid = i.inhrelid"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where i.inhparent = 'resolve.link'::regclass")
    return {(schema, name): set(runs) for schema, name, runs in cursor.fetchall()}


def drop_link_partitions(cursor, removing: set[int] | frozenset[int] = frozenset()) -> list[str]:
    """Drop the partitions of resolve.link that hold no run kept: every run they list is
    being removed or no longer in resolve.night_run. Returns what was dropped."""
    cursor.execute("select run_id from resolve.night_run")
    kept = {row[0] for row in cursor.fetchall()} - set(removing)
    dropped = []
    for partition, runs in link_partitions(cursor).items():
        if not runs & kept:
            cursor.execute(sql.SQL("drop table {}").format(sql.Identifier(*partition)))
            dropped.append(".".join(partition))
    return dropped


# How long removing old runs waits for readers of resolve.link (dropping a partition needs an
# exclusive lock on it) before it gives up until the next night, so readers queue no longer.
REMOVE_RUNS_LOCK_TIMEOUT = "10s"


def remove_old_runs(dsn: str, published_run_id: int) -> list[int]:
    """Remove the runs before the one preceding ``published_run_id``: their link partitions
    are dropped, then their rows (enterprises, findings, id changes cascade). When readers
    hold resolve.link longer than REMOVE_RUNS_LOCK_TIMEOUT, or the warehouse is lost,
    nothing is removed; the next night's publication removes them. Returns the runs removed."""
    from psycopg2 import errors

    try:
        with transaction(dsn) as conn, conn.cursor() as cursor:
            cursor.execute("select set_config('lock_timeout', %s, true)",
                           (REMOVE_RUNS_LOCK_TIMEOUT,))
            cursor.execute("select run_id from resolve.night_run where run_id < (select max(run_id)"
                           " from resolve.night_run where run_id < %s)", (published_run_id,))
            old = {row[0] for row in cursor.fetchall()}
            dropped = drop_link_partitions(cursor, old)
            cursor.execute("delete from resolve.night_run where run_id = any(%s)", (sorted(old),))
    except errors.LockNotAvailable:
        log.warning("old runs not removed: readers hold resolve.link; the next night retries")
        return []
    except (psycopg2.OperationalError, WarehouseUnavailable) as exc:
        # The night is published already: tidying up is no reason to report it failed.
        log.warning("old runs not removed (%s); the next night retries", one_line(exc))
        return []
    log.info("removed runs %s, dropped %s", sorted(old), ", ".join(dropped) or "no partition")
    return sorted(old)


def discard_unpublished_runs(dsn: str) -> list[int]:
    """Delete the runs resolved after the published one and never published: a night that
    stopped between its resolution and its publication left them. The ids only they issued
    were never published and are freed, so the night run again issues the ids an
    uninterrupted night would; and the run before the next published one stays the night
    readers saw (credit.audit_finding_change compares with it). Returns the runs deleted."""
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select run_id from resolve.night_run where status in ('resolved', 'audited')"
                       " and run_id > coalesce((select run_id from credit.published), 0)")
        runs = sorted(row[0] for row in cursor.fetchall())
        if not runs:
            return []
        cursor.execute("delete from resolve.enterprise_registry where first_run_id = any(%s)",
                       (runs,))
        # Deleting the runs deletes their links through the foreign key; their emptied
        # partitions go with the next removal of old runs (no exclusive lock taken here).
        cursor.execute("delete from resolve.night_run where run_id = any(%s)", (runs,))
    log.warning("discarded runs %s: resolved by a night that stopped before publishing", runs)
    return runs


def _store_enterprises(cursor, out: Path, run_id: int) -> None:
    columns = ["enterprise_id", "canonical_name", "uscc", "org", "regno", "taxno", "customs",
               "is_branch", "mention_count", "former_names", "region", "legal_rep",
               "head_enterprise_id"]
    cursor.execute("create temp table enterprise_in (enterprise_id text, canonical_name text,"
                   " uscc text, org text, regno text, taxno text, customs text,"
                   " is_branch boolean, mention_count integer, former_names text, region text,"
                   " legal_rep text, head_enterprise_id text) on commit drop")
    parquet_to_table(cursor, out / "enterprises", sql.Identifier("enterprise_in"), columns)
    cursor.execute(
        "insert into resolve.enterprise (run_id, enterprise_id, canonical_name, uscc, org_code,"
        " reg_no, tax_no, customs_code, is_branch, mention_count, former_names, region,"
        " legal_rep, head_enterprise_id)"
        " select %s, enterprise_id, canonical_name, uscc, org, regno, taxno, customs,"
        "  coalesce(is_branch, false), mention_count, coalesce(former_names, '[]')::jsonb,"
        "  region, legal_rep, head_enterprise_id from enterprise_in", (run_id,))
    # The register's status: the run's live AIC registration of the enterprise, as the
    # audits read it (audit.enterprise_registration follows the run in xinyong.run_id).
    cursor.execute("select set_config('xinyong.run_id', %s, true)", (str(run_id),))
    cursor.execute(
        "update resolve.enterprise e set status = r.status from audit.enterprise_registration r"
        " where e.run_id = %s and e.enterprise_id = r.enterprise_id", (run_id,))


def run_spark_job(mentions: Path, prior: Path, out: Path, next_id: int, *,
                  incremental: bool = False, mention_count: int | None = None) -> dict[str, Any]:
    """Run the resolution job with spark-submit, on the master of XINYONG_SPARK_MASTER; or,
    with XINYONG_SPARK_JOB=in-process, in this process's Spark session (``_run_in_process``).
    ``mention_count`` sizes a local driver's heap (``session.driver_memory``)."""
    from xinyong.platform import ensure_java
    from xinyong.resolve.session import class_archive_dump, driver_memory, keep_class_archive

    ensure_java()
    master = os.environ.get("XINYONG_SPARK_MASTER", "local[*]")
    mode = os.environ.get("XINYONG_SPARK_JOB", "spark-submit")
    if mode == "in-process":
        return _run_in_process(mentions, prior, out, next_id, master, incremental=incremental,
                               driver_heap=driver_memory(master, mention_count))
    if mode != "spark-submit":
        raise NightFailed(f"XINYONG_SPARK_JOB is {mode!r}: expected spark-submit or in-process")
    dump = class_archive_dump() if master.startswith("local") else None
    jobs_dir = Path(__file__).resolve().parents[1]
    spark_submit = Path(sys.executable).with_name("spark-submit")
    package_zip = _package_zip(jobs_dir, out.parent)
    command = [
        str(spark_submit),
        "--master", master,
        "--driver-memory", driver_memory(master, mention_count),
        "--py-files", str(package_zip),
        *_extra_spark_arguments(master, dump),
        str(jobs_dir / "xinyong" / "resolve" / "job.py"),
        "--mentions", str(mentions), "--prior", str(prior), "--out", str(out),
        "--next-id", str(next_id), *(["--incremental"] if incremental else []),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(jobs_dir), env.get("PYTHONPATH")]))
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    log.info("spark-submit: %s", " ".join(command))
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if dump is not None:  # the driver has exited: its class dump is whole, or never to be
        if completed.returncode == 0:
            keep_class_archive(dump)
        else:
            dump.unlink(missing_ok=True)
    if completed.returncode != 0:
        raise NightFailed(_job_failure(completed))
    # The job prints its counts as the last line of its output.
    last_line = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "{}"
    return dict(json.loads(last_line))


def _job_failure(completed: subprocess.CompletedProcess[str]) -> str:
    """Why a spark-submit of the job failed, error first. Spark's Python runner sends the
    driver's traceback to stdout (its last line names the error: a missing path, a lost
    executor); stderr holds the JVM's log, whose tail is stack frames."""
    traceback = completed.stdout.strip().splitlines()
    error = traceback[-1] if traceback else "the driver wrote nothing (killed?)"
    return (f"the Spark resolution job failed (exit {completed.returncode}): {error}\n"
            f"driver output:\n{completed.stdout[-3000:]}\nJVM log:\n{completed.stderr[-2000:]}")


def _run_in_process(mentions: Path, prior: Path, out: Path, next_id: int, master: str, *,
                    incremental: bool, driver_heap: str) -> dict[str, Any]:
    """The job in this process's Spark session, kept for the process's next night: nights run
    one after another in one process (a test session) skip the JVM's start, and the later ones
    its warm-up (a 7,354-record night's job: ~14 s warm against 27.9 s through spark-submit)."""
    from xinyong.resolve import build_spark, run_job

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # UDF workers import xinyong
    # The heap applies when this process starts its JVM, i.e. to its first night.
    spark = build_spark("xinyong-resolve", master,
                        extra_conf={"spark.driver.memory": driver_heap, **_spark_conf()})
    try:
        return run_job(spark, str(mentions), str(prior), str(out), next_id, incremental=incremental)
    except Exception as exc:  # Spark's errors reach Python as PySpark or Py4J errors
        raise NightFailed(f"the Spark resolution job failed in this process: {str(exc)[:4000]}") from exc


def _extra_spark_arguments(master: str, dump_classes_to: Path | None) -> list[str]:
    """The driver's Java options (``session.driver_java_options``) and XINYONG_SPARK_CONF
    ("key=value key=value")."""
    from xinyong.resolve.session import driver_java_options

    arguments = []
    if java_options := driver_java_options(master, dump_classes_to=dump_classes_to):
        arguments += ["--driver-java-options", java_options]
    for key, value in _spark_conf().items():
        arguments += ["--conf", f"{key}={value}"]
    return arguments


def _spark_conf() -> dict[str, str]:
    """XINYONG_SPARK_CONF ("key=value key=value") as settings, for either way of running the job."""
    settings = {}
    for setting in os.environ.get("XINYONG_SPARK_CONF", "").split():
        key, equals, value = setting.partition("=")
        if not equals:
            raise NightFailed(f"XINYONG_SPARK_CONF holds {setting!r}: expected key=value")
        settings[key] = value
    return settings


def _package_zip(jobs_dir: Path, where: Path) -> Path:
    """The xinyong package as a zip for --py-files, so cluster executors can import it."""
    import shutil

    base = where / "xinyong_pkg"
    return Path(shutil.make_archive(str(base), "zip", root_dir=jobs_dir, base_dir="xinyong"))


def select_file(path: Path) -> sql.Composable:
    """A SQL file holding one SELECT (maybe ending in ';' and comment lines) as a query to
    nest in another; its text is SQL, never a format string ('%' stays '%')."""
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("--")):
        lines.pop()
    return sql.SQL("\n".join(lines).strip().rstrip(";").replace("%", "%%"))


def analyze_stale_tables(cursor) -> None:
    """Analyze the ingest and resolve tables whose statistics are missing or stale: a night
    loads and links millions of rows just before it summarises and audits them (autovacuum
    may be off or late), and joins planned on empty statistics can take hours."""
    cursor.execute(
        "select schemaname, relname from pg_stat_user_tables"
        " where schemaname in ('ingest', 'resolve')"
        " and (coalesce(last_analyze, last_autoanalyze) is null"
        "      or n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000))")
    stale = [(schema, table) for schema, table in cursor.fetchall()]
    # A partitioned parent never counts as modified: analyze resolve.link (its statistics
    # across partitions) whenever one of its partitions is analyzed.
    if set(stale) & set(link_partitions(cursor)):
        stale.append(("resolve", "link"))
    for schema, table in dict.fromkeys(stale):
        cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table)))


# A summary that reads another's view names it on a comment line: "-- after: activity".
SUMMARY_AFTER = re.compile(r"^--\s*after:(.*)$", re.MULTILINE)


def summary_files() -> list[Path]:
    """The summaries of sql/audits/summaries/, each after the summaries its "-- after:"
    line names (it reads their views), else in the order of their names."""
    paths = {path.stem: path for path in sorted((sql_dir() / "audits" / "summaries").glob("*.sql"))}
    order: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, path in paths.items():
        after = [need for line in SUMMARY_AFTER.findall(path.read_text(encoding="utf-8"))
                 for need in line.replace(",", " ").split()]
        unknown = sorted(set(after) - set(paths))
        if unknown:
            raise ValueError(f"{path}: after {', '.join(unknown)}: no such summary in {path.parent}")
        order.add(name, *after)
    return [paths[name] for name in order.static_order()]


def _summary_layouts(cursor, names: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Per summary name, the columns after run_id of audit.summary_<name> in the table's order
    (what its file selects; not those the table computes, such as evidence_hash), and those
    of its primary key in the key's order (none without one): one catalogue query for them
    all."""
    cursor.execute(
        "select t.name, a.attname, k.n"
        " from unnest(%s::text[]) with ordinality as t (name, position)"
        " join pg_attribute as a on a.attrelid = ('audit.summary_' || t.name)::regclass"
        " left join (select i.indrelid, k.attnum, k.n from pg_index as i"
        "            cross join unnest(i.indkey::int2[]) with ordinality as k (attnum, n)"
        "            where i.indisprimary) as k"
        "   on k.indrelid = a.attrelid and k.attnum = a.attnum"
        " where a.attnum > 0 and not a.attisdropped and a.attgenerated = ''"
        "   and a.attname <> 'run_id'"
        " order by t.position, a.attnum",
        (names,))
    found: dict[str, list[tuple[str, int | None]]] = {name: [] for name in names}
    for name, column, n in cursor.fetchall():
        found[name].append((column, n))
    return {name: ([column for column, _ in columns],
                   [column for _, column in sorted((n, column) for column, n in columns
                                                   if n is not None)])
            for name, columns in found.items()}


def build_audit_summaries(cursor, run_id: int) -> dict[str, int]:
    """Fill the run's audit summaries, audit.summary_<name> from
    sql/audits/summaries/<name>.sql, in the caller's transaction; returns rows per summary.

    Most read whole feeds through the audit.<feed> views once, so that the audits can start
    from a few enterprises (sql/migrations/V011). The planner underestimates the rows of those
    views (a feed's share of resolve.link), and a nested loop planned on such an estimate is
    quadratic: the summaries are built with hash joins only, but for a file that asks for
    nested loops ("-- planner: enable_nestloop = on"): one that reads the records of a few
    enterprises by index (audit.<feed>__by_enterprise, sql/migrations/V012), where a hash join
    would scan every link of the run."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    cursor.execute("select set_config('xinyong.run_id', %s, true),"
                   " current_setting('enable_nestloop')", (str(run_id),))
    nestloop = cursor.fetchone()[1]
    # The tables' columns are read from the catalogue before nested loops are turned off, and
    # not by planning each file: a plan that must keep a nested loop is then costed past the
    # JIT thresholds, and compiling such catalogue queries and plans took 0.2-1.7 s each, 5.7 s
    # of a night on 150 enterprises against 0.3 s without.
    paths = summary_files()
    layouts = _summary_layouts(cursor, [path.stem for path in paths])
    cursor.execute("select set_config('enable_nestloop', 'off', true)")
    for path in paths:
        column_names, key = layouts[path.stem]
        table = sql.Identifier("audit", f"summary_{path.stem}")
        query = select_file(path)
        cursor.execute(sql.SQL("delete from {} where run_id = %s").format(table), (run_id,))
        columns = sql.SQL(", ").join(map(sql.Identifier, column_names))
        # Written in the order of the table's primary key: an audit reading one run's rows by
        # it then reads the table's pages in order, not one page per row.
        order = (sql.SQL(" order by {}").format(sql.SQL(", ").join(map(sql.Identifier, key)))
                 if key else sql.SQL(""))
        with planned_as_asked(cursor, path):
            cursor.execute(sql.SQL("insert into {} (run_id, {}) select %s, {} from (\n{}\n)"
                                   " as summary{}")
                           .format(table, columns, columns, query, order), (run_id,))
            counts[path.stem] = cursor.rowcount  # before the settings are restored
        cursor.execute(sql.SQL("analyze {}").format(table))
    cursor.execute("select set_config('enable_nestloop', %s, true)", (nestloop,))
    seconds = time.monotonic() - started
    cursor.execute("insert into audit.summary_run (run_id, seconds) values (%s, %s)"
                   " on conflict (run_id) do update set built_at = now(), seconds = excluded.seconds",
                   (run_id, round(seconds, 3)))
    log.info("audit summaries of run %s in %.1f s: %s", run_id, seconds,
             ", ".join(f"{name} {rows:,}" for name, rows in counts.items()))
    return counts


# Transaction-level advisory lock key: one audit at a time per warehouse.
AUDIT_LOCK = 73_616_403
# An audit file may ask for a join method to be left out of its plan, one comment line each
# ("-- planner: enable_nestloop = off"): the planner's choice for one audit can be another's
# worst (at scale 1, no nested loops made A8 2x faster and A1 4x slower).
PLANNER_SETTING = re.compile(r"^--\s*planner:\s*(enable_\w+)\s*=\s*(on|off)\s*$", re.MULTILINE)


def planner_settings(path: Path) -> dict[str, str]:
    """The planner settings an audit or summary file asks for (``PLANNER_SETTING`` lines)."""
    return dict(PLANNER_SETTING.findall(path.read_text(encoding="utf-8")))


@contextmanager
def planned_as_asked(cursor, path: Path) -> Iterator[None]:
    """The planner settings the file asks for, for the block alone."""
    previous = {}
    for name, value in planner_settings(path).items():
        cursor.execute("select current_setting(%s), set_config(%s, %s, true)", (name, name, value))
        previous[name] = cursor.fetchone()[0]
    yield
    for name, value in previous.items():
        cursor.execute("select set_config(%s, %s, true)", (name, value))


# What tells a finding's evidence: PostgreSQL's 64-bit hash of the jsonb value (equal evidence,
# equal hash; two different values share one with odds of 1 in 2^64). A rerun compares hashes,
# stored with each finding, instead of evidence: comparing values read both copies back and
# decompressed them (A2 at scale 1: 1.08 s for its 22,290 findings, against 0.45 s to write
# them all again). md5 of the evidence's text took 4x as long as this hash.
EVIDENCE_HASH = "jsonb_hash_extended({}, 0)"


@dataclass
class AuditSession:
    """An audit transaction set up to run audit files against one run (``audit_session``)."""

    cursor: Any
    run_id: int
    run_date: date
    files: dict[str, Path]  # audit code -> its SQL file, in the order they run

    def write_findings(self, code: str) -> int:
        """Run one audit into audit.finding, writing only what changed since the run's earlier
        findings of it (``_write``); returns the enterprises it reports."""
        twice = ValueError(f"audit {code} ({self.files[code].name}) reports an enterprise more"
                           " than once: it must return one row per enterprise")
        with planned_as_asked(self.cursor, self.files[code]):
            statement = self._write(code)
            try:
                self.cursor.execute(statement, self._parameters(code))
            except psycopg2.errors.UniqueViolation as exc:  # twice, and not reported before
                raise twice from exc
            found, enterprises = self.cursor.fetchone()
        if found != enterprises:  # twice, and reported before: one of its rows was kept
            raise twice
        return int(found)

    def explain_findings(self, code: str) -> str:
        """Run one audit as ``write_findings`` does, under EXPLAIN (ANALYZE, BUFFERS); returns
        its plan with each step's rows, time and pages read."""
        with planned_as_asked(self.cursor, self.files[code]):
            statement = self._write(code)
            self.cursor.execute(sql.SQL("explain (analyze, buffers) {}").format(statement),
                                self._parameters(code))
            return "\n".join(line for (line,) in self.cursor.fetchall())

    def _parameters(self, code: str) -> dict[str, Any]:
        return {"run_id": self.run_id, "audit": code, "run_date": self.run_date}

    def _evidence_hash(self, query: sql.Composable) -> sql.Composable:
        """The hash of each finding's evidence: the audit's own evidence_hash column when it
        returns one (an audit copying a summary's evidence copies its hash too, computed when
        the night built it), else computed from the evidence the audit returns."""
        self.cursor.execute(sql.SQL("select * from (\n{}\n) as findings limit 0").format(query))
        if "evidence_hash" in {column.name for column in self.cursor.description}:
            return sql.SQL("findings.evidence_hash::bigint")
        return sql.SQL(EVIDENCE_HASH).format(sql.SQL("findings.evidence"))

    def _write(self, code: str) -> sql.Composable:
        # One statement, one snapshot: the findings no longer reported are deleted, those whose
        # evidence or date changed are updated, the new ones inserted; a finding found again
        # as it was is not written at all. Rewriting every finding of a rerun cost A7 at scale
        # 1 about 0.8 s (deleting 49,531 findings, writing their 75 MB of evidence again and
        # checking each one's run) and left the old rows dead until a vacuum. Changed is told
        # by the evidence's hash (EVIDENCE_HASH), never by reading the earlier evidence.
        query = select_file(self.files[code])
        return sql.SQL("""with found as materialized (
    select findings.enterprise_id, findings.evidence, {} as evidence_hash from (
{}
    ) as findings
),
earlier as (
    select enterprise_id
    from audit.finding
    where run_id = %(run_id)s and audit = %(audit)s
),
gone as (
    delete from audit.finding as f
    where f.run_id = %(run_id)s and f.audit = %(audit)s
      and f.enterprise_id in (select enterprise_id from earlier
                              where enterprise_id not in (select enterprise_id from found
                                                          where enterprise_id is not null))
),
changed as (
    update audit.finding as f
    set run_date = %(run_date)s, evidence = found.evidence, evidence_hash = found.evidence_hash
    from found
    where f.run_id = %(run_id)s and f.audit = %(audit)s and f.enterprise_id = found.enterprise_id
      and (f.run_date is distinct from %(run_date)s
           or f.evidence_hash is distinct from found.evidence_hash)
),
added as (
    insert into audit.finding (run_id, audit, enterprise_id, run_date, evidence, evidence_hash)
    select %(run_id)s, %(audit)s, found.enterprise_id, %(run_date)s, found.evidence,
           found.evidence_hash
    from found
    where found.enterprise_id not in (select enterprise_id from earlier)
       or found.enterprise_id is null
)
select count(*), count(distinct enterprise_id) from found""").format(
            self._evidence_hash(query), query)


def audit_files(only: list[str] | tuple[str, ...] | None = None) -> dict[str, Path]:
    """The audits of sql/audits/ (every A*.sql, or the codes in ``only``), A1 to A<n> in order."""
    files = {path.stem.split("_")[0].upper(): path
             for path in sorted((sql_dir() / "audits").glob("A*.sql"))}
    codes = sorted(files, key=lambda code: (len(code), code))
    if only is not None:
        wanted = {code.strip().upper() for code in only if code.strip()}
        unknown = wanted - set(files)
        if unknown:
            raise ValueError(f"no audit {', '.join(sorted(unknown))} in {sql_dir() / 'audits'};"
                             f" there are {', '.join(codes) or 'none'}")
        codes = [code for code in codes if code in wanted]
    return {code: files[code] for code in codes}


def require_migrated(cursor) -> None:
    """A clear error, not a missing table half-way, for a warehouse never migrated."""
    cursor.execute("select to_regclass('resolve.night_run') is null or to_regclass('resolve.link')"
                   " is null or to_regclass('audit.finding') is null")
    if cursor.fetchone()[0]:
        raise NightFailed("the warehouse has no runs to audit: it was never migrated (run"
                          " `xinyong db migrate`, or a night with `xinyong run`)")


def auditable_run(cursor, run_date: date | None = None) -> int:
    """The run ``xinyong audit`` audits: the latest not superseded (resolved, audited or
    published), of ``run_date`` when given (on a migrated warehouse: ``require_migrated``)."""
    cursor.execute(
        "select max(run_id) from resolve.night_run where status <> 'superseded'"
        " and (%(d)s::date is null or run_date = %(d)s::date)", {"d": run_date})
    run_id = cursor.fetchone()[0]
    if run_id is None:
        raise NightFailed("no resolved or published run to audit"
                          + (f" of {run_date}" if run_date else ""))
    return int(run_id)


@contextmanager
def audit_session(dsn: str, run_date: date | None, run_id: int | None,
                  only: list[str] | tuple[str, ...] | None, *,
                  keep: bool = True, rebuild_summaries: bool = False) -> Iterator[AuditSession]:
    """One transaction to audit a run in: the run is ``run_id``, else the latest run not
    superseded (resolved, audited or published), of ``run_date`` when given (each audit then
    replaces the run's earlier findings of it: ``AuditSession.write_findings``). Its
    summaries are built when it has none, or again when ``rebuild_summaries`` (after a summary
    file changed: A2 and A7 copy their findings from theirs). It commits at the end when
    ``keep``, else rolls back."""
    files = audit_files(only)
    with transaction(dsn) as conn, conn.cursor() as cursor:
        require_migrated(cursor)
        analyze_stale_tables(cursor)
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))  # one audit at a time
        if run_id is None:
            run_id = auditable_run(cursor, run_date)
        if run_date is None:
            cursor.execute("select run_date from resolve.night_run where run_id = %s", (run_id,))
            found = cursor.fetchone()
            if found is None:
                raise NightFailed(f"no run {run_id} to audit")
            run_date = found[0]
        # The audits start from the run's summaries and read the records of the enterprises
        # they report by index (audit.<feed>__by_enterprise): short queries, for which
        # compiling them (JIT) takes longer than running them (1 s of A1's 1.7 s at scale
        # 0.1), and whose index probes cost what they cost on an SSD, not the default four
        # sequential reads each (with it, A1 hashed all 1.66M VAT returns for 15,000 probes:
        # 0.36 s instead of 1.7 s).
        cursor.execute("set local jit = off")
        cursor.execute("set local random_page_cost = 1.1")
        # Their evidence is built from hundreds of thousands of rows at scale 1 (A7: 560k
        # records, sorted and aggregated): sorts and hashes in memory, not in 4 MB batches on
        # disk (A5 4.1 s -> 3.7 s, A1 3.6 s -> 3.0 s). One audit runs at a time (the lock).
        cursor.execute("set local work_mem = '256MB'")
        cursor.execute("select exists (select from audit.summary_run where run_id = %s)", (run_id,))
        if not cursor.fetchone()[0] or rebuild_summaries:  # none: stored before they existed
            build_audit_summaries(cursor, run_id)
        cursor.execute("select set_config('xinyong.run_id', %s, true)", (str(run_id),))
        yield AuditSession(cursor, int(run_id), run_date, files)
        if not keep:
            conn.rollback()


def audit(dsn: str, run_date: date | None = None, run_id: int | None = None,
          only: list[str] | tuple[str, ...] | None = None, *,
          rebuild_summaries: bool = False) -> dict[str, int]:
    """Run the audits of sql/audits/ (every A*.sql, or the codes in ``only``) against a run
    (``audit_session``). Findings carry ``run_date`` (default: the run's date) and replace
    that run's earlier findings of the same audits, in one transaction. A resolved run becomes
    audited; a published run stays published (an analyst re-running audits changes its
    findings in place). ``rebuild_summaries`` builds the run's summaries again first.
    Returns the number of findings per audit code.
    """
    counts: dict[str, int] = {}
    with audit_session(dsn, run_date, run_id, only,
                       rebuild_summaries=rebuild_summaries) as session:
        log.info("auditing run %s of %s: %s", session.run_id, session.run_date,
                 ", ".join(session.files))
        for code in session.files:
            started = time.monotonic()
            counts[code] = session.write_findings(code)
            log.info("audit %s: %d enterprises in %.1f s", code, counts[code],
                     time.monotonic() - started)
        session.cursor.execute("update resolve.night_run set status = 'audited'"
                               " where run_id = %s and status = 'resolved'", (session.run_id,))
    return counts


def explain_audits(dsn: str, run_date: date | None = None, run_id: int | None = None,
                   only: list[str] | tuple[str, ...] | None = None, *,
                   rebuild_summaries: bool = False) -> dict[str, str]:
    """Each audit run as ``audit`` runs it, under EXPLAIN (ANALYZE, BUFFERS): its plan, with
    each step's rows, time and pages read, per audit code. Everything is rolled back: the
    findings and the run's status stay as they were. (Timing every step adds to the time.)"""
    plans: dict[str, str] = {}
    with audit_session(dsn, run_date, run_id, only, keep=False,
                       rebuild_summaries=rebuild_summaries) as session:
        for code in session.files:
            plans[code] = session.explain_findings(code)
    return plans


def _latest_run(cursor, status: str) -> int:
    cursor.execute("select max(run_id) from resolve.night_run where status = %s", (status,))
    run_id = cursor.fetchone()[0]
    if run_id is None:
        raise NightFailed(f"no {status} run to continue from; run the resolution first")
    return int(run_id)


def check_reconciliation(cursor) -> list[str]:
    cursor.execute(
        "select agency, batch_date, file, rows_delivered, rows_loaded, rows_quarantined"
        " from credit.file_reconciliation"
        " where rows_delivered <> rows_loaded + rows_quarantined")
    return [f"{a}/{d}/{f}: delivered {n} <> loaded {lo} + quarantined {q}"
            for a, d, f, n, lo, q in cursor.fetchall()]


def publish(dsn: str, run_date: date, run_id: int | None = None) -> dict[str, Any]:
    """Make the night's run the one readers see, atomically; keep one run before it."""
    with transaction(dsn) as conn, conn.cursor() as cursor:
        run_id = run_id or _latest_run(cursor, "audited")
        problems = check_reconciliation(cursor)
        if problems:
            raise NightFailed("files do not reconcile: " + "; ".join(problems))
        unpublished = _deliveries_since_last_publication(cursor)
        gate_failures = blocking_failures(cursor, unpublished)
        if gate_failures:
            raise NightFailed("blocking expectations failed: " + "; ".join(gate_failures))
        cursor.execute("lock table credit.published in exclusive mode")
        cursor.execute(
            "insert into credit.published (run_id, run_date, max_delivery_id)"
            " select %s, %s, coalesce(max(delivery_id), 0) from ingest.delivery"
            " on conflict (singleton) do update set run_id = excluded.run_id,"
            " run_date = excluded.run_date, max_delivery_id = excluded.max_delivery_id,"
            " published_at = now()", (run_id, run_date))
        cursor.execute("update resolve.night_run set status = 'superseded' where run_id < %s"
                       " and status <> 'superseded'", (run_id,))
        cursor.execute("update resolve.night_run set status = 'published', finished_at = now()"
                       " where run_id = %s", (run_id,))
        # One row, but every view joins it: without statistics the planner guesses thousands.
        cursor.execute("analyze credit.published")
        cursor.execute("select count(*), count(distinct enterprise_id) from resolve.link"
                       " where run_id = %s", (run_id,))
        links, enterprises = cursor.fetchone()
    # Earlier runs go, after publication (readers never wait on it); the run just before
    # stays for comparisons (new findings).
    remove_old_runs(dsn, run_id)
    return {"run_id": run_id, "links": links, "enterprises": enterprises}


def _deliveries_since_last_publication(cursor) -> list[int]:
    cursor.execute(
        "select delivery_id from ingest.delivery where status = 'loaded' and delivery_id >"
        " coalesce((select max_delivery_id from credit.published), 0) order by delivery_id")
    return [row[0] for row in cursor.fetchall()]


def blocking_failures(cursor, delivery_ids: list[int]) -> list[str]:
    from xinyong import validate as gates

    return gates.blocking_failures(cursor, delivery_ids) if delivery_ids else []


@dataclass
class NightSummary:
    run_date: date
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)
    resolution: dict[str, Any] = field(default_factory=dict)
    audits: dict[str, int] = field(default_factory=dict)
    publication: dict[str, Any] = field(default_factory=dict)
    # Wall time of each step, in order: {"ingest": {"started_at": <epoch s>, "seconds": s}, ...}
    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Record the wall time of the step run inside the block as ``stages[stage]``."""
        started_at, started = time.time(), time.perf_counter()
        yield
        self.stages[stage] = {"started_at": started_at, "seconds": time.perf_counter() - started}


class NightAlreadyRunning(NightFailed):
    """Another night holds the warehouse's night lock."""


# Session-level advisory lock key: one night at a time per warehouse.
_NIGHT_LOCK = 73_616_402


@contextmanager
def night_lock(dsn: str, *, shared: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """Hold the warehouse's night lock while the block runs; yields the session holding it.

    ``xinyong run`` holds it exclusively for its whole night. The Airflow DAG's steps run in
    processes of their own, some at once (mapped ingestion): each holds it shared for its step.
    So a night from the command line and a DAG run never interleave their steps: whichever
    asks second is refused at once with NightAlreadyRunning, before it changes anything (a
    DAG step then retries later). Closing the session releases the lock, also after a crash.
    """
    from xinyong.warehouse.db import connect

    lock = connect(dsn, application="xinyong-night-lock")
    try:
        lock.autocommit = True
        with lock.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock_shared(%s)" if shared
                           else "select pg_try_advisory_lock(%s)", (_NIGHT_LOCK,))
            if not cursor.fetchone()[0]:
                cursor.execute(
                    "select coalesce(string_agg(distinct application_name || ' (pid ' || pid"
                    " || ', since ' || backend_start::timestamp(0) || ')', ', '), 'unknown')"
                    " from pg_locks l join pg_stat_activity a using (pid)"
                    " where l.locktype = 'advisory' and l.objid = %s and l.granted", (_NIGHT_LOCK,))
                holder = cursor.fetchone()[0]
                raise NightAlreadyRunning(
                    f"another night is running on this warehouse: {holder}; nothing was changed")
        yield lock
    finally:
        lock.close()


def run_night(dsn: str, landing: Path, run_date: date, *,
              full_resolution: bool | None = None) -> NightSummary:
    """The whole night in this process, in the DAG's order, holding the night lock."""
    with night_lock(dsn) as lock:
        return _run_night_steps(dsn, landing, run_date, full_resolution, lock)


def _run_night_steps(dsn: str, landing: Path, run_date: date, full_resolution: bool | None,
                     lock: psycopg2.extensions.connection) -> NightSummary:
    summary = NightSummary(run_date)
    with _step(summary, "prepare", lock):
        prepare(dsn)
    with _step(summary, "ingest", lock):
        summary.deliveries = ingest_all(dsn, landing, run_date)
    with _step(summary, "validate", lock):
        summary.validation = validate(dsn, run_date)
    with _step(summary, "resolve", lock):
        summary.resolution = resolve(dsn, run_date, full=full_resolution)
    with _step(summary, "audit", lock):
        summary.audits = audit(dsn, run_date, summary.resolution["run_id"])
    with _step(summary, "publish", lock):
        summary.publication = publish(dsn, run_date, summary.resolution["run_id"])
    return summary


@contextmanager
def _step(summary: NightSummary, stage: str,
          lock: psycopg2.extensions.connection) -> Iterator[None]:
    """A timed step of ``run_night``. It starts only while the session holding the night lock
    lives (a lost session has released it: another night could start); a warehouse error
    inside it ends the night with one line saying where and why (the traceback is logged at
    INFO, shown by ``-v``)."""
    try:
        with lock.cursor() as cursor:
            cursor.execute("select 1")
    except psycopg2.Error as exc:
        raise WarehouseUnavailable(
            f"lost the session holding the night lock before {stage}: {_reason(exc)}."
            " The night stopped; run it again") from exc
    try:
        with summary.timed(stage):
            yield
    except NightFailed:
        raise
    except Exception as exc:
        cause = _warehouse_error(exc)
        if cause is None:
            raise
        log.info("%s stopped on a warehouse error", stage, exc_info=True)
        if _connection_lost(cause):
            raise WarehouseUnavailable(
                f"lost the connection to the warehouse during {stage}: {_reason(cause)}."
                " The night stopped; readers still see the last published night. Run it again"
            ) from exc
        raise NightFailed(f"{stage}: the warehouse failed: {_reason(cause)}") from exc


def _reason(error: BaseException) -> str:
    return one_line(error).rstrip(".")


def _warehouse_error(exc: BaseException) -> psycopg2.Error | None:
    """The operational error of the warehouse (not of the SQL) behind ``exc``, also under
    what a library (SQLAlchemy, Great Expectations) raised on top of it: the deepest one,
    as psycopg2 reports a closed connection over the error that closed it."""
    found: psycopg2.Error | None = None
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(seen, psycopg2.OperationalError | psycopg2.InterfaceError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _connection_lost(error: psycopg2.Error) -> bool:
    """No SQLSTATE (the socket closed), a connection exception (08xxx), the server shut down
    or terminated the session (57P01-57P03), or a connection already closed."""
    code = error.pgcode or ""
    return (isinstance(error, psycopg2.InterfaceError) or not code or code.startswith("08")
            or code in ("57P01", "57P02", "57P03"))


def warehouse_dsn() -> str:
    """XINYONG_WAREHOUSE_DSN, or the embedded development server when it is unset."""
    from xinyong.platform import warehouse_dsn as resolve_dsn

    return resolve_dsn()
