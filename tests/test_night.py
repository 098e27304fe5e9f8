"""Whole nights end to end: generated deliveries -> `xinyong run` (real PostgreSQL, the Spark
job in the tests' local session: conftest) -> the contract's views, compared with the
generator's ground truth; the same nights through the real DAG (`dag.test()`) leave the
warehouse exactly as the CLI does. The job through spark-submit writes what it writes in a
session (test_resolve); the nights test_safety and test_db_faults start as commands, and the
bench's, go through spark-submit."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xinyong import cli
from xinyong.demo import delivery_dates
from xinyong.evaluate import (
    evaluate,
    evaluate_cells,
    read_enterprises,
    read_links,
    read_truth,
    score,
    warehouse_feed_cells,
    write_errors,
)
from xinyong.night import export_links, export_mentions
from xinyong.resolve import run_job
from xinyong.warehouse.db import transaction

from .fixtures_nights import rows, snapshot, warehouse_env

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "feeds" / "samples"
def test_delivery_statuses_match_the_truth(cli_nights, generated):
    with (generated / "truth" / "deliveries.csv").open(encoding="utf-8") as handle:
        expected = {(r["agency"], date.fromisoformat(r["batch_date"]), r["status"])
                    for r in csv.DictReader(handle)}
    got = {(a, d, s) for a, d, s, _ in cli_nights["after"][-1]["delivery_status"]}
    assert got == expected
    assert {s for _, _, s in expected} == {"loaded", "rejected", "duplicate"}


def test_every_file_reconciles_with_the_truths_quarantine(cli_nights, generated):
    with (generated / "truth" / "files.csv").open(encoding="utf-8") as handle:
        expected = {(r["agency"], date.fromisoformat(r["batch_date"]), r["file"]):
                    (int(r["rows_delivered"]), int(r["rows_expected_quarantined"]))
                    for r in csv.DictReader(handle)}
    got = {(a, d, f): (n, q) for a, d, f, n, loaded, q in cli_nights["after"][-1]["file_reconciliation"]
           if n == loaded + q}
    assert len(got) == len(cli_nights["after"][-1]["file_reconciliation"])  # all reconcile
    assert got == {key: value for key, value in expected.items() if key in got}
    assert sum(q for _, q in got.values()) > 0  # the generated problems reached the quarantine


def test_every_live_mention_is_linked_once(cli_nights):
    dsn = cli_nights["dsn"]
    live = rows(dsn, "select agency, feed, record_id from ingest.live_mention")
    linked = cli_nights["after"][-1]["record_link"]
    assert {(a, f, r) for a, f, r, _ in linked} == live
    assert len(linked) == len(live)


def test_penalties_are_dated_for_the_resolver_as_their_feeds_say(cli_nights):
    """ingest.live_mention.penalized_on: the decision's date of every penalty (a failed
    inspection, not a passed one), null on every other record."""
    dsn = cli_nights["dsn"]
    penalized = dict(rows(dsn, "select agency || '/' || feed, count(*) from ingest.live_mention"
                               " where penalized_on is not null group by 1"))
    assert set(penalized) == {"construction/violations", "food_drug/penalties",
                              "price/price_violations", "quality/product_inspections"}
    inspections = rows(dsn, "select i.verdict, m.penalized_on = i.inspected_on, count(*)"
                            " from ingest.live_mention m join ingest.quality__product_inspections i"
                            " using (record_id) where m.feed = 'product_inspections'"
                            " and i.valid_to is null group by 1, 2")
    assert {(verdict, same) for verdict, same, _ in inspections} <= {("不合格", True), ("合格", None)}
    assert {verdict for verdict, _, _ in inspections} >= {"不合格", "合格"}
    [(misdated,)] = rows(dsn, "select count(*) from ingest.live_mention m"
                              " join ingest.price__price_violations p using (record_id)"
                              " where m.feed = 'price_violations' and p.valid_to is null"
                              " and m.penalized_on is distinct from p.decided_on")
    assert misdated == 0


def test_code_bearing_records_link_as_the_truth_says(cli_nights, generated):
    dsn = cli_nights["dsn"]
    code_bearing = rows(dsn, "select agency, feed, record_id from ingest.live_mention where"
                             " coalesce(uscc, org, regno, taxno, customs) is not null")
    scores = score(read_links(dsn), read_truth(generated / "truth"), only=code_bearing)
    assert scores.records > 0.9 * len(code_bearing)
    assert scores.pairwise_precision >= 0.99, scores
    assert scores.pairwise_recall >= 0.97, scores
    assert scores.bcubed_f1 >= 0.97, scores


def test_enterprise_ids_persist_across_nights(cli_nights):
    first, last = cli_nights["after"][0]["record_link"], cli_nights["after"][-1]["record_link"]
    before = {(a, f, r): e for a, f, r, e in first}
    now = {(a, f, r): e for a, f, r, e in last}
    common = before.keys() & now.keys()
    moved = [key for key in common if before[key] != now[key]]
    assert len(common) > 0.9 * len(before)
    assert len(moved) <= 0.01 * len(common), moved[:10]


def test_running_the_last_night_again_changes_nothing(cli_nights):
    dsn, landing = cli_nights["dsn"], cli_nights["landing"]
    last = delivery_dates(landing)[-1]
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", last.isoformat()]) == 0
    assert snapshot(dsn) == cli_nights["after"][-1]


def test_a_dag_run_leaves_the_warehouse_as_xinyong_run_does(cli_nights, nightly_dag,
                                                             session_warehouse_factory):
    dsn, landing = session_warehouse_factory(), cli_nights["landing"]
    with warehouse_env(dsn):
        for night_date in delivery_dates(landing):
            dag_run = nightly_dag.test(
                logical_date=datetime(night_date.year, night_date.month, night_date.day, 2, tzinfo=UTC),
                run_conf={"landing": str(landing), "run_date": night_date.isoformat()})
            assert str(dag_run.state) == "success"
    assert snapshot(dsn) == cli_nights["after"][-1]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared sample deliveries not present")
def test_the_contract_samples_link_all_agencies_and_feeds(session_warehouse_factory, tmp_path):
    dsn = session_warehouse_factory()
    landing = tmp_path / "samples"
    shutil.copytree(SAMPLES, landing)
    last = delivery_dates(landing)[-1]  # one run loads every delivery up to its date
    with warehouse_env(dsn):
        assert cli.main(["run", "--landing", str(landing), "--date", last.isoformat()]) == 0
    linked = rows(dsn, "select agency, feed from credit.record_link")
    assert len({agency for agency, _ in linked}) == 10
    assert len(linked) == 19


def test_every_record_links_as_the_truth_says(cli_nights, generated):
    truth = generated / "truth"
    report = evaluate(read_links(cli_nights["dsn"]), read_truth(truth), read_enterprises(truth))
    scores = report["scores"]
    assert scores["pairwise_f1"] >= 0.99, report
    assert scores["bcubed_f1"] >= 0.99, report
    assert report["branches_merged_with_head_office"] == 0, report
    assert report["renamed_enterprises"] > 0
    assert report["renamed_enterprises_split"] <= 0.1 * report["renamed_enterprises"], report


def test_the_evaluation_counted_in_the_warehouse_equals_the_one_in_memory(cli_nights, generated):
    truth = generated / "truth"
    in_memory = evaluate(read_links(cli_nights["dsn"]), read_truth(truth), read_enterprises(truth))
    cells, unmatched = warehouse_feed_cells(cli_nights["dsn"], truth)
    assert evaluate_cells(cells, unmatched, read_enterprises(truth)) == in_memory
    assert in_memory["scores"]["records"] > 1000


def _move_a_record(records_csv: Path) -> tuple[tuple[str, str, str], str]:
    """Give one live record of a true enterprise to another, each with 3+ live records, in the
    truth: the record's key and the enterprise it now belongs to."""
    with records_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, records = reader.fieldnames, list(reader)
    live = [r for r in records if r["enterprise_id"] and r.get("status", "live") == "live"]
    sizes = Counter(r["enterprise_id"] for r in live)
    first, second = sorted(e for e, n in sizes.items() if n >= 3)[:2]
    moved = next(r for r in live if r["enterprise_id"] == first)
    moved["enterprise_id"] = second
    with records_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    return (moved["agency"], moved["feed"], moved["record_id"]), second


def test_the_errors_written_are_the_records_the_evaluation_counts(cli_nights, generated, tmp_path):
    truth = tmp_path / "truth"
    shutil.copytree(generated / "truth", truth)
    moved, new_owner = _move_a_record(truth / "records.csv")
    report = evaluate_cells(*warehouse_feed_cells(cli_nights["dsn"], truth), read_enterprises(truth))
    out = tmp_path / "errors.csv"
    lines = write_errors(cli_nights["dsn"], truth, out)
    with out.open(encoding="utf-8", newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert len(listed) == lines
    for kind in ("split", "merged"):
        per_feed = Counter(f"{r['agency']}/{r['feed']}" for r in listed if kind in r["error"].split(","))
        assert per_feed == Counter({feed: counts[kind] for feed, counts in report["per_feed"].items()
                                    if counts[kind]}), kind
    row = next(r for r in listed if (r["agency"], r["feed"], r["record_id"]) == moved)
    # Its link did not move: it is outside its new owner's enterprise, inside another's.
    assert row["error"] == "split,merged"
    assert row["true_enterprise_id"] == new_owner
    with (truth / "enterprises.csv").open(encoding="utf-8", newline="") as handle:
        assert row["true_name"] == next(e["name"] for e in csv.DictReader(handle)
                                        if e["enterprise_id"] == new_owner)
    assert row["enterprise_id"] != row["home_enterprise_id"]
    assert row["rule"] and row["enterprise_name"] and row["record_name"]


def test_the_golden_record_carries_register_facts(cli_nights):
    dsn = cli_nights["dsn"]
    (with_status, registered, renamed, branches, with_head) = next(iter(rows(dsn, """
        select count(*) filter (where e.status is not null),
               count(distinct l.enterprise_id) filter (where l.agency = 'aic' and l.feed = 'registrations'),
               count(*) filter (where jsonb_array_length(e.former_names) > 0),
               count(*) filter (where e.is_branch),
               count(*) filter (where e.head_enterprise_id is not null)
        from credit.enterprise e
        left join credit.record_link l on l.enterprise_id = e.enterprise_id
            and l.agency = 'aic' and l.feed = 'registrations'""")))
    assert with_status > 0 and with_status == registered  # every registered enterprise
    assert renamed > 0
    assert 0 < with_head <= branches
    heads_are_head_offices = rows(dsn, """
        select b.enterprise_id from credit.enterprise b join credit.enterprise h
          on h.enterprise_id = b.head_enterprise_id where h.is_branch or not b.is_branch""")
    assert heads_are_head_offices == set()


def test_a_delta_night_links_as_a_full_night_would(cli_nights, spark, tmp_path):
    """The last night linked only new signatures; linking everything again from the night
    before must give the same enterprises with the same ids."""
    dsn = cli_nights["dsn"]
    [(delta_run, stats)] = rows(dsn, """
        select run_id, stats::text from resolve.night_run
        where (stats->>'incremental')::int = 1 order by run_id desc limit 1""")
    stats = json.loads(stats)
    with transaction(dsn) as conn, conn.cursor() as cursor:
        export_mentions(cursor, tmp_path / "mentions.parquet")
        cursor.execute("select max(run_id) from resolve.night_run where run_id < %s", (delta_run,))
        export_links(cursor, tmp_path / "prior.parquet", cursor.fetchone()[0])
        cursor.execute("select agency, feed, record_id, enterprise_id from resolve.link"
                       " where run_id = %s", (delta_run,))
        delta = {(a, f, r): e for a, f, r, e in cursor.fetchall()}
    first_new_id = stats["next_id"] - stats["new_ids"]
    run_job(spark, str(tmp_path / "mentions.parquet"), str(tmp_path / "prior.parquet"),
            str(tmp_path / "full"), first_new_id, incremental=False)
    full = {tuple(r["mention_id"].split("|", 2)): r["enterprise_id"]
            for r in pq.read_table(tmp_path / "full" / "links").to_pylist()}
    assert stats["mentions"] == len(delta) == len(full)
    assert full == delta
    # Delta nights link again only the signatures their new ones touch, not the whole graph.
    linked = [(s["signatures_linked"], s["signatures"]) for (text,) in rows(dsn, """
        select stats::text from resolve.night_run where (stats->>'incremental')::int = 1""")
              for s in [json.loads(text)]]
    assert any(n > 0 for n, _ in linked), linked
    assert all(n < total / 2 for n, total in linked), linked


JOINT_SUPERVISION_VIEWS = {
    # view: the sources whose live, linked records it shows
    "credit.dishonest_debtor": [("court", "dishonest_debtors", "true")],
    "credit.abnormal_operation": [("aic", "abnormal_operations", "true")],
    "credit.penalty": [("construction", "violations", "true"), ("food_drug", "penalties", "true"),
                       ("price", "price_violations", "true"),
                       ("quality", "product_inspections", "verdict = '不合格'")],
    "credit.rating": [("state_tax", "credit_ratings", "true"), ("customs", "credit_ratings", "true")],
    "credit.licence": [("construction", "qualifications", "true"), ("food_drug", "licenses", "true"),
                       ("quality", "org_code_certificates", "true")],
    "credit.judgment": [("court", "judgments", "true")],
    "credit.arrears": [("local_tax", "arrears", "true")],
}


@pytest.mark.parametrize("view", sorted(JOINT_SUPERVISION_VIEWS))
def test_joint_supervision_views_show_every_linked_live_record(cli_nights, view):
    dsn = cli_nights["dsn"]
    expected = 0
    for agency, feed, condition in JOINT_SUPERVISION_VIEWS[view]:
        [(count,)] = rows(dsn, f"""
            select count(*) from ingest.{agency}__{feed} t join credit.record_link l
              on l.agency = '{agency}' and l.feed = '{feed}' and l.record_id = t.record_id
            where t.valid_to is null and t.op <> 'D' and {condition}""")  # noqa: S608 (constants)
        expected += count
    [(shown, unknown)] = rows(dsn, f"""
        select count(*), count(*) filter (where e.enterprise_id is null)
        from {view} v left join credit.enterprise e using (enterprise_id)""")  # noqa: S608
    assert shown == expected > 0
    assert unknown == 0


def test_the_enterprise_profile_has_one_row_per_enterprise(cli_nights):
    dsn = cli_nights["dsn"]
    [(profiles, enterprises, registered)] = rows(dsn, """
        select (select count(*) from credit.enterprise_profile),
               (select count(*) from credit.enterprise),
               (select count(*) from credit.enterprise_profile where registration_record_id is not null)""")
    assert profiles == enterprises
    assert registered > 0.5 * enterprises


def test_audit_changes_account_for_the_difference_between_two_runs(cli_nights):
    dsn = cli_nights["dsn"]
    published = rows(dsn, "select audit, enterprise_id from credit.audit_finding")
    previous = rows(dsn, """select audit, enterprise_id from audit.finding where run_id =
        (select max(run_id) from resolve.night_run where run_id < (select run_id from credit.published))""")
    changes = rows(dsn, "select audit, enterprise_id, change from credit.audit_finding_change")
    assert {(a, e) for a, e, c in changes if c == "new"} == published - previous
    assert {(a, e) for a, e, c in changes if c == "resolved"} == previous - published
    assert published  # the generated nights plant findings
