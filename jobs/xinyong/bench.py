"""`xinyong bench`: measured speed, with a baseline taken in the same run on the same rows.

Stage measured so far: ingestion (parse + verify + COPY + apply changes) of the first night,
against raw PostgreSQL COPY of the rows it produced into an identical empty table. Results go
to bench/results/<scale>.json and .md.
"""

from __future__ import annotations

import json
import os
import platform as host
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from psycopg2 import sql

from xinyong import platform
from xinyong.feeds import all_feeds
from xinyong.night import agency_codes, prepare
from xinyong.warehouse.db import transaction
from xinyong.warehouse.schema import staged_columns, table_name


def run_bench(scale: float, out_dir: Path) -> dict[str, Any]:
    from xinyong.generate import GeneratorConfig, generate

    data = platform.state_dir() / "bench" / f"scale-{scale}"
    if not (data / "truth" / "summary.json").exists():
        generate(data, GeneratorConfig(scale=scale, nights=2, seed=20261110))
    landing = data / "landing"
    first_night = min(p.name for p in (landing / "aic").iterdir())
    night_date = date(int(first_night[:4]), int(first_night[4:6]), int(first_night[6:]))

    server = platform.warehouse_dsn()
    name = f"xinyong_bench_{str(scale).replace('.', '_')}"
    platform.drop_database(server, name)
    platform.create_database(server, name)
    dsn = platform.database_dsn(server, name)
    prepare(dsn)

    from xinyong.ingest.deliveries import ingest_agency

    started = time.perf_counter()
    for code in agency_codes():
        ingest_agency(dsn, landing, code, night_date)
    load_seconds = time.perf_counter() - started
    records, copy_seconds = _raw_copy_baseline(dsn)

    result = {
        "scale": scale,
        "commit": _commit(),
        "machine": f"{host.machine()}, {os.cpu_count()} cores, {_memory_gib()} GiB, {host.platform()}",
        "records": records,
        "stages": {
            "ingest_first_night": {"seconds": round(load_seconds, 1),
                                   "rows_per_s": round(records / load_seconds)},
            "baseline_raw_copy": {"seconds": round(copy_seconds, 1),
                                  "rows_per_s": round(records / copy_seconds)},
        },
        "ingest_vs_raw_copy": round(load_seconds / copy_seconds, 2),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"scale-{scale}.json").write_text(json.dumps(result, indent=2))
    (out_dir / f"scale-{scale}.md").write_text(_markdown(result))
    platform.drop_database(server, name)
    return result


def _raw_copy_baseline(dsn: str) -> tuple[int, float]:
    """COPY the loaded rows out, then time COPY of the same rows into identical empty tables."""
    total_rows = 0
    seconds = 0.0
    with tempfile.TemporaryDirectory() as scratch, transaction(dsn) as conn, conn.cursor() as cursor:
        for agency, feed in all_feeds():
            table = sql.Identifier("ingest", table_name(agency, feed))
            columns = sql.SQL(", ").join(map(sql.Identifier, staged_columns(feed)))
            dump = Path(scratch) / f"{agency.code}_{feed.feed}.csv"
            with dump.open("wb") as out:
                cursor.copy_expert(sql.SQL("copy (select {} from {}) to stdout with (format csv)")
                                   .format(columns, table).as_string(cursor), out)
            # The same staging shape the loader COPYs into.
            cursor.execute(sql.SQL("create temp table baseline as select {} from {} limit 0")
                           .format(columns, table))
            with dump.open("rb") as source:
                started = time.perf_counter()
                cursor.copy_expert(sql.SQL("copy baseline ({}) from stdin with (format csv)")
                                   .format(columns).as_string(cursor), source)
                seconds += time.perf_counter() - started
            cursor.execute("select count(distinct (line_no, record_key)) from baseline")
            total_rows += int(cursor.fetchone()[0])
            cursor.execute("drop table baseline")
    return total_rows, seconds


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"Scale {result['scale']} ({result['records']:,} records), commit {result['commit']}, "
             f"{result['machine']}", "", "| stage | seconds | rows/s |", "|---|---|---|"]
    for stage, numbers in result["stages"].items():
        lines.append(f"| {stage} | {numbers['seconds']} | {numbers['rows_per_s']:,} |")
    lines += ["", f"Ingestion takes {result['ingest_vs_raw_copy']}x the time of raw COPY."]
    return "\n".join(lines) + "\n"


def _commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                           cwd=platform.project_root(), check=False)
    return found.stdout.strip() or "unknown"


def _memory_gib() -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return round(kib / 1024 / 1024)
