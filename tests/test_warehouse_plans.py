"""The plans of the lookups analysts run, on a warehouse loaded by real nights (cli_nights).

An enterprise looked up by any code kind or by enterprise_id, and its records in
credit.record_link and the joint-supervision views, must be served by index probes on the
lookup's key: no Seq Scan of resolve.link, resolve.enterprise or a feed table, and no index
scan that reads a whole run either (an index condition on run_id, agency or feed alone).

The nights' tables are tiny, so the planner rightly prefers scanning them whole; the test
asks what could serve the lookup at full scale by turning off sequential scans, hash and
merge joins (the plans a lookup of one enterprise in 42M links gets). A view whose shape
keeps the key from its tables (a DISTINCT ON or GROUP BY over every enterprise joined
afterwards) still has to read them whole, and fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg2 import sql

from xinyong.warehouse.db import transaction

CODES = ["uscc", "org_code", "reg_no", "tax_no", "customs_code"]
JOINT_SUPERVISION = ["dishonest_debtor", "abnormal_operation", "penalty", "rating", "licence",
                     "judgment", "arrears"]
# (view, column looked up)
LOOKUPS = ([(view, column) for view in ("enterprise", "enterprise_profile")
            for column in [*CODES, "enterprise_id"]]
           + [(view, "enterprise_id") for view in ["record_link", *JOINT_SUPERVISION]])
# Columns that pin a probe to one enterprise (or to one of its records).
KEYS = {*CODES, "enterprise_id", "head_enterprise_id", "record_id"}


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def is_large(node: dict[str, Any]) -> bool:
    schema, name = node.get("Schema"), node.get("Relation Name", "")
    return schema == "ingest" or (schema == "resolve" and (
        name in ("link", "enterprise") or name.startswith("link_")))


def condition(node: dict[str, Any]) -> str:
    if node["Node Type"] == "Bitmap Heap Scan":
        return " ".join(child.get("Index Cond", "") for child in nodes(node)
                        if child["Node Type"] == "Bitmap Index Scan")
    return str(node.get("Index Cond", ""))


def explain(dsn: str, query: sql.Composable, value: str) -> tuple[dict[str, Any], str]:
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("set local enable_seqscan = off")
        cursor.execute("set local enable_hashjoin = off")
        cursor.execute("set local enable_mergejoin = off")
        cursor.execute(sql.SQL("explain (format json, verbose) {}").format(query), (value,))
        plan = cursor.fetchone()[0][0]["Plan"]
        cursor.execute(sql.SQL("explain {}").format(query), (value,))
        text = "\n".join(row[0] for row in cursor.fetchall())
        conn.rollback()
    return plan, text


def a_value(dsn: str, view: str, column: str) -> str:
    """A value the published night has, of an enterprise with the fewest such records: at full
    scale an enterprise's records are a sliver of every table, as they are for a rare value
    here (the most frequent value of 150 enterprises is a fifth of a tiny feed)."""
    source = "enterprise" if column in CODES else view
    with transaction(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("select {c} from {v} where {c} is not null group by {c}"
                               " order by count(*), {c} limit 1").format(
            c=sql.Identifier(column), v=sql.Identifier("credit", source)))
        found = cursor.fetchone()
    assert found is not None, f"the nights published no credit.{source}.{column}"
    return str(found[0])


@pytest.mark.parametrize(("view", "column"), LOOKUPS, ids=[f"{v}-{c}" for v, c in LOOKUPS])
def test_an_analysts_lookup_probes_indexes_on_its_key(cli_nights, view, column):
    dsn = cli_nights["dsn"]
    query = sql.SQL("select * from {} where {} = %s").format(
        sql.Identifier("credit", view), sql.Identifier(column))
    plan, text = explain(dsn, query, a_value(dsn, view, column))
    scans = [n for n in nodes(plan) if is_large(n)]
    assert scans, f"credit.{view} reads no large table?\n{text}"
    for scan in scans:
        where = f"{scan['Schema']}.{scan['Relation Name']}"
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"), (
            f"credit.{view} by {column}: {scan['Node Type']} on {where}\n{text}")
        assert any(key in condition(scan) for key in KEYS), (
            f"credit.{view} by {column}: {where} is read without a condition on a key"
            f" ({condition(scan) or 'no index condition'})\n{text}")
    if column in CODES:  # the code's own index (V007__lookup_indexes.sql) finds the enterprise
        assert any(n.get("Index Name") == f"enterprise_{column}" for n in nodes(plan)), text
