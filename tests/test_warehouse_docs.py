"""Analysts' documentation of the published views: every column of every view in schema
credit has a `comment on column` in the database, and README's "Schema for analysts" lists
exactly the columns each view has. A view added without them fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xinyong.warehouse.migrate import migrate

from .fixtures_nights import rows

README = Path(__file__).resolve().parents[1] / "README.md"
VIEW_COLUMNS = """
    select c.relname, a.attname, col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class')
    from pg_class as c
    join pg_namespace as n on n.oid = c.relnamespace
    join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'credit' and c.relkind in ('v', 'm')
"""


@pytest.fixture(scope="module")
def migrated_dsn(session_warehouse_factory) -> str:
    dsn = str(session_warehouse_factory())
    migrate(dsn)
    return dsn


def view_columns(dsn: str) -> dict[str, dict[str, str | None]]:
    views: dict[str, dict[str, str | None]] = {}
    for view, column, comment, _ in rows(dsn, VIEW_COLUMNS):
        views.setdefault(view, {})[column] = comment
    return views


def readme_view_columns() -> dict[str, set[str]]:
    """Per `#### `credit.<view>`` heading of README, the column names its table's first
    column names (a cell may name several: `a`, `b`)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Schema for analysts"):]
    section = section[:section.index("\n## ", 1)]
    documented: dict[str, set[str]] = {}
    view = None
    for line in section.splitlines():
        heading = re.match(r"^####\s+`credit\.(\w+)`", line)
        if heading:
            view = heading.group(1)
            assert view not in documented, f"README documents credit.{view} twice"
            documented[view] = set()
        elif line.startswith("#"):
            view = None
        elif view and line.startswith("| `"):
            documented[view] |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    return documented


def test_the_credit_schema_has_views(migrated_dsn):
    assert len(view_columns(migrated_dsn)) >= 14  # the contract's and the joint-supervision views


def test_every_column_of_every_credit_view_has_a_comment(migrated_dsn):
    undocumented = sorted(f"credit.{view}.{column}"
                          for view, columns in view_columns(migrated_dsn).items()
                          for column, comment in columns.items() if not (comment or "").strip())
    assert undocumented == [], (
        "comment on column ... right after the view is created (sql/views/), for: "
        + ", ".join(undocumented))


def test_every_credit_view_has_a_comment(migrated_dsn):
    undocumented = sorted({view for view, _, _, comment in rows(migrated_dsn, VIEW_COLUMNS)
                           if not (comment or "").strip()})
    assert undocumented == []


def test_readme_lists_exactly_the_columns_of_every_view(migrated_dsn):
    in_database = {view: set(columns) for view, columns in view_columns(migrated_dsn).items()}
    in_readme = readme_view_columns()
    assert sorted(in_readme) == sorted(in_database), "README: one `#### `credit.<view>`` per view"
    for view, columns in in_database.items():
        assert in_readme[view] == columns, (
            f"credit.{view}: README lacks {sorted(columns - in_readme[view])},"
            f" names no such column {sorted(in_readme[view] - columns)}")
