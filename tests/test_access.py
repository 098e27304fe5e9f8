"""Who may read and write what: the roles the migrations create, on a populated warehouse."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors, sql

from .fixtures_nights import rows

READERS = ("xinyong_analyst", "xinyong_regulator")
PUBLISHED_VIEWS = (
    "record_link", "delivery_status", "file_reconciliation", "audit_finding", "enterprise",
    "enterprise_profile", "dishonest_debtor", "abnormal_operation", "penalty", "rating", "licence",
    "judgment", "arrears", "audit_finding_change",
)


def as_role(dsn: str, role: str, statement: sql.Composable) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        cursor.execute(statement)
        result = cursor.fetchall() if cursor.description else []
        conn.rollback()
        return result


@pytest.mark.parametrize("role", READERS)
def test_readers_read_every_published_view(cli_nights, role):
    for view in PUBLISHED_VIEWS:
        [(count,)] = as_role(cli_nights["dsn"], role, sql.SQL("select count(*) from {}").format(
            sql.Identifier("credit", view)))
        assert count >= 0


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("statement", [
    "select count(*) from ingest.aic__registrations",  # identity-number hashes live here
    "select count(*) from resolve.link",
    "select count(*) from audit.finding",
    "select count(*) from credit.published",
    "insert into credit.published (run_id, run_date) values (0, current_date)",
    "create table credit.scratch (x int)",
    "update resolve.enterprise set canonical_name = 'x'",
])
def test_readers_cannot_reach_anything_else(cli_nights, role, statement):
    with pytest.raises(errors.InsufficientPrivilege):
        as_role(cli_nights["dsn"], role, sql.SQL(statement))


def test_the_grants_matrix(cli_nights):
    tables = ("ingest.aic__registrations", "resolve.link", "audit.finding", "credit.published",
              "credit.enterprise")
    matrix = {
        (role, table): (can_select, can_insert)
        for role, table, can_select, can_insert in rows(cli_nights["dsn"], f"""
            select r, t, has_table_privilege(r, t, 'select'), has_table_privilege(r, t, 'insert')
            from unnest(array['xinyong_loader', 'xinyong_regulator', 'xinyong_analyst',
                              'xinyong_admin']) as r,
                 unnest(array{list(tables)!r}) as t""")  # noqa: S608 (constants)
    }
    for table in tables:
        assert matrix[("xinyong_loader", table)] == (True, True)
        assert matrix[("xinyong_admin", table)] == (True, True)
        for reader in READERS:
            assert matrix[(reader, table)] == (table == "credit.enterprise", False)
