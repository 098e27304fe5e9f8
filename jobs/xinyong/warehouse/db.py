"""Connections. The DSN always comes from the caller (environment or Airflow connection)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg2
import psycopg2.extensions


def connect(dsn: str, *, application: str = "xinyong") -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(dsn, application_name=application, connect_timeout=15)
    except (psycopg2.OperationalError, psycopg2.ProgrammingError) as exc:  # down; a bad DSN
        raise WarehouseUnavailable(
            f"cannot reach the warehouse {describe(dsn)}: {one_line(exc)}") from exc
    return conn


def describe(dsn: str) -> str:
    """user@host:port/database of a DSN, never its password."""
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return "(unreadable DSN)"
    where = params.get("host", "local socket") + (f":{params['port']}" if "port" in params else "")
    user = f"{params['user']}@" if "user" in params else ""
    return f"{user}{where}/{params.get('dbname', '')}"


def one_line(exc: BaseException) -> str:
    """libpq's messages span lines (a hint indented below): one line for a CLI or a log."""
    return " ".join(str(exc).split())


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached; the night cannot run (Airflow retries it)."""


@contextmanager
def transaction(dsn: str, *, application: str = "xinyong") -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work commits together at the end, or not at all."""
    conn = connect(dsn, application=application)
    try:
        yield conn
        conn.commit()
    except BaseException:
        # A connection the server dropped cannot roll back: keep the error that dropped it.
        with suppress(psycopg2.Error):
            conn.rollback()
        raise
    finally:
        conn.close()
