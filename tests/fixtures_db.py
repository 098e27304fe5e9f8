"""Scratch PostgreSQL databases for tests, on a real server (no mocks).

The server is ``XINYONG_TEST_DSN`` (a DSN of a role allowed to CREATE/DROP DATABASE, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``) or else the embedded PostgreSQL under
``<project root>/.xinyong/pgdata``, which is left running for the next session
(``./dev stop`` stops it). Every database made here is UTF-8 (see platform.create_database)
and dropped at session end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from xinyong import platform


def _scratch(admin_dsn: str, created: list[str]) -> str:
    name = f"xinyong_test_{uuid.uuid4().hex[:12]}"
    platform.create_database(admin_dsn, name)
    created.append(name)
    return platform.database_dsn(admin_dsn, name)


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    """DSN of the maintenance database on the test server."""
    return os.environ.get("XINYONG_TEST_DSN") or platform.embedded_admin_dsn()


@pytest.fixture(scope="session")
def _scratch_databases(admin_dsn: str) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    for name in created:
        platform.drop_database(admin_dsn, name)


@pytest.fixture(scope="session")
def warehouse_dsn(admin_dsn: str, _scratch_databases: list[str]) -> str:
    """One empty scratch database ``xinyong_test_<random>`` shared by the session."""
    return _scratch(admin_dsn, _scratch_databases)


@pytest.fixture
def fresh_warehouse_dsn(
    admin_dsn: str, _scratch_databases: list[str]
) -> Callable[[], str]:
    """Factory: each call creates another empty scratch database and returns its DSN."""
    return lambda: _scratch(admin_dsn, _scratch_databases)


@pytest.fixture(scope="session")
def session_warehouse_factory(
    admin_dsn: str, _scratch_databases: list[str]
) -> Callable[[], str]:
    """Factory for session-scoped fixtures: another empty scratch database per call."""
    return lambda: _scratch(admin_dsn, _scratch_databases)
