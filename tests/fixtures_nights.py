"""Generated deliveries and whole nights run with `xinyong run`, shared by the night tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from xinyong import cli
from xinyong.demo import delivery_dates
from xinyong.generate import GeneratorConfig, generate

CONTRACT_VIEWS = {
    "record_link": "select agency, feed, record_id, enterprise_id from credit.record_link",
    "delivery_status": "select agency, batch_date, status, reason from credit.delivery_status",
    "file_reconciliation": "select agency, batch_date, file, rows_delivered, rows_loaded,"
                           " rows_quarantined from credit.file_reconciliation",
    "audit_finding": "select audit, enterprise_id, run_date, evidence::text from credit.audit_finding",
}


@contextmanager
def warehouse_env(dsn: str) -> Iterator[None]:
    previous = os.environ.get("XINYONG_WAREHOUSE_DSN")
    os.environ["XINYONG_WAREHOUSE_DSN"] = dsn
    try:
        yield
    finally:
        if previous is None:
            del os.environ["XINYONG_WAREHOUSE_DSN"]
        else:
            os.environ["XINYONG_WAREHOUSE_DSN"] = previous


def rows(dsn: str, query: str) -> set[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(query)
        return set(cursor.fetchall())


def snapshot(dsn: str) -> dict[str, set[tuple]]:
    return {name: rows(dsn, query) for name, query in CONTRACT_VIEWS.items()}


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, GeneratorConfig(enterprises=150, nights=3, seed=11, problem_rate=0.03,
                                  fault_night=2, workers=1))
    return out


@pytest.fixture(scope="session")
def cli_nights(generated: Path, session_warehouse_factory) -> dict:
    """Every night of the generated landing run with `xinyong run`; views after each night."""
    dsn = session_warehouse_factory()
    landing = generated / "landing"
    after: list[dict[str, set[tuple]]] = []
    with warehouse_env(dsn):
        for night_date in delivery_dates(landing):
            assert cli.main(["run", "--landing", str(landing), "--date", night_date.isoformat()]) == 0
            after.append(snapshot(dsn))
    return {"dsn": dsn, "landing": landing, "after": after}
