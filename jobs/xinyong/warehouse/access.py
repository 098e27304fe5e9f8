"""`xinyong db create-login`: a login for an analyst or a regulator, optionally limited to
cities (V009__regional_access.sql). Running it again for the login sets its role and cities
anew. Roles are the cluster's; the cities are the warehouse database's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from xinyong.warehouse.db import transaction

READER_ROLES = {"regulator": "xinyong_regulator", "analyst": "xinyong_analyst"}
# The password comes from the environment: a command line is seen by every user of the machine.
CREDENTIAL_VARIABLE = "XINYONG_NEW_LOGIN_PASSWORD"
_CITY = re.compile(r"^[0-9]{4}$")


class LoginRefused(ValueError):
    """The login cannot be created or changed as asked; nothing was changed."""


@dataclass(frozen=True)
class Login:
    name: str
    role: str
    cities: tuple[str, ...]  # empty: every city
    created: bool

    def describe(self) -> str:
        where = "cities " + ", ".join(self.cities) if self.cities else "every city"
        return f"{self.name}: {'created' if self.created else 'updated'}, {self.role}, {where}"


def is_city(value: str) -> bool:
    """A city is the first 4 digits of a region code: 2101 沈阳, 2102 大连."""
    return bool(_CITY.match(value))


def create_login(dsn: str, name: str, role: str, cities: list[str],
                 password: str | None) -> Login:
    """Create the login ``name`` (or update it) with exactly the reader role ``role``
    (regulator or analyst) and exactly ``cities`` (none: every city), in one transaction.
    ``password`` is required for a new login; for an existing one it replaces the old."""
    group = READER_ROLES[role]
    if not_cities := [city for city in cities if not is_city(city)]:
        raise LoginRefused(f"not cities (4 digits, e.g. 2101): {', '.join(not_cities)}")
    cities = sorted(set(cities))
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("select to_regclass('credit.login_city') is not null")
        if not cursor.fetchone()[0]:
            raise LoginRefused("the warehouse has no credit.login_city: run `xinyong db migrate`")
        cursor.execute("select rolcanlogin, rolsuper or rolbypassrls from pg_roles"
                       " where rolname = %s", (name,))
        existing = cursor.fetchone()
        _refuse_unsuitable(name, existing, password)
        login = sql.Identifier(name)
        if existing is None:
            cursor.execute(sql.SQL("create role {} login").format(login))
        if password:
            # Hashed here (SCRAM, as the server asks): the server and its logs never see it.
            cursor.execute(sql.SQL("alter role {} password {}").format(
                login, sql.Literal(encrypt_password(password, name, conn))))
        cursor.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), login))
        for other in sorted(set(READER_ROLES.values()) - {group}):
            cursor.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(other), login))
        cursor.execute("delete from credit.login_city where login = %s", (name,))
        cursor.executemany("insert into credit.login_city (login, city) values (%s, %s)",
                           [(name, city) for city in cities])
    return Login(name, group, tuple(cities), created=existing is None)


def _refuse_unsuitable(name: str, existing: tuple[bool, bool] | None,
                       password: str | None) -> None:
    if existing is None and not password:
        raise LoginRefused(f"{name} is a new login: set its password in {CREDENTIAL_VARIABLE}")
    if existing is None:
        return
    can_login, skips_policies = existing
    if not can_login:  # xinyong_admin, xinyong_analyst, ...: a group role must stay one
        raise LoginRefused(f"{name} is a role that cannot log in, not a login")
    if skips_policies:
        raise LoginRefused(f"{name} is a superuser or bypasses row-level security: cities"
                           " would not limit it")
