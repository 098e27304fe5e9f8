"""Regional access (V009__regional_access.sql, `xinyong db create-login`), on a warehouse loaded
by real nights (cli_nights): a login limited to a city sees, in every published view carrying
an enterprise_id, exactly the rows of the enterprises registered in that city; a login without
a city sees every row. And no relation a reader can select holds a whole identity number."""

from __future__ import annotations

import csv
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager

import psycopg2
import pytest
from psycopg2 import errors, sql
from psycopg2.extensions import make_dsn

from xinyong import cli
from xinyong.ids import is_valid_uscc
from xinyong.warehouse.access import CREDENTIAL_VARIABLE

from . import test_warehouse_plans as plans
from .fixtures_nights import rows, warehouse_env

ENTERPRISE_VIEWS = (
    "enterprise", "enterprise_profile", "record_link", "dishonest_debtor", "abnormal_operation",
    "penalty", "rating", "licence", "judgment", "arrears", "audit_finding", "audit_finding_change",
)
PASSWORD = secrets.token_urlsafe(16)
# Each enterprise's city (first 4 digits of its registration region) in the latest run that has
# it, up to the published one (audit_finding_change also names findings of the run before).
ENTERPRISE_CITY = """
    select distinct on (enterprise_id) enterprise_id, left(region, 4)
    from resolve.enterprise
    where run_id <= (select run_id from credit.published)
    order by enterprise_id, run_id desc
"""


def create_login(dsn: str, *arguments: str, password: str | None = PASSWORD) -> int:
    with warehouse_env(dsn), pytest.MonkeyPatch.context() as env:
        if password is None:
            env.delenv(CREDENTIAL_VARIABLE, raising=False)
        else:
            env.setenv(CREDENTIAL_VARIABLE, password)
        return cli.main(["db", "create-login", *arguments])


def drop_login(dsn: str, login: str) -> None:
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


@contextmanager
def session_of(dsn: str, login: str) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor of a connection made as the login itself (not SET ROLE)."""
    with closing(psycopg2.connect(dsn, user=login, password=PASSWORD)) as conn:
        with conn.cursor() as cursor:
            yield cursor
        conn.rollback()


def enterprises_seen(cursor: psycopg2.extensions.cursor) -> dict[str, Counter[str]]:
    """Per enterprise-bearing view, its rows counted by enterprise_id."""
    seen = {}
    for view in ENTERPRISE_VIEWS:
        cursor.execute(sql.SQL("select enterprise_id from {}").format(sql.Identifier("credit", view)))
        seen[view] = Counter(enterprise_id for (enterprise_id,) in cursor.fetchall())
    return seen


@pytest.fixture(scope="module")
def warehouse(cli_nights) -> dict:
    """What an unlimited session sees, each enterprise's city, and the city whose enterprises
    have rows in every view that has rows, but not all of them (the busiest such city)."""
    dsn = cli_nights["dsn"]
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        everything = enterprises_seen(cursor)
    # The nights' audits report the same enterprises each night: no change to show (planted
    # in test_a_changed_finding_is_shown_only_in_its_city instead).
    assert {view for view, seen in everything.items() if not seen} <= {"audit_finding_change"}
    city_of = dict(rows(dsn, ENTERPRISE_CITY))

    def in_city(view: str, city: str) -> int:
        return sum(n for enterprise, n in everything[view].items() if city_of[enterprise] == city)

    candidates = [city for city in set(city_of.values()) if city and all(
        0 < in_city(view, city) < sum(everything[view].values())
        for view in ENTERPRISE_VIEWS if everything[view])]
    assert candidates, "no city has rows in every view: the nights' data is too small"
    city = max(candidates, key=lambda c: (in_city("enterprise", c), c))
    return {"dsn": dsn, "everything": everything, "city_of": city_of, "city": city}


@pytest.fixture(scope="module")
def logins(warehouse) -> Iterator[dict[str, str]]:
    """A regulator limited to the city, and one without a limit."""
    dsn, suffix = warehouse["dsn"], uuid.uuid4().hex[:8]
    made = {"limited": f"xy_limited_{suffix}", "unlimited": f"xy_unlimited_{suffix}"}
    try:
        assert create_login(dsn, made["limited"], "--role", "regulator",
                            "--city", warehouse["city"]) == 0
        assert create_login(dsn, made["unlimited"], "--role", "regulator") == 0
        yield made
    finally:
        for login in made.values():
            drop_login(dsn, login)


def test_a_limited_login_sees_only_its_citys_enterprises_in_every_view(warehouse, logins):
    city, city_of, everything = warehouse["city"], warehouse["city_of"], warehouse["everything"]
    with session_of(warehouse["dsn"], logins["limited"]) as cursor:
        seen = enterprises_seen(cursor)
        cursor.execute("select region from credit.enterprise_profile")
        regions = [region for (region,) in cursor.fetchall()]
    for view in ENTERPRISE_VIEWS:
        in_city = Counter({e: n for e, n in everything[view].items() if city_of[e] == city})
        assert seen[view] == in_city, f"credit.{view}"
        if everything[view]:
            assert 0 < sum(seen[view].values()) < sum(everything[view].values()), f"credit.{view}"
            assert {city_of[e] for e in seen[view]} == {city}, f"credit.{view}"
    assert regions and all(region.startswith(city) for region in regions)


def test_a_changed_finding_is_shown_only_in_its_city(warehouse, logins):
    """Two findings new in the published run (so in credit.audit_finding_change), of an
    enterprise of the city and of one elsewhere, planted in a transaction that is rolled
    back; read there by taking on the limited login (SET ROLE)."""
    city = warehouse["city"]
    here = min(e for e, c in warehouse["city_of"].items() if c == city)
    elsewhere = min(e for e, c in warehouse["city_of"].items() if c and c != city)
    with closing(psycopg2.connect(warehouse["dsn"])) as conn, conn.cursor() as cursor:
        cursor.execute(
            "insert into audit.finding (run_id, audit, enterprise_id, run_date, evidence)"
            " select run_id, 'A0', e, run_date, '{}' from credit.published, unnest(%s) as e",
            ([here, elsewhere],))
        cursor.execute(sql.SQL("set role {}").format(sql.Identifier(logins["limited"])))
        for view in ("audit_finding", "audit_finding_change"):
            cursor.execute(sql.SQL("select enterprise_id from {} where audit = 'A0'").format(
                sql.Identifier("credit", view)))
            assert cursor.fetchall() == [(here,)], f"credit.{view}"
        conn.rollback()


def test_a_login_without_a_city_sees_every_row(warehouse, logins):
    with session_of(warehouse["dsn"], logins["unlimited"]) as cursor:
        assert enterprises_seen(cursor) == warehouse["everything"]


def test_set_role_does_not_shed_the_cities(warehouse, logins):
    with session_of(warehouse["dsn"], logins["limited"]) as cursor:
        cursor.execute("set role xinyong_regulator")
        cursor.execute("select distinct left(region, 4) from credit.enterprise")
        assert cursor.fetchall() == [(warehouse["city"],)]


@pytest.mark.parametrize("statement", [
    "select count(*) from credit.login_city",
    "insert into credit.login_city (login, city) values (session_user, '2102')",
    "update credit.login_city set city = '2102'",
    "delete from credit.login_city",
])
def test_a_limited_login_cannot_read_or_change_the_cities(warehouse, logins, statement):
    with pytest.raises(errors.InsufficientPrivilege), \
            session_of(warehouse["dsn"], logins["limited"]) as cursor:
        cursor.execute(statement)


@pytest.mark.parametrize(("view", "column"), plans.LOOKUPS, ids=[f"{v}-{c}" for v, c in plans.LOOKUPS])
def test_a_limited_logins_lookups_still_probe_indexes(warehouse, logins, view, column):
    # The policies add a probe of the enterprise per link or finding, never a scan of a run.
    limited_dsn = make_dsn(warehouse["dsn"], user=logins["limited"], password=PASSWORD)
    plans.test_an_analysts_lookup_probes_indexes_on_its_key({"dsn": limited_dsn}, view, column)


def login_state(dsn: str, login: str) -> tuple:
    """(reader roles it is a member of, its cities, its password hash)."""
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute("""
            select array(select g.rolname::text from pg_auth_members as m
                         join pg_roles as g on g.oid = m.roleid
                         where m.member = r.oid order by 1),
                   array(select city from credit.login_city where login = r.rolname order by 1),
                   r.rolpassword
            from pg_authid as r where r.rolname = %s""", (login,))
        roles, cities, password = cursor.fetchone()
    return tuple(roles), tuple(cities), password


def test_create_login_is_idempotent_and_updates_role_and_cities(warehouse):
    dsn, login = warehouse["dsn"], f"xy_login_{uuid.uuid4().hex[:8]}"
    try:
        assert create_login(dsn, login, "--role", "analyst", "--city", "2101") == 0
        first = login_state(dsn, login)
        assert first[:2] == (("xinyong_analyst",), ("2101",)) and first[2]
        assert create_login(dsn, login, "--role", "analyst", "--city", "2101") == 0
        again = login_state(dsn, login)
        assert again[:2] == first[:2]  # the password is hashed again, with a new salt
        # Without a password in the environment the password stays.
        assert create_login(dsn, login, "--role", "regulator", "--city", "2102", "--city", "2101",
                            password=None) == 0
        assert login_state(dsn, login) == (("xinyong_regulator",), ("2101", "2102"), again[2])
        assert create_login(dsn, login, "--role", "regulator") == 0
        assert login_state(dsn, login)[:2] == (("xinyong_regulator",), ())
    finally:
        drop_login(dsn, login)


def test_create_login_refuses_what_it_cannot_do_right(warehouse, capsys):
    dsn, login = warehouse["dsn"], f"xy_refused_{uuid.uuid4().hex[:8]}"
    assert create_login(dsn, login, "--role", "analyst", password=None) == 2  # no password
    assert rows(dsn, sql.SQL("select 1 from pg_roles where rolname = {}").format(
        sql.Literal(login))) == set()
    assert create_login(dsn, "xinyong_admin", "--role", "analyst") == 2  # a group role
    assert create_login(dsn, "postgres", "--role", "analyst", "--city", "2101") == 2  # superuser
    assert CREDENTIAL_VARIABLE in capsys.readouterr().err
    with pytest.raises(SystemExit):
        create_login(dsn, login, "--role", "analyst", "--city", "21")


# An 18-character resident identity number (GB 11643) standing alone in a value.
ID_NUMBER = r"(?:^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])"
READABLE_COLUMNS = """
    select table_schema, table_name, column_name
    from information_schema.columns
    where table_schema not in ('pg_catalog', 'information_schema')
      and has_table_privilege('xinyong_analyst', format('%I.%I', table_schema, table_name),
                              'select')
"""


def test_no_reader_can_select_a_whole_identity_number(cli_nights):
    dsn = cli_nights["dsn"]
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, relation, column in sorted(rows(dsn, READABLE_COLUMNS)):
        columns.setdefault((schema, relation), []).append(column)
    assert ("credit", "enterprise_profile") in columns
    found = set()
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cursor:
        cursor.execute("set role xinyong_analyst")
        for (schema, relation), names in columns.items():
            values = sql.SQL(", ").join(sql.SQL("({}, t.{}::text)").format(
                sql.Literal(name), sql.Identifier(name)) for name in names)
            cursor.execute(sql.SQL(
                "select distinct v.name, m[1] from {} as t"
                " cross join lateral (values {}) as v(name, value)"
                " cross join lateral regexp_matches(v.value, %s, 'g') as m").format(
                sql.Identifier(schema, relation), values), (ID_NUMBER,))
            found |= {(f"{schema}.{relation}.{name}", value) for name, value in cursor.fetchall()}
    # The scan does see 18-character values: the enterprises' unified codes (GB 32100), which
    # are public. Anything else of that shape, or an identity number delivered, is a leak.
    assert any(where == "credit.enterprise.uscc" for where, _ in found)
    with (cli_nights["landing"].parent / "truth" / "enterprises.csv").open(encoding="utf-8") as f:
        delivered = {row["legal_rep_idcard"] for row in csv.DictReader(f)} - {""}
    assert delivered
    leaks = sorted((where, value) for where, value in found
                   if value in delivered or not is_valid_uscc(value))
    assert leaks == []
