"""Data gates: real Great Expectations suites run inside a real PostgreSQL on generated deliveries."""

import json
from datetime import date

import psycopg2
import pytest
from psycopg2 import sql

from xinyong import night, validate
from xinyong.feeds import all_feeds
from xinyong.generate import GeneratorConfig, generate
from xinyong.ingest.deliveries import ingest_agency
from xinyong.warehouse.schema import table_name


def query(dsn, text, params=None):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(text, params)
        return cursor.fetchall() if cursor.description else None


def delivery_id(dsn, agency, folder):
    return query(dsn, "select delivery_id from ingest.delivery where agency = %s and folder = %s"
                      " and status = 'loaded'", (agency, folder))[0][0]


@pytest.fixture(scope="module")
def warehouse(session_warehouse_factory, tmp_path_factory):
    """A small generated landing loaded and validated once; the clean state is snapshotted
    here because the corruption test re-validates some deliveries afterwards."""
    dsn = session_warehouse_factory()
    night.prepare(dsn)
    out = tmp_path_factory.mktemp("generated")
    generate(out, GeneratorConfig(enterprises=60, nights=2, seed=3, workers=1))
    for agency in night.agency_codes():
        ingest_agency(dsn, out / "landing", agency, date(2026, 11, 11))
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        ids = validate.deliveries_to_validate(cursor)
    docs_dir = tmp_path_factory.mktemp("docs")
    report = validate.validate_deliveries(dsn, ids, docs_dir)
    stored = query(dsn, "select delivery_id, feed, expectation, severity, success, observed"
                        " from ingest.validation")
    return {"dsn": dsn, "ids": ids, "report": report, "stored": stored, "docs_dir": docs_dir}


def test_every_feed_has_a_committed_suite_with_severities():
    for agency, feed in all_feeds():
        path = validate.expectations_dir() / f"{table_name(agency, feed)}.json"
        suite = validate.load_suite(path)  # raises without meta.severity
        assert suite["name"] == table_name(agency, feed)
        types = {e["type"] for e in suite["expectations"]}
        assert types & {"expect_table_row_count_to_equal",
                        "expect_column_unique_value_count_to_be_between"}, path


def test_default_suites_are_written_for_every_feed(tmp_path):
    written = validate.write_default_suites(tmp_path)
    assert len(written) == len(all_feeds())
    assert validate.write_default_suites(tmp_path) == []  # hand edits are never overwritten
    registrations = json.loads((tmp_path / "aic__registrations.json").read_text(encoding="utf-8"))
    status = [e for e in registrations["expectations"] if e["kwargs"].get("column") == "status"]
    assert status[0]["kwargs"]["value_set"] == ["存续", "在业", "吊销", "注销", "迁出"]
    assert status[0]["meta"]["severity"] == "warning"


def test_clean_deliveries_pass_every_blocking_expectation(warehouse):
    report, dsn = warehouse["report"], warehouse["dsn"]
    assert report.blocking == 0, report.blocking_failures
    assert report.passed > 0
    assert report.docs_index is not None and report.docs_index.is_file()
    assert set(report.seconds_per_feed) == {table_name(a, f) for a, f in all_feeds()}
    # One stored row per (delivery, feed, expectation), for every loaded file.
    files = query(dsn, "select count(*) from ingest.file_load f join ingest.delivery d"
                       " using (delivery_id) where d.status = 'loaded'")[0][0]
    assert len({(d, f) for d, f, *_ in warehouse["stored"]}) == files
    assert all(success for _, _, _, severity, success, _ in warehouse["stored"]
               if severity == "blocking")
    counts = [observed["observed_value"] for _, feed, expectation, _, _, observed
              in warehouse["stored"] if expectation == "expect_table_row_count_to_equal"]
    assert counts and all(isinstance(n, int) for n in counts)


def test_corrupted_deliveries_fail_their_gates(warehouse):
    dsn = warehouse["dsn"]
    aic, aic_delta = delivery_id(dsn, "aic", "20261110"), delivery_id(dsn, "aic", "20261111")
    vat, court = delivery_id(dsn, "state_tax", "20261110"), delivery_id(dsn, "court", "20261110")
    emptied = query(dsn, "select feed from ingest.file_load where delivery_id = %s"
                         " and rows_loaded > 0 order by feed limit 1", (aic_delta,))[0][0]
    query(dsn, "update ingest.aic__registrations set status = 'xx'"
               " where delivery_id = %s and line_no %% 5 <> 0", (aic,))
    query(dsn, "update ingest.aic__registrations set op = 'X' where delivery_id = %s"
               " and line_no = (select min(line_no) from ingest.aic__registrations"
               "  where delivery_id = %s)", (aic, aic))
    query(dsn, sql.SQL("delete from {} where delivery_id = %s").format(
        sql.Identifier("ingest", f"aic__{emptied}")), (aic_delta,))
    query(dsn, "delete from ingest.state_tax__vat_returns where delivery_id = %s"
               " and line_no = (select max(line_no) from ingest.state_tax__vat_returns"
               "  where delivery_id = %s)", (vat, vat))
    query(dsn, "delete from ingest.court__judgments where delivery_id = %s"
               " and line_no = (select max(line_no) from ingest.court__judgments"
               "  where delivery_id = %s)", (court, court))

    report = validate.validate_deliveries(dsn, [aic, aic_delta, vat, court],
                                          warehouse["docs_dir"] / "corrupted")
    failed = {(d, f, e, s) for d, f, e, s, ok in query(
        dsn, "select delivery_id, feed, expectation, severity, success from ingest.validation"
             " where delivery_id = any(%s)", ([aic, aic_delta, vat, court],)) if not ok}
    assert {(d, f, e) for d, f, e, s in failed if s == "blocking"} == {
        (aic, "registrations", "expect_column_values_to_be_in_set(op)"),
        (aic_delta, emptied, "rows_present"),
        (vat, "vat_returns", "expect_table_row_count_to_equal"),
        (court, "judgments", "expect_column_unique_value_count_to_be_between(line_no)"),
    }
    assert (aic, "registrations", "expect_column_values_to_be_in_set(status)",
            "warning") in failed
    assert report.blocking == 4 and not report.ok
    assert any("aic/20261110 registrations" in m and "status" in m
               for m in report.warning_failures)
    row_count = next(m for m in report.blocking_failures if "vat_returns" in m)
    assert "state_tax/20261110" in row_count and "expected" in row_count

    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        assert len(validate.blocking_failures(cursor, [aic, aic_delta, vat, court])) == 4
        # A loaded delivery the gate never ran on may not be published either.
        cursor.execute("delete from ingest.validation where delivery_id = %s", (court,))
        problems = validate.blocking_failures(cursor, [court])
    assert problems and all("not validated" in p for p in problems)


def test_a_feed_without_suite_is_a_blocking_failure(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("XINYONG_EXPECTATIONS_DIR", str(tmp_path))
    price = delivery_id(warehouse["dsn"], "price", "20261110")
    report = validate.validate_deliveries(warehouse["dsn"], [price], tmp_path / "docs")
    assert report.blocking == 1
    assert "no suite price__price_violations.json" in report.blocking_failures[0]
