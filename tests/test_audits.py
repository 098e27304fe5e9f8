"""The cross-audits of AUDITS.md (sql/audits/A*.sql) on small data, in real PostgreSQL.

Tests as data: sql/audits/tests/<code>.json beside the audits holds, per audit, input rows
per feed table (only the columns that matter; the history columns get defaults: live,
op I), the links of the audited run, the enterprises the audit must report with the
records their evidence must name, and the near misses it must not report. One migrated
database serves every case; each case starts from empty tables and runs the audit file
exactly as the night does (night.audit, with xinyong.run_id set).

Case file format::

    {"audit": "A1", "rule": "…", "run_date": "2026-11-23",
     "rows": {"aic__registrations": [{"record_id": "R1", "status": "注销", ...}], ...},
     "links": {"E1": ["aic/registrations/R1", ...], ...},
     "previous_run_links": {...},          # optional: links of an older run, to be ignored
     "expected": {"E1": {"records": ["aic/registrations/R1", ...],
                         "evidence_contains": {...},     # optional, jsonb @>
                         "evidence_equals": {key: ...}}},  # optional, jsonb = per key
     "not_reported": {"E2": "why: the near miss it is"}}

A row may set the history columns itself: ``valid_to`` (a closed, superseded version),
``op`` ("D" for a tombstone), ``record_key``; keys starting with ``_`` are comments.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from xinyong import audit_bench, cli, night
from xinyong.feeds import all_feeds
from xinyong.warehouse.db import transaction
from xinyong.warehouse.migrate import migrate, sql_dir
from xinyong.warehouse.schema import table_name

from .fixtures_nights import warehouse_env

AUDITS = sql_dir() / "audits"
FEED_TABLES = [table_name(agency, feed) for agency, feed in all_feeds()]
TEXT_OID, JSONB_OID, INT8_OID = 25, 3802, 20


def in_order(code: str) -> tuple[int, str]:
    """A1 … A9, A10: codes in their natural order."""
    return len(code), code


def audit_files() -> dict[str, Path]:
    return {p.stem.split("_")[0]: p for p in AUDITS.glob("A*.sql")}


CODES = sorted(audit_files(), key=in_order)
CASES = sorted((AUDITS / "tests").glob("A*.json"), key=lambda p: in_order(p.stem))
SUMMARIES = sorted((AUDITS / "summaries").glob("*.sql"))


def read_case(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def ref(text: str) -> tuple[str, str, str]:
    agency, feed, record_id = text.split("/", 2)
    return agency, feed, record_id


@pytest.fixture(scope="module")
def audit_dsn(session_warehouse_factory) -> str:
    dsn = str(session_warehouse_factory())
    migrate(dsn)
    return dsn


@pytest.fixture
def db(audit_dsn: str) -> Iterator[Any]:
    conn = psycopg2.connect(audit_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def load_case(cursor, case: dict[str, Any]) -> int:
    """Empty the warehouse, load the case's rows and links; returns the audited run's id."""
    cursor.execute("begin")
    try:
        run_id = _load_case(cursor, case)
    except BaseException:
        cursor.execute("rollback")
        raise
    cursor.execute("commit")
    return run_id


def _load_case(cursor, case: dict[str, Any]) -> int:
    for table in FEED_TABLES:  # delete: faster than truncate for a few rows
        cursor.execute(sql.SQL("delete from {}").format(sql.Identifier("ingest", table)))
    cursor.execute("delete from credit.published")
    cursor.execute("delete from resolve.night_run")  # cascades to links and findings
    night.drop_link_partitions(cursor)  # resolve.link: one partition per run
    if case.get("previous_run_links"):
        cursor.execute("insert into resolve.night_run (run_date, status)"
                       " values (%s::date - 1, 'superseded') returning run_id", (case["run_date"],))
        insert_links(cursor, int(cursor.fetchone()[0]), case["previous_run_links"])
    cursor.execute("insert into resolve.night_run (run_date, status) values (%s, 'resolved')"
                   " returning run_id", (case["run_date"],))
    run_id = int(cursor.fetchone()[0])
    insert_links(cursor, run_id, case["links"])
    for table, rows in case["rows"].items():
        assert table in FEED_TABLES, f"{table} is no feed table"
        for line_no, row in enumerate(rows, 1):
            values = {"delivery_id": 1, "line_no": line_no, "op": "I",
                      "record_key": row["record_id"].split("#")[0], "valid_from": "2026-01-01"}
            values.update({k: v for k, v in row.items() if not k.startswith("_")})
            if values["op"] == "D":  # a tombstone is closed when it is written
                values.setdefault("valid_to", "2026-06-01")
            values = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                      for k, v in values.items()}
            cursor.execute(sql.SQL("insert into {} ({}) values ({})").format(
                sql.Identifier("ingest", table),
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(sql.Placeholder() * len(values))), list(values.values()))
    return run_id


def insert_links(cursor, run_id: int, links: dict[str, list[str]]) -> None:
    night.create_link_partition(cursor, run_id)
    night.attach_link_partition(cursor, run_id)
    for enterprise_id, refs in links.items():
        for text in refs:
            cursor.execute("insert into resolve.link (run_id, agency, feed, record_id, enterprise_id,"
                           " rule) values (%s, %s, %s, %s, %s, 'test')",
                           (run_id, *ref(text), enterprise_id))


def findings(cursor, run_id: int, code: str) -> dict[str, dict[str, Any]]:
    cursor.execute("select enterprise_id, evidence from audit.finding where run_id = %s and audit = %s",
                   (run_id, code))
    return dict(cursor.fetchall())


def named_records(evidence: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["agency"], r["feed"], r["record_id"]) for r in evidence["records"]}


def test_every_audit_has_its_cases_and_a_header():
    files = audit_files()
    assert {f"A{n}" for n in range(1, 9)} <= set(files)  # AUDITS.md's eight, and any added
    assert {p.stem for p in CASES} == set(files)
    for code, path in files.items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"-- {code} "), f"{path.name}: header comment naming the audit"
        assert "Near misses" in text and "Rule:" in text, path.name


@pytest.mark.parametrize("code", CODES)
def test_audit_returns_enterprise_id_and_evidence(db, code: str):
    """Each audit returns enterprise_id and evidence, and may return the evidence's hash
    beside them when it copies a summary's evidence (A2, A5, A7)."""
    query = audit_files()[code].read_text(encoding="utf-8").strip().rstrip(";")
    db.execute(sql.SQL("select * from (\n{}\n) as q limit 0").format(sql.SQL(query)))
    columns = [(c.name, c.type_code) for c in db.description]
    assert columns[:2] == [("enterprise_id", TEXT_OID), ("evidence", JSONB_OID)]
    assert columns[2:] in ([], [("evidence_hash", INT8_OID)])


def plan_of(cursor, query: sql.Composable, settings: dict[str, str]) -> dict[str, Any]:
    cursor.execute("begin")
    try:
        for name, value in settings.items():
            cursor.execute("select set_config(%s, %s, true)", (name, value))
        cursor.execute(sql.SQL("explain (format json, verbose) {}").format(query))
        return dict(cursor.fetchone()[0][0]["Plan"])
    finally:
        cursor.execute("rollback")


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


@pytest.mark.parametrize("path", SUMMARIES, ids=[p.stem for p in SUMMARIES])
def test_summaries_join_whole_feeds_on_keys(db, path: Path):
    """As night.build_audit_summaries builds them (enable_nestloop off), every join of a
    summary is a hash or merge join on a key: no nested loop, whose cost grows with the
    product of its inputs (the planner underestimates a feed's share of the run's links).
    A summary that asks for nested loops reads a few enterprises' records: it reads feeds and
    links by index only, never a whole feed or every link of the run."""
    settings = {"enable_nestloop": "off", **night.planner_settings(path)}
    plan = list(nodes(plan_of(db, night.select_file(path), settings)))
    if settings["enable_nestloop"] == "off":
        assert [n["Node Type"] for n in plan if n["Node Type"] == "Nested Loop"] == []
    else:
        reads = {(n["Schema"], n["Relation Name"], n["Node Type"])
                 for n in plan if n.get("Schema") in ("ingest", "resolve")}
        assert reads, f"{path.name} reads no feed"
        assert {kind for _, _, kind in reads} <= {"Index Scan", "Index Only Scan"}, reads


def test_summaries_count_the_rows_they_store(db, audit_dsn: str):
    run_id = load_case(db, read_case(AUDITS / "tests" / "A5.json"))
    with transaction(audit_dsn) as conn, conn.cursor() as cursor:
        counts = night.build_audit_summaries(cursor, run_id)
    assert set(counts) == {path.stem for path in SUMMARIES}
    for name, count in counts.items():
        db.execute(sql.SQL("select count(*) from {} where run_id = %s")
                   .format(sql.Identifier("audit", f"summary_{name}")), (run_id,))
        assert db.fetchone()[0] == count, name
    assert counts["vat_without_local"] > 0 and counts["registration"] > 0
    # An enterprise without a registration (E8) has its returns as records, and no null one.
    db.execute("select enterprise_id, status, jsonb_array_length(evidence -> 'records'),"
               " jsonb_path_exists(evidence, '$.records[*] ? (@ == null)')"
               " from audit.summary_vat_without_local where run_id = %s and enterprise_id = 'E8'",
               (run_id,))
    assert db.fetchone() == ("E8", None, 12, False)


def test_summaries_are_built_after_the_summaries_they_read(tmp_path: Path, monkeypatch):
    summaries = tmp_path / "audits" / "summaries"
    summaries.mkdir(parents=True)
    (summaries / "a_first.sql").write_text("-- after: z_last\nselect 1\n", encoding="utf-8")
    (summaries / "m_middle.sql").write_text("select 1\n", encoding="utf-8")
    (summaries / "z_last.sql").write_text("select 1\n", encoding="utf-8")
    monkeypatch.setenv("XINYONG_SQL_DIR", str(tmp_path))
    order = [path.stem for path in night.summary_files()]
    assert sorted(order) == ["a_first", "m_middle", "z_last"]
    assert order.index("z_last") < order.index("a_first")
    (summaries / "m_middle.sql").write_text("-- after: nowhere\nselect 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="after nowhere"):
        night.summary_files()
    # The shipped summaries that read others' views name them.
    monkeypatch.delenv("XINYONG_SQL_DIR")
    shipped = [path.stem for path in night.summary_files()]
    for name in ("late_activity", "listed_trading", "vat_without_local"):
        assert shipped.index("activity") < shipped.index(name)
    for name in ("late_activity", "representation"):
        assert shipped.index("registration") < shipped.index(name)
    assert shipped.index("representation") < shipped.index("dishonest_rep_elsewhere")
    assert max(shipped.index("trade"), shipped.index("trade_year")) < shipped.index("customs_exceeds_vat")


def finding_versions(cursor, run_id: int, code: str) -> dict[str, str]:
    """Each finding's row version (xmin): it changes when the row is written again."""
    cursor.execute("select enterprise_id, xmin::text from audit.finding"
                   " where run_id = %s and audit = %s", (run_id, code))
    return dict(cursor.fetchall())


def audited_a7_case(db, audit_dsn: str) -> tuple[int, date, dict[str, dict[str, Any]]]:
    """A7's case loaded and audited once: its run, its date and the findings written."""
    case = read_case(AUDITS / "tests" / "A7.json")
    run_id = load_case(db, case)
    run_date = date.fromisoformat(case["run_date"])
    night.audit(audit_dsn, run_date, run_id, only=["A7"])
    built = findings(db, run_id, "A7")
    assert set(built) == set(case["expected"])
    return run_id, run_date, built


def test_a2_and_a7_copy_their_summaries_until_rebuilt(db, audit_dsn: str):
    """A2 and A7 copy the findings the night built: a stale summary stays stale until
    `xinyong audit --rebuild-summaries` builds the run's summaries again."""
    run_id, run_date, built = audited_a7_case(db, audit_dsn)
    db.execute("delete from audit.summary_dishonest_rep_elsewhere where run_id = %s", (run_id,))
    assert night.audit(audit_dsn, run_date, run_id, only=["A7"]) == {"A7": 0}
    assert night.audit(audit_dsn, run_date, run_id, only=["A7"],
                       rebuild_summaries=True) == {"A7": len(built)}
    assert findings(db, run_id, "A7") == built


def test_a_rerun_writes_only_the_findings_that_changed(db, audit_dsn: str, tmp_path: Path,
                                                       monkeypatch):
    run_id, run_date, first = audited_a7_case(db, audit_dsn)
    versions = finding_versions(db, run_id, "A7")
    assert len(first) >= 3

    # Found again as they were: nothing is written.
    assert night.audit(audit_dsn, run_date, run_id, only=["A7"]) == {"A7": len(first)}
    assert finding_versions(db, run_id, "A7") == versions

    # One finding gone, one with other evidence, one new: those three rows change, no other.
    gone, changed, kept = sorted(first)[:3]
    db.execute("delete from audit.summary_dishonest_rep_elsewhere"
               " where run_id = %s and enterprise_id = %s", (run_id, gone))
    db.execute("update audit.summary_dishonest_rep_elsewhere set evidence = evidence || '{\"note\": 1}'"
               " where run_id = %s and enterprise_id = %s", (run_id, changed))
    db.execute("insert into audit.summary_dishonest_rep_elsewhere (run_id, enterprise_id, evidence)"
               " values (%s, 'E-new', '{\"records\": []}')", (run_id,))
    assert night.audit(audit_dsn, run_date, run_id, only=["A7"]) == {"A7": len(first)}
    after, new_versions = findings(db, run_id, "A7"), finding_versions(db, run_id, "A7")
    assert set(after) == set(first) - {gone} | {"E-new"}
    assert after[changed] == {**first[changed], "note": 1}
    assert after["E-new"] == {"records": []}
    assert new_versions[kept] == versions[kept]
    assert new_versions[changed] != versions[changed]
    assert {e for e in after if e not in (changed, "E-new")} == set(first) - {gone, changed}
    assert all(new_versions[e] == versions[e] for e in after if e not in (changed, "E-new"))

    # An audit that reports an enterprise twice is refused, whether the enterprise was
    # reported before (its finding would be updated) or not (inserted), and nothing it wrote
    # is kept.
    copied = tmp_path / "sql"
    shutil.copytree(sql_dir(), copied)
    monkeypatch.setenv("XINYONG_SQL_DIR", str(copied))
    audit_file = copied / "audits" / "A9_twice.sql"
    once = "-- A9 twice\nselect enterprise_id, evidence from audit.dishonest_rep_elsewhere\n"
    audit_file.write_text(once, encoding="utf-8")
    assert night.audit(audit_dsn, run_date, run_id, only=["A9"]) == {"A9": len(after)}
    reported = findings(db, run_id, "A9")
    for twice in ("E-new", "E-never-reported"):
        audit_file.write_text(once + f"union all select '{twice}', '{{}}'::jsonb\n"
                              f"union all select '{twice}', '{{}}'::jsonb\n", encoding="utf-8")
        with pytest.raises(ValueError, match=r"\(A9_twice\.sql\) reports an enterprise more than once"):
            night.audit(audit_dsn, run_date, run_id, only=["A9"])
        assert findings(db, run_id, "A9") == reported


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_audit_case(db, audit_dsn: str, path: Path):
    case = read_case(path)
    code = case["audit"]
    assert path.stem == code
    run_id = load_case(db, case)
    linked = set(case["links"])
    assert set(case["not_reported"]) <= linked, "every near miss is a linked enterprise"
    assert not set(case["not_reported"]) & set(case["expected"])

    counts = night.audit(audit_dsn, date.fromisoformat(case["run_date"]), run_id, only=[code])

    found = findings(db, run_id, code)
    assert counts == {code: len(found)}
    missed = set(case["expected"]) - set(found)
    extra = {e: case["not_reported"].get(e, "not expected") for e in set(found) - set(case["expected"])}
    assert not missed and not extra, f"missed {sorted(missed)}; reported wrongly {extra}"
    for enterprise_id, expected in case["expected"].items():
        evidence = found[enterprise_id]
        assert named_records(evidence) == {ref(r) for r in expected["records"]}, enterprise_id
        assert len(evidence["records"]) == len(expected["records"]), f"{enterprise_id}: duplicates"
        if "evidence_contains" in expected:
            db.execute("select %s::jsonb @> %s::jsonb",
                       (json.dumps(evidence), json.dumps(expected["evidence_contains"])))
            assert db.fetchone()[0], f"{enterprise_id}: {evidence} lacks {expected['evidence_contains']}"
        for key, value in expected.get("evidence_equals", {}).items():
            db.execute("select %s::jsonb -> %s = %s::jsonb", (json.dumps(evidence), key, json.dumps(value)))
            assert db.fetchone()[0], f"{enterprise_id}: {key} is {evidence.get(key)}, not {value}"
    # Whatever an audit names is a live record of its feed.
    for evidence in found.values():
        for agency, feed, record_id in named_records(evidence):
            db.execute(sql.SQL("select count(*) from {} where record_id = %s and valid_to is null"
                               " and op <> 'D'").format(sql.Identifier("ingest", f"{agency}__{feed}")),
                       (record_id,))
            assert db.fetchone()[0] == 1, (agency, feed, record_id)
    db.execute("select status, run_date from resolve.night_run where run_id = %s", (run_id,))
    assert db.fetchone() == ("audited", date.fromisoformat(case["run_date"]))


def test_cli_reruns_audits_on_the_published_run(db, audit_dsn: str, capsys):
    case = read_case(AUDITS / "tests" / "A1.json")
    run_id = load_case(db, case)
    db.execute("update resolve.night_run set status = 'published' where run_id = %s", (run_id,))
    db.execute("insert into credit.published (run_id, run_date) values (%s, %s)",
               (run_id, case["run_date"]))
    with warehouse_env(audit_dsn):
        assert cli.main(["audit", "--only", "a1"]) == 0
        assert cli.main(["audit", "--only", "A1,A99"]) == 2
    out = capsys.readouterr()
    assert out.out.split() == ["A1", str(len(case["expected"])), "enterprises"]
    assert "A99" in out.err
    db.execute("select audit, count(*), min(run_date) from credit.audit_finding group by audit")
    assert db.fetchall() == [("A1", len(case["expected"]), date.fromisoformat(case["run_date"]))]
    db.execute("select status from resolve.night_run where run_id = %s", (run_id,))
    assert db.fetchone() == ("published",)
    # Without the setting, the audit views show the published run (an analyst in psql).
    db.execute("select count(*) from audit.run_link")
    assert db.fetchone()[0] == sum(len(refs) for refs in case["links"].values())


def test_explain_shows_each_audit_as_it_runs_and_keeps_nothing(db, audit_dsn: str, capsys):
    case = read_case(AUDITS / "tests" / "A1.json")
    run_id = load_case(db, case)
    plans = night.explain_audits(audit_dsn, None, run_id, only=["a1", "A8"])
    assert list(plans) == ["A1", "A8"]
    for plan in plans.values():
        # Its findings are written in one statement: deleted, updated or inserted as they changed.
        assert all(f"{step} on finding " in plan for step in ("Delete", "Update", "Insert")), plan
        assert "actual time=" in plan, plan
    # The plan is made under the settings the audit runs with (A8's file: no nested loops).
    assert "Nested Loop" not in plans["A8"] and "Hash Join" in plans["A8"]
    db.execute("select count(*) from audit.finding where run_id = %s", (run_id,))
    assert db.fetchone()[0] == 0
    db.execute("select status from resolve.night_run where run_id = %s", (run_id,))
    assert db.fetchone() == ("resolved",)
    with warehouse_env(audit_dsn):
        assert cli.main(["audit", "--explain", "--only", "A1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("-- A1\n") and "Insert on finding" in printed
    assert "-- A8" not in printed
    # The findings the explained audits would have written, the audits write and count (A8,
    # run under its own planner setting, reports none here).
    assert night.audit(audit_dsn, None, run_id, only=["A1", "A8"]) == {"A1": len(case["expected"]),
                                                                        "A8": 0}
    db.execute("select audit, count(*) from audit.finding where run_id = %s group by audit", (run_id,))
    assert dict(db.fetchall()) == {"A1": len(case["expected"])}


def test_a_ninth_audit_is_one_sql_file(db, audit_dsn: str, tmp_path: Path, monkeypatch):
    """An analyst's audit file: '%' is SQL, a last-line comment is harmless."""
    (tmp_path / "audits").mkdir()
    (tmp_path / "audits" / "A9_name_like.sql").write_text(
        "-- A9 name_like: registrations whose name contains 贸易\n"
        "select enterprise_id, jsonb_build_object('records', jsonb_agg(source)) as evidence\n"
        "from audit.aic__registrations where name like '%贸易%'\n"
        "group by enterprise_id;\n-- end of A9\n", encoding="utf-8")
    case = read_case(AUDITS / "tests" / "A5.json")
    run_id = load_case(db, case)
    db.execute("update ingest.aic__registrations set name = '沈阳某某贸易有限公司' where record_id = 'R2'")
    monkeypatch.setenv("XINYONG_SQL_DIR", str(tmp_path))
    assert night.audit(audit_dsn, None, run_id) == {"A9": 1}
    assert findings(db, run_id, "A9") == {"E2": {"records": [
        {"agency": "aic", "feed": "registrations", "record_id": "R2"}]}}


def test_an_audit_may_leave_a_join_method_out_of_its_own_plan(db, audit_dsn: str, tmp_path: Path,
                                                               monkeypatch):
    """'-- planner: enable_nestloop = off' holds for that audit's query alone."""
    (tmp_path / "audits").mkdir()
    setting = ("select enterprise_id, jsonb_build_object('nestloop', current_setting('enable_nestloop'))"
               " as evidence from audit.aic__registrations where record_id = 'R2'\n")
    (tmp_path / "audits" / "A9_hashed.sql").write_text(
        "-- A9 hashed\n-- planner: enable_nestloop = off\n" + setting, encoding="utf-8")
    (tmp_path / "audits" / "A10_planned.sql").write_text("-- A10 planned\n" + setting, encoding="utf-8")
    assert night.planner_settings(tmp_path / "audits" / "A9_hashed.sql") == {"enable_nestloop": "off"}
    run_id = load_case(db, read_case(AUDITS / "tests" / "A5.json"))
    monkeypatch.setenv("XINYONG_SQL_DIR", str(tmp_path))
    assert night.audit(audit_dsn, None, run_id) == {"A9": 1, "A10": 1}
    assert findings(db, run_id, "A9") == {"E2": {"nestloop": "off"}}
    assert findings(db, run_id, "A10") == {"E2": {"nestloop": "on"}}  # A10 runs after A9


def test_bench_audits_times_every_run_and_digests_the_findings(db, audit_dsn: str, tmp_path: Path,
                                                                capsys):
    """`xinyong bench-audits`: each run timed in order after the cold command, and the findings
    counted and digested, so that two measurements can show they found the same."""
    case = read_case(AUDITS / "tests" / "A3.json")
    run_id = load_case(db, case)
    marker = tmp_path / "cold"
    result = audit_bench.bench_audits(audit_dsn, ["A3"], runs=3, cold_command=f"touch {marker}")
    assert marker.exists()
    a3 = result["audits"]["A3"]
    assert result["run_id"] == run_id and len(a3["runs_ms"]) == 3 and a3["after_first"]["n"] == 2
    assert a3["max_ms"] == max(a3["runs_ms"])
    assert a3["findings"] == len(case["expected"])
    assert a3["records"] == sum(len(e["records"]) for e in case["expected"].values())
    assert a3["digest"] == audit_bench.findings_digest(audit_dsn, run_id, "A3")["digest"]
    db.execute("update audit.finding set evidence = evidence || '{\"note\": 1}'"
               " where run_id = %s and audit = 'A3' and enterprise_id = %s",
               (run_id, sorted(case["expected"])[0]))
    assert audit_bench.findings_digest(audit_dsn, run_id, "A3")["digest"] != a3["digest"]

    path = audit_bench.write_results(result, tmp_path, "case")
    assert json.loads(path.read_text(encoding="utf-8"))["audits"]["A3"]["runs_ms"] == a3["runs_ms"]
    assert "| A3 |" in path.with_suffix(".md").read_text(encoding="utf-8")
    with warehouse_env(audit_dsn):
        assert cli.main(["bench-audits", "--only", "A3", "--runs", "1", "--cold-command", "exit 3",
                         "--out", str(tmp_path)]) == 2
        assert cli.main(["bench-audits", "--only", "A99", "--out", str(tmp_path)]) == 2
        assert cli.main(["bench-audits", "--only", "a3", "--runs", "2", "--out", str(tmp_path),
                         "--name", "cli"]) == 0
    err = capsys.readouterr().err
    assert "exited 3" in err and "A99" in err
    assert json.loads((tmp_path / "audits-cli.json").read_text(encoding="utf-8"))["audits"]["A3"][
        "digest"] == audit_bench.findings_digest(audit_dsn, run_id, "A3")["digest"]


def test_every_finding_keeps_the_hash_of_its_evidence(db, audit_dsn: str):
    """Whether computed by the rerun or copied from a summary with the evidence, a finding's
    evidence_hash is jsonb_hash_extended(evidence, 0): what tells a rerun that a finding
    changed."""
    for code in ("A5", "A6"):  # A5 copies its summary's hash; A6's is computed
        case = read_case(AUDITS / "tests" / f"{code}.json")
        run_id = load_case(db, case)
        night.audit(audit_dsn, None, run_id, only=[code])
        db.execute("select count(*),"
                   " count(*) filter (where evidence_hash = jsonb_hash_extended(evidence, 0))"
                   " from audit.finding where run_id = %s and audit = %s", (run_id, code))
        assert db.fetchone() == (len(case["expected"]), len(case["expected"])), code


def test_auditing_a_warehouse_never_migrated_says_so(session_warehouse_factory, capsys):
    with warehouse_env(session_warehouse_factory()):
        assert cli.main(["audit", "--only", "A1"]) == 2
        assert cli.main(["bench-audits", "--only", "A1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("never migrated" in line and "xinyong db migrate" in line
                                 for line in err), err
