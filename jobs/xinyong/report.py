"""Summaries people read: per-agency night summary and `xinyong status`."""

from __future__ import annotations

from typing import Any

from xinyong.warehouse.db import transaction

AGENCY_SUMMARY = """
with deliveries as (
    select agency,
           count(*) filter (where status = 'loaded') as loaded,
           count(*) filter (where status = 'rejected') as rejected,
           count(*) filter (where status = 'duplicate') as duplicate
    from credit.delivery_status group by agency
), files as (
    select agency, sum(rows_delivered) as delivered, sum(rows_loaded) as rows_loaded,
           sum(rows_quarantined) as quarantined, count(distinct file) as feeds
    from credit.file_reconciliation group by agency
), links as (
    select agency, count(*) as linked, count(distinct feed) as linked_feeds,
           count(distinct enterprise_id) as enterprises
    from credit.record_link group by agency
)
select d.agency, d.loaded, d.rejected, d.duplicate,
       coalesce(f.delivered, 0), coalesce(f.rows_loaded, 0), coalesce(f.quarantined, 0),
       coalesce(l.linked, 0), coalesce(l.linked_feeds, 0), coalesce(l.enterprises, 0)
from deliveries d left join files f using (agency) left join links l using (agency)
order by d.agency
"""
SUMMARY_COLUMNS = ("agency", "loaded", "rejected", "duplicate", "rows_delivered", "rows_loaded",
                   "rows_quarantined", "records_linked", "feeds_linked", "enterprises")


def agency_summary(dsn: str) -> list[dict[str, Any]]:
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(AGENCY_SUMMARY)
        return [dict(zip(SUMMARY_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def print_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


STATUS = """
with latest as (
    select distinct on (agency) agency, folder, status, reason, delivery_id
    from ingest.delivery order by agency, folder desc, delivery_id desc
), waiting as (
    select agency, string_agg(folder, ', ' order by folder) as folders
    from credit.delivery_status s
    join ingest.delivery d using (agency, batch_date, status)
    where s.status = 'rejected' group by agency
)
select l.agency, l.folder, l.status, coalesce(sum(f.rows_loaded), 0),
       coalesce(sum(f.rows_quarantined), 0), coalesce(w.folders, ''), coalesce(l.reason, '')
from latest l
left join ingest.file_load f using (delivery_id)
left join waiting w using (agency)
group by l.agency, l.folder, l.status, w.folders, l.reason
order by l.agency
"""
STATUS_COLUMNS = ("agency", "last_delivery", "status", "rows_loaded", "rows_quarantined",
                  "rejected_folders", "reason")


def print_status(dsn: str) -> None:
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(STATUS)
        rows = [dict(zip(STATUS_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    print_table(rows, STATUS_COLUMNS)
