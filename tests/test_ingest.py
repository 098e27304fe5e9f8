"""Ingestion against a real PostgreSQL: verification, ops and history, quarantine, reconciliation."""

import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from xinyong import night
from xinyong.demo import delivery_dates
from xinyong.feeds import all_feeds
from xinyong.ingest.deliveries import KeyOrderWatch, ingest_agency
from xinyong.warehouse.schema import table_name

from .landing import REGISTRATION_HEADER, csv_file, registration, write_delivery

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "feeds" / "samples"


@pytest.fixture
def dsn(fresh_warehouse_dsn):
    dsn = fresh_warehouse_dsn()
    night.prepare(dsn)
    return dsn


def query(dsn, text, params=None):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(text, params)
        return cursor.fetchall()


def registrations(landing, folder, lines, **kwargs):
    content = csv_file(REGISTRATION_HEADER, lines)
    return write_delivery(landing, "aic", folder, {"registrations.csv": content},
                          {"registrations.csv": kwargs.pop("rows", len(lines))}, **kwargs)


def load_registrations_history(dsn, landing, run_date):
    """Load the AIC deliveries, then every version of every registration, in delivery order."""
    ingest_agency(dsn, landing, "aic", run_date)
    return query(dsn, "select record_key, op, status, valid_from::text, valid_to::text"
                      " from ingest.aic__registrations order by record_key, valid_from, line_no")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared sample deliveries not present")
def test_samples_load_all_feeds_and_reconcile(dsn, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    for agency in night.agency_codes():
        ingest_agency(dsn, landing, agency, date(2026, 11, 11))
    feeds = query(dsn, "select count(distinct (agency, file)) from credit.file_reconciliation")
    assert feeds == [(19,)]
    assert query(dsn, "select count(*) from credit.file_reconciliation"
                      " where rows_delivered <> rows_loaded + rows_quarantined") == [(0,)]
    statuses = dict(query(dsn, "select agency || '/' || batch_date, status from credit.delivery_status"))
    assert statuses["court/2026-11-11"] == "duplicate"  # the sample re-sends the court folder
    before = query(dsn, "select count(*) from ingest.court__judgments")
    # Running again changes nothing: every folder has been seen.
    for agency in night.agency_codes():
        assert {r.status for r in ingest_agency(dsn, landing, agency, date(2026, 11, 11))} <= {"skipped"}
    assert query(dsn, "select count(*) from ingest.court__judgments") == before
    # Each party of a judgment is named as of the judgment's date.
    [(parties, misdated)] = query(
        dsn, "select count(*), count(*) filter (where m.named_on is distinct from j.judged_on)"
             " from ingest.live_mention m join ingest.court__judgments j using (record_id)"
             " where m.feed = 'judgments' and j.valid_to is null")
    assert parties > 0 and misdated == 0


def test_named_on_fields_are_dates_of_their_feed():
    dated = [(agency.code, feed.feed) for agency, feed in all_feeds() if feed.named_on_field]
    # Every feed with a date of its own but the register, whose name is the current one.
    assert len(dated) == 17
    for _, feed in all_feeds():
        if feed.named_on_field:
            assert feed.field_by_name(feed.named_on_field).type == "date", feed.file


def test_penalty_fields_are_the_four_kinds_a8_counts_dated_by_their_feed():
    penalties = {(agency.code, feed.feed): feed for agency, feed in all_feeds() if feed.penalty_on_field}
    # AUDITS.md's A8: construction violations, food/drug penalties, price violations, failed
    # quality inspections (only 不合格 ones).
    assert sorted(penalties) == [("construction", "violations"), ("food_drug", "penalties"),
                                 ("price", "price_violations"), ("quality", "product_inspections")]
    for (_, name), feed in penalties.items():
        assert feed.field_by_name(feed.penalty_on_field).type == "date", name
        if feed.penalty_if:
            condition_field, _ = feed.penalty_if
            feed.field_by_name(condition_field)  # a field of the feed, or KeyError
    assert penalties["quality", "product_inspections"].penalty_if == ("verdict", "不合格")
    assert all(feed.penalty_if is None for name, feed in penalties.items() if name[0] != "quality")


def test_insert_update_delete_keep_history(dsn, tmp_path):
    registrations(tmp_path, "20261110", [registration("R1", "I", "沈阳澜天科技有限公司"),
                                         registration("R2", "I", "沈阳甲乙科技有限公司",
                                                      uscc="912102008360836866")])
    registrations(tmp_path, "20261111", [registration("R1", "U", "沈阳澜天科技有限公司", status="注销"),
                                         registration("R2", "D", "沈阳甲乙科技有限公司",
                                                      uscc="912102008360836866")], mode="delta")
    history = load_registrations_history(dsn, tmp_path, date(2026, 11, 11))
    assert history == [
        ("R1", "I", "存续", "2026-11-10", "2026-11-11"),
        ("R1", "U", "注销", "2026-11-11", None),
        ("R2", "I", "存续", "2026-11-10", "2026-11-11"),
        ("R2", "D", "存续", "2026-11-11", "2026-11-11"),
    ]
    assert query(dsn, "select record_id from ingest.live_mention where agency = 'aic'") == [("R1",)]


def test_key_order_watch_names_the_keys_that_may_repeat_and_gives_up_past_its_limit():
    watch = KeyOrderWatch()
    for key, op in [("A1", "I"), ("A3", "I"), ("A2", "I"), ("A3", "U"), ("A4", "D"), ("A5", "I")]:
        watch.see(key, op)
    assert watch.suspects == {"A2", "A3", "A4"}
    watch.LIMIT = 3
    watch.see("A0", "I")
    assert watch.suspects is None


def feed_indexes(dsn, table):
    return query(dsn, "select indexname, indexdef from pg_indexes where schemaname = 'ingest'"
                      " and tablename = %s order by indexname", (table,))


@pytest.mark.parametrize("suspect_limit", [KeyOrderWatch.LIMIT, 0], ids=["few-suspects", "all-keys"])
def test_a_key_delivered_twice_in_one_delivery_keeps_its_last_line_current(dsn, tmp_path,
                                                                          monkeypatch,
                                                                          suspect_limit):
    # The loader looks for repeats among the keys not in ascending order, or in every key
    # of the file when there are more of those than its limit: both ways must agree.
    monkeypatch.setattr(KeyOrderWatch, "LIMIT", suspect_limit)
    indexes_before = feed_indexes(dsn, "aic__registrations")
    # The first load of a feed goes in without its indexes, rebuilt after it; the second
    # delivery finds rows in the table and loads with them.
    registrations(tmp_path, "20261110", [registration("R1", "I", "沈阳澜天科技有限公司"),
                                         registration("R2", "I", "沈阳甲乙科技有限公司"),
                                         registration("R1", "U", "沈阳澜天科技有限公司", status="吊销"),
                                         registration("R3", "I", "沈阳丙丁科技有限公司"),
                                         registration("R2", "D", "沈阳甲乙科技有限公司")])
    registrations(tmp_path, "20261111", [registration("R3", "U", "沈阳丙丁科技有限公司", status="注销"),
                                         registration("R4", "I", "沈阳戊己科技有限公司"),
                                         registration("R3", "U", "沈阳丙丁科技有限公司", status="吊销"),
                                         registration("R4", "D", "沈阳戊己科技有限公司")], mode="delta")
    history = load_registrations_history(dsn, tmp_path, date(2026, 11, 11))
    assert history == [
        ("R1", "I", "存续", "2026-11-10", "2026-11-10"),
        ("R1", "U", "吊销", "2026-11-10", None),
        ("R2", "I", "存续", "2026-11-10", "2026-11-10"),
        ("R2", "D", "存续", "2026-11-10", "2026-11-10"),
        ("R3", "I", "存续", "2026-11-10", "2026-11-11"),
        ("R3", "U", "注销", "2026-11-11", "2026-11-11"),
        ("R3", "U", "吊销", "2026-11-11", None),
        ("R4", "I", "存续", "2026-11-11", "2026-11-11"),
        ("R4", "D", "存续", "2026-11-11", "2026-11-11"),
    ]
    assert feed_indexes(dsn, "aic__registrations") == indexes_before
    assert [name for name, _ in indexes_before] == ["aic__registrations__delivery",
                                                    "aic__registrations__live_record_id"]


def test_current_versions_are_indexed_once_by_record_id_and_by_key_only_where_they_differ(dsn):
    """I/U/D find a record's current versions by record_id where it is the record key (every
    feed but the judgments, whose parties are <key>#<n>): one index per key column, never two
    equal ones to build after a first load and to maintain every night."""
    for agency, feed in all_feeds():
        base = table_name(agency, feed)
        expected = {f"{base}__delivery", f"{base}__live_record_id"}
        if not feed.record_id_is_key:
            expected.add(f"{base}__current")
        assert {name for name, _ in feed_indexes(dsn, base)} == expected, base
    assert [feed.feed for _, feed in all_feeds() if not feed.record_id_is_key] == ["judgments"]


def test_a_delivery_not_matching_its_manifest_is_rejected_whole(dsn, tmp_path):
    registrations(tmp_path, "20261110", [registration("R1", "I", "甲公司")],
                  manifest_overrides={"registrations.csv": {"sha256": "0" * 64}})
    registrations(tmp_path, "20261111", [registration("R2", "I", "乙公司")], rows=5)
    registrations(tmp_path, "20261112", [registration("R3", "I", "丙公司")])
    results = ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 12))
    assert [r.status for r in results] == ["rejected", "rejected", "loaded"]
    assert "sha256" in results[0].reason and "declares 5 rows" in results[1].reason
    assert query(dsn, "select record_key from ingest.aic__registrations") == [("R3",)]
    assert query(dsn, "select count(*) from credit.file_reconciliation") == [(1,)]


def test_missing_file_is_rejected(dsn, tmp_path):
    folder = registrations(tmp_path, "20261110", [registration("R1", "I", "甲公司")])
    (folder / "registrations.csv").unlink()
    [result] = ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 10))
    assert result.status == "rejected" and "missing" in result.reason


def test_resent_delivery_under_a_later_date_is_a_duplicate(dsn, tmp_path):
    lines = [registration("R1", "I", "甲公司")]
    registrations(tmp_path, "20261110", lines)
    registrations(tmp_path, "20261112", lines)
    results = ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 12))
    assert [r.status for r in results] == ["loaded", "duplicate"]
    assert query(dsn, "select count(*) from ingest.aic__registrations") == [(1,)]


def test_bad_rows_are_quarantined_with_reason_and_text(dsn, tmp_path):
    lines = [registration("R1", "I", "甲公司"), "R2,I,only-three", registration("", "I", "乙公司"),
             registration("R4", "X", "丙公司"), registration("R5", "I", "丁公司", approved="2026-02-30")]
    registrations(tmp_path, "20261110", lines)
    ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 10))
    assert query(dsn, "select rows_delivered, rows_loaded, rows_quarantined"
                      " from credit.file_reconciliation") == [(5, 2, 3)]
    reasons = query(dsn, "select line_no, record_key, reason, raw_text from ingest.quarantine"
                         " order by line_no")
    assert [(r[0], r[1]) for r in reasons] == [(3, None), (4, None), (5, "R4")]
    assert "expected 15 fields" in reasons[0][2] and reasons[0][3] == "R2,I,only-three\n"
    assert "record key" in reasons[1][2] and "operation code" in reasons[2][2]
    # An unreadable date nulls that value only, kept as delivered in issues.
    assert query(dsn, "select approved_on, issues->>'approved_on' from ingest.aic__registrations"
                      " where record_key = 'R5'") == [(None, "2026-02-30")]


def test_messy_values_are_normalised_and_originals_kept(dsn, tmp_path):
    header = REGISTRATION_HEADER + ",备注"
    line = ("R1,I,无,９１２１０１８１６６２４１８６４１ｎ,沈阳澜天科技（有限）公司,有限责任公司,林宏伟,"
            "2101 1519 8202 0184 91,住所,\"1,000.50\",1995年9月7日,2021/2/4,存续,I6513,机关,extra-value")
    write_delivery(tmp_path, "aic", "20261110", {"registrations.csv": csv_file(header, [line])},
                   {"registrations.csv": 1})
    ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 10))
    [row] = query(dsn, "select uscc, uscc_norm, uscc_valid, reg_no, registered_capital_10k::text,"
                       " established_on::text, approved_on::text, extra->>'备注', ent_uscc, ent_org,"
                       " legal_rep_id_masked, legal_rep_id_hash is not null"
                       " from ingest.aic__registrations")
    assert row == ("９１２１０１８１６６２４１８６４１ｎ", "91210181662418641N", True, None, "1000.50",
                   "1995-09-07", "2021-02-04", "extra-value", "91210181662418641N", "662418641",
                   "2101**********8491", True)
    notes = query(dsn, "select notes::text from ingest.file_load")[0][0]
    assert "备注" in notes


def test_missing_column_loads_rows_with_nulls(dsn, tmp_path):
    header = REGISTRATION_HEADER.replace(",行业代码", "")
    line = registration("R1", "I", "甲公司").replace(",I6513", "")
    write_delivery(tmp_path, "aic", "20261110", {"registrations.csv": csv_file(header, [line])},
                   {"registrations.csv": 1})
    [result] = ingest_agency(dsn, tmp_path, "aic", date(2026, 11, 10))
    assert result.status == "loaded" and result.files[0].rows_loaded == 1
    assert any("行业代码" in note for note in result.files[0].notes)
    assert query(dsn, "select industry_code, status from ingest.aic__registrations") == [(None, "存续")]


def _without_timings(deliveries):
    return [{**d, "files": [{k: v for k, v in f.items() if not k.endswith("_seconds")} for f in d["files"]]}
            for d in deliveries]


def test_agencies_loaded_in_worker_processes_load_what_they_load_one_by_one(
        generated, fresh_warehouse_dsn, monkeypatch):
    landing = generated / "landing"
    loaded = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("XINYONG_INGEST_WORKERS", workers)
        dsn = fresh_warehouse_dsn()
        night.prepare(dsn)
        nights = [night.ingest_all(dsn, landing, run_date) for run_date in delivery_dates(landing)]
        counts = {}
        with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
            for agency, feed in all_feeds():
                cursor.execute(sql.SQL("select count(*), count(*) filter (where valid_to is null) from {}")
                               .format(sql.Identifier("ingest", table_name(agency, feed))))
                counts[table_name(agency, feed)] = cursor.fetchone()
            cursor.execute("select * from credit.file_reconciliation order by 1, 2, 3")
            loaded[workers] = (nights, counts, cursor.fetchall())
        conn.close()
    (one_by_one, counts, reconciled), (parallel, parallel_counts, parallel_reconciled) = loaded.values()
    assert [d["agency"] for d in one_by_one[0]] == [d["agency"] for d in parallel[0]]
    assert list(map(_without_timings, parallel)) == list(map(_without_timings, one_by_one))
    assert parallel_counts == counts and parallel_reconciled == reconciled
    assert sum(n for n, _ in counts.values()) > 1000
    statuses = {d["status"] for deliveries in parallel for d in deliveries}
    assert "loaded" in statuses and "rejected" in statuses  # the generated fault night rejects one
    assert all(f["parse_seconds"] > 0 and f["load_seconds"] > 0
               for deliveries in parallel for d in deliveries for f in d["files"])


# A parent that starts a loading pool as ingest_all does, prints its worker's pid and waits.
_POOL_PARENT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from xinyong.night import start_worker
with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                         initializer=start_worker, initargs=(30,)) as pool:
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 600).result()
"""


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # an exited orphan nobody reaped yet


def test_loading_workers_end_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", _POOL_PARENT], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert _running(worker)
    parent.send_signal(signal.SIGKILL)  # no handler runs: the pool cannot stop its worker
    parent.wait()
    deadline = time.monotonic() + 30
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(worker)
