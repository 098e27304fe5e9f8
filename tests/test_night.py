"""Whole nights end to end: generated deliveries -> `xinyong run` (real PostgreSQL, Spark via
spark-submit) -> the contract's views, compared with the generator's ground truth; the same
nights through the real DAG (`dag.test()`) leave the warehouse exactly as the CLI does."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from xinyong import cli
from xinyong.demo import delivery_dates
from xinyong.evaluate import read_links, read_truth, score

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
