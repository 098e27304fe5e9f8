"""`xinyong db migrate`: ordered SQL migrations with a version table, then the objects
derived from feed specs, then the views (all idempotent, so upgrading keeps the data)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from psycopg2 import sql

from xinyong.warehouse.db import transaction
from xinyong.warehouse.schema import ensure_feed_tables

_VERSIONED = re.compile(r"^V(\d+)__.+\.sql$")
# Serialises concurrent migrations (the DAG's mapped tasks may start together).
_MIGRATION_LOCK = 73_616_401


def sql_dir() -> Path:
    configured = os.environ.get("XINYONG_SQL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "sql"


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in (sql_dir() / "migrations").glob("V*.sql"):
        match = _VERSIONED.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def migrate(dsn: str) -> list[str]:
    """Apply what is missing; return the names of the migrations applied now."""
    applied_now: list[str] = []
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        cursor.execute(
            "create table if not exists public.xinyong_schema_version ("
            " version integer primary key, name text not null,"
            " applied_at timestamptz not null default now())"
        )
        cursor.execute("select version from public.xinyong_schema_version")
        done = {row[0] for row in cursor.fetchall()}
        for version, path in migrations():
            if version in done:
                continue
            cursor.execute(path.read_text(encoding="utf-8"))
            cursor.execute(
                "insert into public.xinyong_schema_version (version, name) values (%s, %s)",
                (version, path.name))
            applied_now.append(path.name)
        ensure_feed_tables(cursor)
        for view_file in sorted((sql_dir() / "views").glob("*.sql")):
            cursor.execute(view_file.read_text(encoding="utf-8"))
    return applied_now


def schema_version(dsn: str) -> int:
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("select coalesce(max(version), 0) from public.xinyong_schema_version"))
        return int(cursor.fetchone()[0])
