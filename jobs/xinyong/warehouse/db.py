"""Connections. The DSN always comes from the caller (environment or Airflow connection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions


def connect(dsn: str, *, application: str = "xinyong") -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(dsn, application_name=application, connect_timeout=15)
    except psycopg2.OperationalError as exc:
        raise WarehouseUnavailable(f"cannot reach the warehouse: {exc}".strip()) from exc
    return conn


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached; the night cannot run (Airflow retries it)."""


@contextmanager
def transaction(dsn: str, *, application: str = "xinyong") -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work commits together at the end, or not at all."""
    conn = connect(dsn, application=application)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
