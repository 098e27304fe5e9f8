"""`xinyong bench`: the night's measured cost, with baselines taken in the same run on the same data.

One run at scale S (1 = 750,000 enterprises, about 42.7M records):

1. generates two nights of deliveries (or reuses them) under ``.xinyong/bench/scale-S``;
2. creates a scratch warehouse database and runs a full first night, then a delta night, with
   ``xinyong.night.run_night`` (what ``xinyong run`` runs), recording per stage (parse + load,
   validate, resolve, audit, publish) wall time, rows/s and peak memory;
3. baselines: raw PostgreSQL ``COPY`` of the rows the first night's ingestion produced, and
   Splink's resolution against ours on the same live mentions (``xinyong.compare``; skipped,
   with the reason, without Splink or above ``splink_max_scale``);
4. query latency (p50/p95 over repeated runs): an enterprise by each code kind and by id on
   ``credit.enterprise``, the enterprise profile, and each audit as ``xinyong audit --only X``;
5. the warehouse's size, and the targets of issue 6 met or not, computed from the numbers.

Results go to ``<out>/scale-S.json`` and ``<out>/scale-S.md``. Memory is sampled from /proc
every 0.25 s for this process and every process descended from it (spark-submit's JVM, its
Python driver and workers, the baseline's in-process Spark JVM); PostgreSQL's server processes
are not descendants and are not counted.
"""

from __future__ import annotations

import json
import math
import os
import platform as host
import random
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg2 import sql

from xinyong import platform
from xinyong.feeds import all_feeds
from xinyong.ingest.deliveries import LOAD_STEPS
from xinyong.night import NightSummary, audit, run_night
from xinyong.warehouse.db import connect, transaction
from xinyong.warehouse.schema import staged_columns, table_name

GENERATOR_SEED = 20261110
SPLINK_MAX_SCALE = 0.1
LOOKUPS = 50  # lookups per query kind, each with another random key
AUDIT_RUNS = 10  # runs per audit
SAMPLE_INTERVAL = 0.25  # seconds between memory samples
STAGE_LABELS = {"prepare": "prepare (migrations)", "ingest": "parse + load", "validate": "validate",
                "resolve": "resolve", "audit": "audit", "publish": "publish"}
# An enterprise by each code kind of the resolver (``resolve.link`` evidence names), or by id.
LOOKUP_COLUMNS = {"uscc": "uscc", "org": "org_code", "regno": "reg_no", "taxno": "tax_no",
                  "customs": "customs_code", "enterprise_id": "enterprise_id"}
# Issue 6's targets on the 2-core, 24 GiB machine.
FULL_NIGHT_MINUTES = 45
DELTA_NIGHT_MINUTES = 3
PEAK_MEMORY_GIB = 16
LOAD_VS_COPY = 2.0
LOOKUP_P95_MS = 20
AUDIT_P95_MS = 1000
NEAR_LINEAR = 1.5
MIB = 1024 * 1024


def scale_label(scale: float) -> str:
    return f"{scale:g}"


def run_bench(scale: float, out_dir: Path, *, server: str | None = None,
              data_root: Path | None = None, database: str | None = None,
              splink_max_scale: float = SPLINK_MAX_SCALE, lookups: int = LOOKUPS,
              audit_runs: int = AUDIT_RUNS, keep_database: bool = False) -> dict[str, Any]:
    """Run the benchmark at ``scale`` on ``server`` (default: the warehouse server) in a scratch
    database (default ``xinyong_bench_<scale>``, dropped afterwards unless ``keep_database``);
    write and return the result."""
    from xinyong.generate import GeneratorConfig, generate

    label = scale_label(scale)
    data = (data_root or platform.state_dir() / "bench") / f"scale-{label}"
    if not (data / "truth" / "summary.json").exists():
        generate(data, GeneratorConfig(scale=scale, nights=2, seed=GENERATOR_SEED))
    landing = data / "landing"
    first, delta = (date(int(n[:4]), int(n[4:6]), int(n[6:]))
                    for n in sorted(p.name for p in (landing / "aic").iterdir())[:2])

    server = server or platform.warehouse_dsn()
    name = database or f"xinyong_bench_{label.replace('.', '_')}"
    platform.drop_database(server, name)
    platform.create_database(server, name)
    dsn = platform.database_dsn(server, name)
    phases: dict[str, tuple[float, float]] = {}
    try:
        with MemorySampler() as memory:
            first_summary = run_night(dsn, landing, first)
            started = time.time()
            copied_rows, copy_seconds, logged_copy_seconds = _raw_copy_baseline(dsn)
            phases["raw_copy_baseline"] = (started, time.time())
            delta_summary = run_night(dsn, landing, delta, full_resolution=False)
            size = _warehouse_size(dsn)
            started = time.time()
            splink = _splink_baseline(dsn, data / "truth", scale, splink_max_scale)
            phases["splink_baseline"] = (started, time.time())
            started = time.time()
            latency = query_latency(dsn, lookups, random.Random(GENERATOR_SEED))
            latency["audits"] = audit_latency(dsn, list(first_summary.audits), audit_runs)
            phases["latency"] = (started, time.time())
    finally:
        if not keep_database:
            platform.drop_database(server, name)

    nights = {"first": _night(first_summary, memory), "delta": _night(delta_summary, memory)}
    ingest_seconds = nights["first"]["stages"]["ingest"]["seconds"]
    load_seconds = nights["first"]["files"]["load_seconds"]
    result: dict[str, Any] = {
        "scale": scale,
        "enterprises": json.loads((data / "truth" / "summary.json").read_text()).get("enterprises"),
        "commit": _commit(),
        "machine": machine(),
        "nights": nights,
        "baselines": {
            "raw_copy": {"rows": copied_rows, "seconds": round(copy_seconds, 3),
                         "rows_per_s": _rate(copied_rows, copy_seconds),
                         "ingest_seconds": ingest_seconds,
                         "ingest_ratio": round(ingest_seconds / copy_seconds, 2) if copy_seconds else None,
                         "load_seconds": load_seconds,
                         "ratio": round(load_seconds / copy_seconds, 2) if copy_seconds else None},
            "raw_copy_logged": {
                "rows": copied_rows, "seconds": round(logged_copy_seconds, 3),
                "rows_per_s": _rate(copied_rows, logged_copy_seconds),
                "ratio": round(load_seconds / logged_copy_seconds, 2) if logged_copy_seconds else None},
            "splink": splink,
        },
        "latency": latency,
        "warehouse": size,
        "memory": {
            "phases": {phase: memory.peak(*window) for phase, window in phases.items()},
            **memory.whole_run(),
        },
    }
    result["targets"] = targets(result, _other_results(out_dir, scale))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"scale-{label}.json").write_text(json.dumps(result, indent=2, default=str) + "\n",
                                                 encoding="utf-8")
    (out_dir / f"scale-{label}.md").write_text(markdown(result), encoding="utf-8")
    return result


# --- memory ----------------------------------------------------------------------------------


def _process_tree(root: int) -> dict[int, tuple[int, int]]:
    """{pid: (VmRSS KiB, VmHWM KiB)} of ``root`` and every process descended from it."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()  # the name may hold ')' and spaces
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    tree, pending = {}, [root]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                values = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
        except OSError:
            continue
        if values:  # zombies have none
            tree[pid] = (int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0]))
    return tree


class MemorySampler:
    """Samples, in a background thread, the resident memory of this process and its descendants.

    Each sample is (time.time(), largest single process RSS, sum of RSS over the tree) in KiB;
    the highest VmHWM seen of any process is kept as well (peaks between samples)."""

    def __init__(self, interval: float = SAMPLE_INTERVAL) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self.highest_hwm_kib = 0
        self._before: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xinyong-bench-memory", daemon=True)

    def __enter__(self) -> MemorySampler:
        # Processes this one already had (a Spark JVM of its own, in a test session) are not
        # the run's: only what the run starts is measured beside this process.
        self._before = set(_process_tree(os.getpid())) - {os.getpid()}
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            tree = {pid: memory for pid, memory in _process_tree(os.getpid()).items()
                    if pid not in self._before}
            if tree:
                self.samples.append((time.time(), max(rss for rss, _ in tree.values()),
                                     sum(rss for rss, _ in tree.values())))
                self.highest_hwm_kib = max(self.highest_hwm_kib, *(hwm for _, hwm in tree.values()))
            if self._stop.wait(self.interval):
                return

    def peak(self, start: float, end: float) -> dict[str, float | None]:
        """Peak RSS (MiB) of one process and of the whole tree over a window of time.

        A window shorter than the interval takes the first sample after it started."""
        window = [s for s in self.samples if start <= s[0] <= end + self.interval]
        window = window or [s for s in self.samples if s[0] >= start][:1]
        if not window:
            return {"peak_process_mib": None, "peak_tree_mib": None}
        return {"peak_process_mib": round(max(s[1] for s in window) / 1024),
                "peak_tree_mib": round(max(s[2] for s in window) / 1024)}

    def whole_run(self) -> dict[str, Any]:
        """Peaks over the whole run: sampled, and as the kernel accounts them (getrusage)."""
        self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak = max(self.highest_hwm_kib, self_kib, children_kib)
        return {"peak_rss_self_mib": round(self_kib / 1024),
                "peak_rss_children_mib": round(children_kib / 1024),
                "peak_hwm_sampled_mib": round(self.highest_hwm_kib / 1024),
                "peak_tree_mib": round(max((s[2] for s in self.samples), default=0) / 1024),
                "peak_process_gib": round(peak / MIB, 2)}


# --- the nights ------------------------------------------------------------------------------


def _rate(rows: int | None, seconds: float) -> int | None:
    return round(rows / seconds) if rows is not None and seconds > 0 else None


def _night(summary: NightSummary, memory: MemorySampler) -> dict[str, Any]:
    """Per stage: seconds, the rows it handled, rows/s and peak memory.

    Rows: parse + load and validate, the rows of the night's loaded deliveries; resolve and
    audit, the live mentions resolved; publish, the run's links."""
    files = [f for d in summary.deliveries if d["status"] == "loaded" for f in d["files"]]
    delivered = sum(f["rows_delivered"] for f in files)
    rows = {"prepare": None, "ingest": delivered, "validate": delivered,
            "resolve": summary.resolution.get("mentions"), "audit": summary.resolution.get("mentions"),
            "publish": summary.publication.get("links")}
    stages = {}
    for stage, timing in summary.stages.items():
        seconds = timing["seconds"]
        stages[stage] = {"seconds": round(seconds, 2), "rows": rows.get(stage),
                         "rows_per_s": _rate(rows.get(stage), seconds),
                         **memory.peak(timing["started_at"], timing["started_at"] + seconds)}
    total = sum(timing["seconds"] for timing in summary.stages.values())
    begin = min(t["started_at"] for t in summary.stages.values())
    return {"date": summary.run_date.isoformat(), "rows_delivered": delivered,
            "seconds": round(total, 2), "rows_per_s": _rate(delivered, total),
            "incremental": summary.resolution.get("incremental"),
            # Parse and load happen file by file, in parallel across agencies: their times are
            # summed over the files (a sum can exceed the stage's wall time).
            # Not rounded: a tiny delta night's files take well under 10 ms.
            "files": {"parse_seconds": sum(f["parse_seconds"] for f in files),
                      "load_seconds": sum(f["load_seconds"] for f in files),
                      "load_step_seconds": {
                          step: sum(f["load_step_seconds"].get(step, 0.0) for f in files)
                          for step in LOAD_STEPS},
                      "rows_loaded": sum(f["rows_loaded"] for f in files)},
            "audit_findings": sum(summary.audits.values()),
            "stages": stages, "resolve_steps": _resolve_steps(summary.resolution),
            **memory.peak(begin, begin + total)}


def _resolve_steps(resolution: dict[str, Any]) -> dict[str, float]:
    """The resolve stage's wall time by step, the Spark job's own steps ("spark: ...")
    after it; ``seconds_to_links`` is a running total, not a step."""
    spark = {f"spark: {key.removeprefix('seconds_')}": value for key, value in resolution.items()
             if key.startswith("seconds_") and key != "seconds_to_links"}
    return {**resolution.get("steps", {}), **spark}


# --- baselines -------------------------------------------------------------------------------


def _raw_copy_baseline(dsn: str) -> tuple[int, float, float]:
    """COPY the loaded rows out, then time COPY of the same rows into empty tables of the
    loader's staging shape, without indexes: a temporary table (no WAL: the target's
    baseline) and an ordinary table (WAL written, as the loader's is).
    Returns the rows and both times."""
    total_rows = 0
    baselines = {"temporary": (sql.SQL("temp table"), sql.Identifier("copy_baseline_temporary")),
                 "ordinary": (sql.SQL("table"), sql.Identifier("copy_baseline_ordinary"))}
    seconds = dict.fromkeys(baselines, 0.0)
    with tempfile.TemporaryDirectory() as scratch, transaction(dsn) as conn, conn.cursor() as cursor:
        for agency, feed in all_feeds():
            table = sql.Identifier("ingest", table_name(agency, feed))
            columns = sql.SQL(", ").join(map(sql.Identifier, staged_columns(feed)))
            dump = Path(scratch) / f"{agency.code}_{feed.feed}.csv"
            with dump.open("wb") as out:
                cursor.copy_expert(sql.SQL("copy (select {} from {}) to stdout with (format csv)")
                                   .format(columns, table).as_string(cursor), out)
            for create, baseline in baselines.values():
                cursor.execute(sql.SQL("create {} {} as select {} from {} limit 0")
                               .format(create, baseline, columns, table))
            # Committed before the COPYs: COPY into a table created in its own transaction may
            # skip WAL (wal_level minimal); the loader's never does. Temporary tables outlive it.
            conn.commit()
            for kind, (_, baseline) in baselines.items():
                with dump.open("rb") as source:
                    started = time.perf_counter()
                    cursor.copy_expert(sql.SQL("copy {} ({}) from stdin with (format csv)")
                                       .format(baseline, columns).as_string(cursor), source)
                    seconds[kind] += time.perf_counter() - started
            cursor.execute(sql.SQL("select count(distinct (line_no, record_key)) from {}")
                           .format(baselines["temporary"][1]))
            total_rows += int(cursor.fetchone()[0])
            for _, baseline in baselines.values():
                cursor.execute(sql.SQL("drop table {}").format(baseline))
            conn.commit()
    return total_rows, seconds["temporary"], seconds["ordinary"]


def _splink_baseline(dsn: str, truth: Path, scale: float, max_scale: float) -> dict[str, Any]:
    """Our job and Splink, each from scratch on the warehouse's live mentions (xinyong.compare)."""
    from xinyong.compare import SPLINK_THRESHOLDS, resolve_both, splink_missing

    if scale > max_scale:
        return {"skipped": f"scale {scale_label(scale)} is above --splink-max-scale"
                           f" {scale_label(max_scale)}"}
    if reason := splink_missing():
        return {"skipped": reason}
    try:
        both = resolve_both(dsn, truth, thresholds=SPLINK_THRESHOLDS[:1], runs=1)
    except ValueError as failure:  # Splink's EM cannot train on very few mentions
        return {"skipped": f"the comparison failed: {type(failure).__name__}: {failure}"}
    ours, splink = both["results"]
    return {"mentions": both["mentions"], "spark_session_seconds": both["spark_session_seconds"],
            "ours": ours, "splink": splink,
            "ratio": round(ours["seconds"] / splink["seconds"], 2) if splink["seconds"] else None}


# --- latency ---------------------------------------------------------------------------------


def percentiles(milliseconds: Sequence[float]) -> dict[str, Any]:
    """n, p50, p95 (nearest rank) and max of timings in milliseconds."""
    ordered = sorted(milliseconds)
    if not ordered:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)

    return {"n": len(ordered), "p50_ms": rank(0.50), "p95_ms": rank(0.95), "max_ms": rank(1.0)}


def _timed_queries(cursor: Any, query: sql.Composable, keys: Iterable[str]) -> list[float]:
    timings = []
    for key in keys:
        started = time.perf_counter()
        cursor.execute(query, (key,))
        cursor.fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def query_latency(dsn: str, lookups: int, rng: random.Random) -> dict[str, Any]:
    """An enterprise by each code kind and by id (credit.enterprise), and the enterprise profile
    by id, each ``lookups`` times with different random keys, one reader's session."""
    conn = connect(dsn, application="xinyong-bench-reader")
    conn.autocommit = True  # every lookup its own transaction, as an analyst's
    try:
        with conn.cursor() as cursor:
            keys = {}
            for kind, column in LOOKUP_COLUMNS.items():
                cursor.execute(sql.SQL("select distinct {0} from credit.enterprise where {0} is not null"
                                       " order by 1").format(sql.Identifier(column)))
                found = [row[0] for row in cursor.fetchall()]
                keys[kind] = rng.sample(found, min(lookups, len(found)))
            latency = {}
            for kind, column in LOOKUP_COLUMNS.items():
                query = sql.SQL("select * from credit.enterprise where {} = %s").format(
                    sql.Identifier(column))
                latency[f"enterprise by {kind}"] = percentiles(_timed_queries(cursor, query, keys[kind]))
            profile_ids = rng.sample(keys["enterprise_id"], len(keys["enterprise_id"]))
            latency["enterprise_profile by enterprise_id"] = percentiles(_timed_queries(
                cursor, sql.SQL("select * from credit.enterprise_profile where enterprise_id = %s"),
                profile_ids))
    finally:
        conn.close()
    return {"lookups": latency}


def audit_run_times(dsn: str, code: str, runs: int) -> list[float]:
    """One audit ``runs`` times as ``xinyong audit --only CODE`` runs it (on the latest run):
    each run's milliseconds, in order."""
    milliseconds = []
    for _ in range(runs):
        started = time.perf_counter()
        audit(dsn, only=[code])
        milliseconds.append((time.perf_counter() - started) * 1000)
    return milliseconds


def audit_latency(dsn: str, codes: Sequence[str], runs: int) -> dict[str, Any]:
    """Each audit ``runs`` times (``audit_run_times``): p50/p95/max per audit code."""
    return {code: percentiles(audit_run_times(dsn, code, runs)) for code in codes}


# --- warehouse size, targets -----------------------------------------------------------------


def _warehouse_size(dsn: str, biggest: int = 10) -> dict[str, Any]:
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select pg_database_size(current_database())")
        database_bytes = int(cursor.fetchone()[0])
        cursor.execute(
            "select n.nspname || '.' || c.relname, pg_total_relation_size(c.oid),"
            " greatest(c.reltuples, 0)::bigint from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'm')"
            " and n.nspname not in ('pg_catalog', 'information_schema')"
            " and n.nspname not like 'pg\\_%%'"
            " order by 2 desc limit %s", (biggest,))
        tables = [{"table": t, "mib": round(size / MIB, 1), "rows_estimate": rows}
                  for t, size, rows in cursor.fetchall()]
    return {"database_mib": round(database_bytes / MIB, 1), "biggest_tables": tables}


def _other_results(out_dir: Path, scale: float) -> dict[float, dict[str, Any]]:
    """The results of the other scales already in ``out_dir`` (for the near-linear target)."""
    others = {}
    for path in out_dir.glob("scale-*.json"):
        try:
            other = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(other, dict) and "nights" in other and other.get("scale") != scale:
            others[float(other["scale"])] = other
    return others


def _target(name: str, measured: str, met: bool | None, note: str = "") -> dict[str, Any]:
    status = "n/a" if met is None else "met" if met else "not met"
    return {"target": name, "measured": measured, "status": status + (f" ({note})" if note else "")}


def _at_scale_1(name: str, minutes: float, limit: float, scale: float) -> dict[str, Any]:
    measured = f"{minutes:.2f} min at scale {scale_label(scale)}"
    if scale == 1:
        return _target(name, measured, minutes <= limit)
    if minutes > limit:  # already over at a smaller scale
        return _target(name, measured, False, f"already at scale {scale_label(scale)}")
    return _target(name, measured, None, "judged at scale 1")


def _seconds_per_row(result: dict[str, Any]) -> float:
    night = result["nights"]["first"]
    return float(night["seconds"]) / max(1, int(night["rows_delivered"]))


def targets(result: dict[str, Any], others: dict[float, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 6's targets, met or not, from the measured numbers."""
    scale = result["scale"]
    nights, latency = result["nights"], result["latency"]
    rows = [
        _at_scale_1(f"full night ≤ {FULL_NIGHT_MINUTES} min at scale 1",
                    nights["first"]["seconds"] / 60, FULL_NIGHT_MINUTES, scale),
        _at_scale_1(f"delta night ≤ {DELTA_NIGHT_MINUTES} min at scale 1",
                    nights["delta"]["seconds"] / 60, DELTA_NIGHT_MINUTES, scale),
    ]
    # The nights' processes: the baselines (Splink's DuckDB runs in this process) are not ours.
    peak = max(nights[n]["peak_process_mib"] for n in ("first", "delta")) / 1024
    rows.append(_target(f"peak memory of any process ≤ {PEAK_MEMORY_GIB} GiB",
                        f"{peak:.2f} GiB in the nights (PostgreSQL server and the baselines not counted;"
                        f" whole run {result['memory']['peak_process_gib']:.2f} GiB)",
                        peak <= PEAK_MEMORY_GIB))
    copy = result["baselines"]["raw_copy"]
    ratio = copy["ratio"]
    rows.append(_target(f"loading within {LOAD_VS_COPY:g}x of raw COPY",
                        f"load {ratio}x (parse + load {copy['ingest_ratio']}x; the load"
                        f" {result['baselines']['raw_copy_logged']['ratio']}x of COPY into an"
                        f" ordinary table, WAL written)" if ratio is not None
                        else "no COPY time",
                        ratio <= LOAD_VS_COPY if ratio is not None else None))
    lookups = {k: v["p95_ms"] for k, v in latency["lookups"].items() if v["p95_ms"] is not None}
    if lookups:
        worst = max(lookups, key=lambda k: lookups[k])
        rows.append(_target(f"enterprise lookup p95 ≤ {LOOKUP_P95_MS} ms",
                            f"worst {lookups[worst]} ms ({worst})", lookups[worst] <= LOOKUP_P95_MS))
    else:
        rows.append(_target(f"enterprise lookup p95 ≤ {LOOKUP_P95_MS} ms", "no enterprise", None))
    audits = {k: v["p95_ms"] for k, v in latency["audits"].items() if v["p95_ms"] is not None}
    if audits:
        worst = max(audits, key=lambda k: audits[k])
        rows.append(_target("each audit p95 ≤ 1 s", f"worst {audits[worst]} ms ({worst})",
                            audits[worst] <= AUDIT_P95_MS))
    else:
        rows.append(_target("each audit p95 ≤ 1 s", "no audit ran", None))
    pair = {1.0: result, **others} if scale == 1 else {0.1: result, **others} if scale == 0.1 else {}
    name = f"time per record at scale 1 within {NEAR_LINEAR:g}x of scale 0.1 (full night)"
    if 1.0 in pair and 0.1 in pair:
        growth = _seconds_per_row(pair[1.0]) / _seconds_per_row(pair[0.1])
        rows.append(_target(name, f"{growth:.2f}x (commits {pair[1.0]['commit']},"
                                  f" {pair[0.1]['commit']})", growth <= NEAR_LINEAR))
    else:
        rows.append(_target(name, "—", None, "needs the results of scales 1 and 0.1"))
    return rows


# --- report ----------------------------------------------------------------------------------


def _cell(value: Any, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and digits is not None:
        return f"{value:,.{digits}f}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    first = result["nights"]["first"]
    lines = [
        f"## Benchmark at scale {scale_label(result['scale'])}", "",
        f"{_cell(result['enterprises'])} enterprises; {first['rows_delivered']:,} records in the"
        f" first night, {result['nights']['delta']['rows_delivered']:,} in the delta night."
        f" Commit {result['commit']}; {result['machine']}.", "",
        "| night | stage | seconds | rows | rows/s | peak process RSS (MiB) | peak tree RSS (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for night, label in (("first", "first (full)"), ("delta", "delta")):
        numbers = result["nights"][night]
        for stage, s in numbers["stages"].items():
            lines.append(f"| {label} | {STAGE_LABELS.get(stage, stage)} | {s['seconds']:.2f}"
                         f" | {_cell(s['rows'])} | {_cell(s['rows_per_s'])}"
                         f" | {_cell(s['peak_process_mib'])} | {_cell(s['peak_tree_mib'])} |")
            if stage == "resolve":
                for step, seconds in numbers.get("resolve_steps", {}).items():
                    lines.append(f"| {label} | ↳ {step.replace('_', ' ')} | {seconds:.2f} | — | — | — | — |")
            if stage == "ingest":
                for part in ("parse", "load"):
                    seconds = numbers["files"][f"{part}_seconds"]
                    lines.append(f"| {label} | ↳ {part}, Σ over files | {seconds:.2f} | {_cell(s['rows'])}"
                                 f" | {_cell(_rate(s['rows'], seconds))} | — | — |")
                for step, seconds in numbers["files"].get("load_step_seconds", {}).items():
                    lines.append(f"| {label} | ↳ load: {step}, Σ over files | {seconds:.2f}"
                                 " | — | — | — | — |")
        lines.append(f"| {label} | **night** | **{numbers['seconds']:.2f}** | {numbers['rows_delivered']:,}"
                     f" | {_cell(numbers['rows_per_s'])} | {_cell(numbers['peak_process_mib'])}"
                     f" | {_cell(numbers['peak_tree_mib'])} |")
    memory = result["memory"]
    lines += ["", f"Peak RSS over the run: this process {memory['peak_rss_self_mib']:,} MiB, largest"
                  f" child (getrusage) {memory['peak_rss_children_mib']:,} MiB, largest VmHWM sampled"
                  f" {memory['peak_hwm_sampled_mib']:,} MiB, whole process tree"
                  f" {memory['peak_tree_mib']:,} MiB.", "",
              "### Baselines (same data, same run)", "",
              "| measure | ours (s) | baseline (s) | ours / baseline |", "|---|---|---|---|"]
    copy = result["baselines"]["raw_copy"]
    lines.append("| first night load (COPY into the feed tables, replaced versions closed;"
                 f" Σ over files) vs raw PostgreSQL COPY of the same {copy['rows']:,} rows"
                 " into an empty temporary table (no WAL, no index)"
                 f" | {copy['load_seconds']:.2f} | {copy['seconds']:.2f} | {_cell(copy['ratio'])} |")
    logged = result["baselines"]["raw_copy_logged"]
    lines.append("| the same load vs raw COPY of the same rows into an ordinary (logged) empty table"
                 f" | {copy['load_seconds']:.2f} | {logged['seconds']:.2f} | {_cell(logged['ratio'])} |")
    lines.append(f"| first night parse + load (wall) vs the same raw COPY"
                 f" | {copy['ingest_seconds']:.2f} | {copy['seconds']:.2f} | {_cell(copy['ingest_ratio'])} |")
    splink = result["baselines"]["splink"]
    if "skipped" in splink:
        lines += ["", f"Splink baseline skipped: {splink['skipped'].rstrip('.')}."]
    else:
        ours, theirs = splink["ours"], splink["splink"]
        lines.append(f"| resolution from scratch of {splink['mentions']:,} live mentions: xinyong (Spark,"
                     f" to its links written; whole job {ours['whole_job_seconds'][0]} s)"
                     f" vs {theirs['tool']} | {ours['seconds']} | {theirs['seconds']}"
                     f" | {_cell(splink['ratio'])} |")
        lines += ["", f"Pairwise F1: xinyong {ours['pairwise_f1']:.5f}, Splink {theirs['pairwise_f1']:.5f};"
                      f" B-cubed F1: xinyong {ours['bcubed_f1']:.5f}, Splink {theirs['bcubed_f1']:.5f}"
                      f" (Spark session start {splink['spark_session_seconds']} s, not counted)."]
    lines += ["", "### Query latency (delta night's published run)", "",
              "| query | runs | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    latency = result["latency"]
    for query, p in latency["lookups"].items():
        lines.append(f"| {query} | {p['n']} | {_cell(p['p50_ms'])} | {_cell(p['p95_ms'])}"
                     f" | {_cell(p['max_ms'])} |")
    for code, p in latency["audits"].items():
        lines.append(f"| audit {code} (`xinyong audit --only {code}`) | {p['n']} | {_cell(p['p50_ms'])}"
                     f" | {_cell(p['p95_ms'])} | {_cell(p['max_ms'])} |")
    size = result["warehouse"]
    lines += ["", f"### Warehouse size after the delta night: {size['database_mib']:,} MiB", "",
              "| table | MiB | rows (estimate) |", "|---|---|---|"]
    lines += [f"| {t['table']} | {t['mib']:,} | {t['rows_estimate']:,} |" for t in size["biggest_tables"]]
    lines += ["", "### Targets of issue 6", "", "| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {t['status']} |" for t in result["targets"]]
    return "\n".join(lines) + "\n"


def _commit() -> str:
    root = platform.project_root()
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                           cwd=root, check=False)
    commit = found.stdout.strip() or "unknown"
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, cwd=root, check=False)
    return commit + (" (with uncommitted changes)" if changed.stdout.strip() else "")


def machine() -> str:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return (f"{host.machine()}, {os.cpu_count()} cores, {round(kib / MIB)} GiB memory,"
            f" {host.platform()}")
