"""resolve.link is partitioned by run (sql/migrations/V008__partition_links.sql): a night
loads its links into its own partition, old runs go by dropping theirs, and upgrading a
populated V007 warehouse keeps every link."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from xinyong import night
from xinyong.warehouse.db import transaction
from xinyong.warehouse.migrate import migrate, schema_version, sql_dir

from .fixtures_nights import rows

PARTITIONS = """
    select c.relname, pg_get_expr(c.relpartbound, c.oid)
    from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
    where i.inhparent = 'resolve.link'::regclass
"""


def test_each_kept_run_has_its_partition_holding_its_links(cli_nights):
    dsn = cli_nights["dsn"]
    runs = {run_id for (run_id,) in rows(dsn, "select run_id from resolve.night_run")}
    assert len(runs) == 2  # the published run and the one before; older runs' partitions dropped
    assert dict(rows(dsn, PARTITIONS)) == {
        f"link_run_{run_id}": f"FOR VALUES IN ('{run_id}')" for run_id in runs}
    [(published,)] = rows(dsn, "select run_id from credit.published")
    [(in_partition,)] = rows(dsn, f"select count(*) from resolve.link_run_{int(published)}")  # noqa: S608
    [(published_links,)] = rows(dsn, "select count(*) from credit.record_link")
    assert in_partition == published_links > 0
    indexes = {definition.split(" USING ")[1] for _, definition in rows(dsn, f"""
        select indexname, indexdef from pg_indexes
        where schemaname = 'resolve' and tablename = 'link_run_{int(published)}'""")}  # noqa: S608
    assert indexes == {"btree (run_id, agency, feed, record_id)",
                       "btree (run_id, enterprise_id, agency, feed)"}
    [(kind,)] = rows(dsn, "select relkind::text from pg_class where oid = 'resolve.link'::regclass")
    assert kind == "p"


def links(dsn: str) -> set[tuple]:
    return rows(dsn, "select run_id, agency, feed, record_id, enterprise_id, rule, evidence::text"
                     " from resolve.link")


def new_run(dsn: str, run_date: date, links_of_run: list[tuple[str, str, str, str]]) -> int:
    """A run stored as the night stores one: its own table, loaded, then attached."""
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("insert into resolve.night_run (run_date, status) values (%s, 'audited')"
                       " returning run_id", (run_date,))
        run_id = int(cursor.fetchone()[0])
        partition = night.create_link_partition(cursor, run_id)
        for link in links_of_run:
            cursor.execute(f"insert into {partition.as_string(conn)} (run_id, agency, feed,"  # noqa: S608
                           " record_id, enterprise_id, rule) values (%s, %s, %s, %s, %s, 'uscc')",
                           (run_id, *link))
        night.attach_link_partition(cursor, run_id)
    return run_id


def test_an_upgrade_from_v007_keeps_every_link(session_warehouse_factory, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    dsn = str(session_warehouse_factory())
    v007 = tmp_path / "sql"
    shutil.copytree(sql_dir(), v007)
    for later in v007.glob("migrations/V*.sql"):
        if int(later.name[1:].split("__")[0]) > 7:
            later.unlink()
    # Nor the views over the audit summaries of V011.
    support = v007 / "views" / "audit_support.sql"
    text = support.read_text(encoding="utf-8")
    support.write_text(text[:text.index("-- The summaries of the audited run")], encoding="utf-8")
    monkeypatch.setenv("XINYONG_SQL_DIR", str(v007))
    migrate(dsn)
    assert schema_version(dsn) == 7
    # A populated V007 warehouse: three runs (superseded, superseded, published) of links.
    with transaction(dsn) as conn, conn.cursor() as cursor:
        run_ids = []
        for day, status in ((20, "superseded"), (21, "superseded"), (22, "published")):
            cursor.execute("insert into resolve.night_run (run_date, status) values (%s, %s)"
                           " returning run_id", (date(2026, 11, day), status))
            run_ids.append(cursor.fetchone()[0])
        for run_id in run_ids:
            cursor.execute(
                "insert into resolve.link (run_id, agency, feed, record_id, enterprise_id, rule,"
                " evidence) select %s, a, 'feed', 'R' || n, 'E' || lpad(mod(n, 37)::text, 10, '0'),"
                " 'uscc', jsonb_build_object('n', n)"
                " from unnest(array['aic', 'court', 'customs']) as a, generate_series(1, 400) as n",
                (run_id,))
        cursor.execute("insert into credit.published (run_id, run_date) values (%s, '2026-11-22')",
                       (run_ids[-1],))
    before = links(dsn)
    published_before = rows(dsn, "select * from credit.record_link")
    assert len(before) == 3 * 3 * 400

    monkeypatch.delenv("XINYONG_SQL_DIR")
    assert "V008__partition_links.sql" in migrate(dsn)

    assert links(dsn) == before
    assert rows(dsn, "select * from credit.record_link") == published_before
    assert dict(rows(dsn, PARTITIONS)) == {
        "link_before_v008": "FOR VALUES IN ({})".format(", ".join(f"'{r}'" for r in run_ids))}
    assert rows(dsn, "select count(*) from audit.run_link") == {(3 * 400,)}  # the published run

    # Nights after the upgrade: each run its partition; the old table goes with its last run.
    fourth = new_run(dsn, date(2026, 11, 23), [("aic", "feed", "R1", "E0000000001")])
    night.publish(dsn, date(2026, 11, 23), fourth)
    assert {r for r, *_ in links(dsn)} == {run_ids[-1], fourth}
    assert {name for name, _ in rows(dsn, PARTITIONS)} == {"link_before_v008", f"link_run_{fourth}"}
    assert links(dsn) - {link for link in before if link[0] != run_ids[-1]} == (
        {link for link in before if link[0] == run_ids[-1]}
        | {(fourth, "aic", "feed", "R1", "E0000000001", "uscc", "{}")})
    fifth = new_run(dsn, date(2026, 11, 24), [("aic", "feed", "R2", "E0000000002")])
    night.publish(dsn, date(2026, 11, 24), fifth)
    assert {name for name, _ in rows(dsn, PARTITIONS)} == {f"link_run_{fourth}", f"link_run_{fifth}"}
    assert rows(dsn, "select record_id, enterprise_id from credit.record_link") == {
        ("R2", "E0000000002")}
