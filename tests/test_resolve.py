"""Entity resolution on hand-built mentions through a real local SparkSession."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession

from xinyong.compare import ours_in_fresh_process
from xinyong.ids import org_check_char, regno_check_digit, uscc_check_char
from xinyong.names import core_name, normalize_name
from xinyong.night import PRIOR_LINK_SCHEMA, NightFailed, run_spark_job
from xinyong.resolve import Settings, connected_components, resolve, run_job
from xinyong.resolve.session import LOCAL_DRIVER_OPTIONS
from xinyong.resolve.transforms import candidate_pairs

ROOT = Path(__file__).resolve().parents[1]

MENTION_SCHEMA = pa.schema([
    *((c, pa.string()) for c in (
        "mention_id", "agency", "feed", "record_id", "name", "name_norm",
        "uscc", "org", "regno", "taxno", "customs",
    )),
    ("is_branch", pa.bool_()),
    ("source_rank", pa.int32()),
    *((c, pa.string()) for c in ("legal_rep", "name_core", "former_name_norm", "weak_code")),
    ("named_on", pa.date32()),
    ("founded_on", pa.date32()),
    ("penalized_on", pa.date32()),
])
# The job's steps up to the links, as it times them.
LINKING_STEPS = ("signatures", "code_clusters", "cluster_codes", "names_exact", "names_dated",
                 "names_fuzzy", "ids")
PRIOR_SCHEMA = pa.schema([("mention_id", pa.string()), ("enterprise_id", pa.string())])


# --- valid codes and mentions as the loader delivers them ----------------------------------

def org_code(body: str) -> str:
    return body + org_check_char(body)


def uscc_code(org: str, region: str = "210100") -> str:
    body = "91" + region + org
    return body + uscc_check_char(body)


def regno_code(body: str) -> str:
    return body + regno_check_digit(body)


def taxno_code(org: str, region: str = "210102") -> str:
    return region + org


def mention(
    mention_id: str, name: str | None, *, rank: int = 2, is_branch: bool = False,
    uscc: str | None = None, org: str | None = None, regno: str | None = None,
    taxno: str | None = None, customs: str | None = None, legal_rep: str | None = None,
    former_name: str | None = None, weak_code: str | None = None, named_on: date | None = None,
    founded_on: date | None = None, penalized_on: date | None = None,
) -> dict[str, Any]:
    agency, feed, record_id = mention_id.split("|")
    # The loader fills org from a valid uscc or taxno, and the names' normal forms.
    org = org or (uscc[8:17] if uscc else taxno[6:] if taxno else None)
    name_norm = normalize_name(name)
    return {
        "mention_id": mention_id, "agency": agency, "feed": feed, "record_id": record_id,
        "name": name, "name_norm": name_norm, "uscc": uscc, "org": org, "regno": regno,
        "taxno": taxno, "customs": customs, "is_branch": is_branch, "source_rank": rank,
        "legal_rep": legal_rep, "name_core": core_name(name_norm),
        "former_name_norm": normalize_name(former_name), "weak_code": weak_code,
        "named_on": named_on, "founded_on": founded_on, "penalized_on": penalized_on,
    }


def eid(number: int) -> str:
    return f"E{number:010d}"


# Head office A, reached through every kind of code, and its branch B with codes of its own.
ORG_A, ORG_B = org_code("12345678"), org_code("22345678")
USCC_A, USCC_B = uscc_code(ORG_A), uscc_code(ORG_B)
REGNO_A, REGNO_B = regno_code("21010000012345"), regno_code("21010000022345")
TAXNO_A, CUSTOMS_A = taxno_code(ORG_A), "2101960001"
NAME_A, NAME_B = "沈阳甲科技有限公司", "沈阳甲科技有限公司铁西分公司"
# Two registered enterprises with one name in two cities; one org code on two usccs.
NAME_C = "辽宁乙商贸有限公司"
ORG_C = org_code("42345678")
USCC_C = uscc_code(ORG_C)
NAME_R, ORG_R, REGNO_R = "沈阳癸机械有限公司", org_code("13345678"), regno_code("21010000013345")
USCC_T = uscc_code(org_code("14345678"))
ORG_E = org_code("32345678")
# Keys over SCENARIO_MAX_KEY_DEGREE mentions: H's old tax number (anchored through H's org
# code by its register record, so H holds together) and a placeholder customs code.
ORG_H = org_code("62345678")
TAXNO_H, PLACEHOLDER_CUSTOMS = taxno_code(ORG_H), "9999999999"
SCENARIO_MAX_KEY_DEGREE = 2
# W gave up the name NAME_V in 2008, V took it in 2010.
NAME_V = "沈阳庚物业管理有限公司"
USCC_V, USCC_W = uscc_code(org_code("15345678")), uscc_code(org_code("16345678"))
# Q (founded 2005) held NAME_Z until 2022; Z was founded with it in 2020. M (2003) and N (2020)
# have names alike.
NAME_Z = "沈阳子物流有限公司"
USCC_Q, USCC_Z, USCC_M, USCC_N = (
    uscc_code(org_code(body)) for body in ("17345678", "18345678", "19345678", "20345678"))
# S (founded 2002) and U (2006) both hold the name 沈阳卯钢结构有限公司 once normalised, spelled
# apart by their registers: 卯钢结构(沈阳)有限责任公司 and 沈阳卯钢结构有限公司.
SPELLING_S, SPELLING_U = "卯钢结构(沈阳)有限责任公司", "沈阳卯钢结构有限公司"
ORG_S = org_code("21345678")
USCC_S, USCC_U = uscc_code(ORG_S), uscc_code(org_code("23345678"))
# P (2011) and O (2012) both registered as 沈阳辰化工有限责任公司: no spelling tells them apart.
NAME_P = "沈阳辰化工有限责任公司"
ORG_O = org_code("24345678")
USCC_P, USCC_O = uscc_code(org_code("25345678")), uscc_code(ORG_O)

SCENARIO = [
    mention("aic|reg|A1", NAME_A, rank=0, uscc=USCC_A, regno=REGNO_A),
    mention("ltax|vat|A2", NAME_A, rank=3, taxno=TAXNO_A),
    mention("old|reg|A3", NAME_A, rank=4, regno=REGNO_A),
    mention("cus|imp|A4", "沈阳甲科技公司", uscc=USCC_A, customs=CUSTOMS_A),
    mention("cus|exp|A5", "沈阳甲科技公司", customs=CUSTOMS_A),
    mention("court|case|A6", NAME_A, rank=5),
    mention("aic|reg|B1", NAME_B, rank=0, is_branch=True, uscc=USCC_B, regno=REGNO_B),
    mention("stax|vat|B2", NAME_B, rank=1, is_branch=True, uscc=USCC_B),
    mention("court|case|B3", NAME_B, rank=5, is_branch=True),
    mention("aic|reg|C1", NAME_C, rank=0, uscc=USCC_C, legal_rep="张三"),
    mention("aic|reg|D1", NAME_C, rank=0, uscc=uscc_code(org_code("52345678"), "210200"),
            legal_rep="李四"),
    mention("court|case|X1", NAME_C, rank=5),
    mention("aic|reg|E1", "沈阳丙有限公司", rank=0, uscc=uscc_code(ORG_E)),
    mention("aic|reg|F1", "鞍山丁有限公司", rank=0, uscc=uscc_code(ORG_E, "210300")),
    mention("qual|lic|G1", "丙公司", org=ORG_E),
    mention("aic|reg|H1", "沈阳壬有限公司", rank=0, uscc=uscc_code(ORG_H)),
    *(mention(f"ltax|vat|H{i}", "沈阳壬有限公司", rank=3, taxno=TAXNO_H) for i in range(3)),
    *(mention(f"cus|exp|K{i}", f"进出口公司{i}", customs=PLACEHOLDER_CUSTOMS) for i in range(3)),
    # Name evidence (agencies x… sort last, so the ids above keep their numbers).
    # R: an old enterprise, its register record by registration number only, its tax
    # records by organization code only: one name in full and in traditional characters.
    mention("xaic|reg|R1", NAME_R, rank=0, regno=REGNO_R),
    mention("xtax|vat|R2", "瀋陽癸機械有限責任公司", rank=3, taxno=taxno_code(ORG_R)),
    # T: renamed; a court still uses the former name.
    mention("xaic|reg|T1", "沈阳新名科技有限公司", rank=0, uscc=USCC_T),
    mention("xaic|chg|T2", "沈阳新名科技有限公司", rank=0, uscc=USCC_T,
            former_name="沈阳旧名科技有限公司"),
    mention("xcourt|case|T3", "旧名科技(沈阳)有限公司", rank=5),
    # Short forms: A's and its branch B's; C's is shared with D, so it stays alone.
    mention("xprice|pv|A7", "甲科技", rank=5),
    mention("xprice|pv|B4", "甲科技铁西分公司", rank=5, is_branch=True),
    mention("xprice|pv|X2", "乙商贸", rank=5),
    # C's name is D's too: a masked organization code or a legal representative decides.
    mention("xcourt|dd|C2", NAME_C, rank=5, weak_code="org:" + ORG_C[:3] + "****" + ORG_C[7:]),
    mention("xltax|arr|C3", NAME_C, rank=3, legal_rep="张三"),
    # A name two enterprises held at different times: whoever held it on the record's date.
    mention("yaic|reg|V1", NAME_V, rank=0, uscc=USCC_V),
    mention("yaic|chg|V2", NAME_V, rank=0, uscc=USCC_V, former_name="沈阳庚商贸有限公司",
            named_on=date(2010, 3, 1)),
    mention("yaic|reg|W1", "沈阳辛环保科技有限公司", rank=0, uscc=USCC_W),
    mention("yaic|chg|W2", "沈阳辛环保科技有限公司", rank=0, uscc=USCC_W, former_name=NAME_V,
            named_on=date(2008, 11, 20)),
    mention("ycourt|case|V3", NAME_V, rank=5, named_on=date(2016, 1, 13)),
    mention("ycourt|case|W3", "庚物业管理(沈阳)有限责任公司", rank=5, named_on=date(2006, 1, 13)),
    mention("ycourt|case|W4", "沈阳庚物业管理有限责任公司", rank=5, named_on=date(2008, 11, 19)),
    # Nobody's in 2009 and spelled like neither: alone. Undated, spelled as V registered it: V's.
    mention("ycourt|case|Y1", "庚物业管理(沈阳)有限公司", rank=5, named_on=date(2009, 6, 1)),
    mention("ycourt|case|Y2", NAME_V, rank=5),
    # A register's founding date (成立日期) starts an enterprise's first name: a 2015 record of
    # NAME_Z is Q's, though the register says both held it in 2021; a 2015 short form 寅物流
    # is not N's but M's, which existed then.
    mention("zaic|reg|Q1", "沈阳丑物流有限公司", rank=0, uscc=USCC_Q, founded_on=date(2005, 4, 1)),
    mention("zaic|chg|Q2", "沈阳丑物流有限公司", rank=0, uscc=USCC_Q, former_name=NAME_Z,
            named_on=date(2022, 1, 10)),
    mention("zaic|reg|Z1", NAME_Z, rank=0, uscc=USCC_Z, founded_on=date(2020, 5, 1)),
    mention("zaic|reg|M1", "大连寅物流有限公司", rank=0, uscc=USCC_M, founded_on=date(2003, 1, 1)),
    mention("zaic|reg|N1", "沈阳寅物流有限公司", rank=0, uscc=USCC_N, founded_on=date(2020, 5, 1)),
    mention("zcourt|case|Q3", NAME_Z, rank=5, named_on=date(2015, 6, 1)),
    mention("zprice|pv|M2", "寅物流", rank=5, named_on=date(2015, 7, 1)),
]


def mentions_df(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema=MENTION_SCHEMA).to_pandas())


def clusters(links: list[dict[str, Any]]) -> dict[str, set[str]]:
    by_id: dict[str, set[str]] = {}
    for link in links:
        by_id.setdefault(link["enterprise_id"], set()).add(link["mention_id"])
    return by_id


# Components found in one task (the default) and by distributed label propagation.
@pytest.fixture(scope="module", params=[Settings().single_task_edges, 0], ids=["one_task", "propagated"])
def scenario(spark: SparkSession, request: pytest.FixtureRequest) -> dict[str, Any]:
    empty_prior = spark.createDataFrame([], "mention_id string, enterprise_id string")
    result = resolve(
        mentions_df(spark, SCENARIO), empty_prior, next_id=1,
        settings=Settings(max_key_degree=SCENARIO_MAX_KEY_DEGREE, single_task_edges=request.param),
    )
    return {
        "links": {r["mention_id"]: r.asDict() for r in result.links.collect()},
        "enterprises": {r["enterprise_id"]: r.asDict() for r in result.enterprises.collect()},
        "dropped": [r.asDict() for r in result.dropped_keys.collect()],
        "changes": result.id_changes.collect(),
        "iterations": result.iterations,
        "one_task": request.param > 0,
    }


def test_clusters_and_new_ids_in_order_of_smallest_mention(scenario: dict[str, Any]) -> None:
    # A: uscc↔org derivation, regno via the AIC record, customs via a uscc-carrying record,
    # a code-less mention by exact name, a short form by its core. The branch keeps its own
    # enterprise (and its own short form); the ambiguous name and short form, the org-only
    # record on a conflicting org and the placeholder customs records stay alone; a masked
    # code or a legal representative settles a name two enterprises share; R's register
    # and tax records meet by name, T's court record by its former name.
    assert clusters(list(scenario["links"].values())) == {
        eid(1): {"aic|reg|A1", "ltax|vat|A2", "old|reg|A3", "cus|imp|A4", "cus|exp|A5",
                 "court|case|A6", "xprice|pv|A7"},
        eid(2): {"aic|reg|B1", "stax|vat|B2", "court|case|B3", "xprice|pv|B4"},
        eid(3): {"aic|reg|C1", "xcourt|dd|C2", "xltax|arr|C3"},
        eid(4): {"aic|reg|D1"},
        eid(5): {"aic|reg|E1"},
        eid(6): {"aic|reg|F1"},
        eid(7): {"aic|reg|H1", "ltax|vat|H0", "ltax|vat|H1", "ltax|vat|H2"},
        eid(8): {"court|case|X1"},
        eid(9): {"cus|exp|K0"},
        eid(10): {"cus|exp|K1"},
        eid(11): {"cus|exp|K2"},
        eid(12): {"qual|lic|G1"},
        eid(13): {"xaic|reg|T1", "xaic|chg|T2", "xcourt|case|T3"},
        eid(14): {"xaic|reg|R1", "xtax|vat|R2"},
        eid(15): {"xprice|pv|X2"},
        eid(16): {"yaic|chg|V2", "yaic|reg|V1", "ycourt|case|V3", "ycourt|case|Y2"},
        eid(17): {"yaic|chg|W2", "yaic|reg|W1", "ycourt|case|W3", "ycourt|case|W4"},
        eid(18): {"ycourt|case|Y1"},
        eid(19): {"zaic|chg|Q2", "zaic|reg|Q1", "zcourt|case|Q3"},
        eid(20): {"zaic|reg|M1", "zprice|pv|M2"},
        eid(21): {"zaic|reg|N1"},
        eid(22): {"zaic|reg|Z1"},
    }
    assert scenario["changes"] == []
    # One task is one round; propagation needs one that changes labels and one that does not.
    assert scenario["iterations"] == 1 if scenario["one_task"] else scenario["iterations"] >= 2


def test_rules_and_evidence(scenario: dict[str, Any]) -> None:
    evidence = {m: (link["rule"], json.loads(link["evidence"]))
                for m, link in scenario["links"].items()}
    assert evidence["aic|reg|A1"] == (
        "uscc", {"uscc": USCC_A, "org": ORG_A, "regno": REGNO_A})
    assert evidence["ltax|vat|A2"] == ("org", {"org": ORG_A, "taxno": TAXNO_A})
    assert evidence["old|reg|A3"] == ("regno", {"regno": REGNO_A})
    assert evidence["cus|exp|A5"] == ("customs", {"customs": CUSTOMS_A})
    assert evidence["court|case|A6"] == (
        "name_exact", {"codes": {}, "by_name": {"name": NAME_A}})
    assert evidence["court|case|B3"] == (
        "name_exact", {"codes": {}, "by_name": {"name": NAME_B}})
    assert evidence["xaic|reg|R1"] == ("regno", {"regno": REGNO_R})  # its group's first cluster
    assert evidence["xtax|vat|R2"] == ("org", {
        "codes": {"org": ORG_R, "taxno": taxno_code(ORG_R)}, "by_name": {"name": NAME_R}})
    assert evidence["xcourt|case|T3"] == (
        "former_name", {"codes": {}, "by_name": {"name": "沈阳旧名科技有限公司"}})
    assert evidence["xprice|pv|A7"] == ("name_fuzzy", {"codes": {}, "by_name": {
        "name": "甲科技", "matched_name": NAME_A, "score": 100.0}})
    rule, found = evidence["xcourt|dd|C2"]
    assert (rule, found["by_name"]["score"], found["by_name"]["weak_code"]) == (
        "name_fuzzy", 110.0, "org:423****8X")  # C and D are spelled alike: +5 for both
    rule, found = evidence["xltax|arr|C3"]
    assert (rule, found["by_name"]["score"], found["by_name"]["legal_rep"]) == (
        "name_fuzzy", 110.0, True)
    assert evidence["court|case|X1"] == ("singleton", {})
    # E1 stands alone on its own uscc; G1's only code was dropped.
    assert evidence["aic|reg|E1"] == ("uscc", {"uscc": uscc_code(ORG_E)})
    assert evidence["qual|lic|G1"] == ("singleton", {})
    assert evidence["cus|exp|K0"] == ("singleton", {})
    assert evidence["xprice|pv|X2"] == ("singleton", {})
    assert evidence["ltax|vat|H0"] == ("org", {"org": ORG_H})
    assert evidence["ycourt|case|V3"] == (
        "name_dated", {"codes": {}, "by_name": {"name": NAME_V, "named_on": "2016-01-13"}})
    assert evidence["ycourt|case|W3"] == (
        "name_dated", {"codes": {}, "by_name": {"name": NAME_V, "named_on": "2006-01-13"}})
    assert evidence["ycourt|case|Y2"] == ("name_fuzzy", {"codes": {}, "by_name": {
        "name": NAME_V, "matched_name": NAME_V, "score": 110.0, "spelled_alike": True}})
    assert evidence["ycourt|case|Y1"] == ("singleton", {})
    assert evidence["zcourt|case|Q3"] == (
        "name_dated", {"codes": {}, "by_name": {"name": NAME_Z, "named_on": "2015-06-01"}})
    assert evidence["zprice|pv|M2"] == ("name_fuzzy", {"codes": {}, "by_name": {
        "name": "寅物流", "matched_name": "大连寅物流有限公司", "score": 100.0}})


# Two enterprises holding one name once normalised, at one time: a dated record's spelling of it.
SPELLING_SCENARIO = [
    # A 2017 judgment spelling the name as S's register does (but for its full-width brackets)
    # is S's: all S's records spell it so, 1 of U's 12 (another agency's slip). One spelled as
    # neither register does stays alone.
    mention("zzaic|reg|S1", SPELLING_S, rank=0, uscc=USCC_S, founded_on=date(2002, 3, 18)),
    *(mention(f"zztax|vat|S2{i}", SPELLING_S, rank=3, taxno=taxno_code(ORG_S)) for i in range(10)),
    mention("zzaic|reg|U1", SPELLING_U, rank=0, uscc=USCC_U, founded_on=date(2006, 12, 1)),
    *(mention(f"zztax|vat|U2{i}", SPELLING_U, rank=3, uscc=USCC_U) for i in range(10)),
    mention("zzqual|lic|U3", SPELLING_S, rank=3, uscc=USCC_U),
    mention("zzcourt|case|S3", "卯钢结构（沈阳）有限责任公司", rank=5, named_on=date(2017, 4, 9)),
    mention("zzcourt|case|U4", "沈阳卯钢结构有限责任公司", rank=5, named_on=date(2017, 4, 9)),
    # Spelled as both register it: alone, though most records so spelled are O's.
    mention("zzaic|reg|P1", NAME_P, rank=0, uscc=USCC_P, founded_on=date(2011, 3, 12)),
    *(mention(f"zzqual|lic|P3{i}", NAME_P, rank=3, uscc=USCC_P) for i in range(3)),
    mention("zzaic|reg|O1", NAME_P, rank=0, uscc=USCC_O, founded_on=date(2012, 1, 20)),
    *(mention(f"zztax|vat|O2{i}", NAME_P, rank=3, taxno=taxno_code(ORG_O)) for i in range(10)),
    mention("zzcourt|case|P2", NAME_P, rank=5, named_on=date(2018, 6, 11)),
]


def links_from_scratch(spark: SparkSession, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The links of ``rows`` resolved with no prior night, by mention_id."""
    empty_prior = spark.createDataFrame([], "mention_id string, enterprise_id string")
    result = resolve(mentions_df(spark, rows), empty_prior, next_id=1)
    return {r["mention_id"]: r.asDict() for r in result.links.collect()}


def test_a_dated_record_spelled_as_one_of_the_names_holders_spells_it_is_theirs(
    spark: SparkSession,
) -> None:
    links = links_from_scratch(spark, SPELLING_SCENARIO)
    assert clusters(list(links.values())) == {
        eid(1): {"zzaic|reg|O1", *(f"zztax|vat|O2{i}" for i in range(10))},
        eid(2): {"zzaic|reg|P1", *(f"zzqual|lic|P3{i}" for i in range(3))},
        eid(3): {"zzaic|reg|S1", "zzcourt|case|S3", *(f"zztax|vat|S2{i}" for i in range(10))},
        eid(4): {"zzaic|reg|U1", "zzqual|lic|U3", *(f"zztax|vat|U2{i}" for i in range(10))},
        eid(5): {"zzcourt|case|P2"},
        eid(6): {"zzcourt|case|U4"},
    }
    evidence = {m: (link["rule"], json.loads(link["evidence"])) for m, link in links.items()}
    assert evidence["zzcourt|case|S3"] == ("name_dated", {"codes": {}, "by_name": {
        "name": "沈阳卯钢结构有限公司", "named_on": "2017-04-09", "spelling": SPELLING_S}})
    assert evidence["zzcourt|case|U4"] == ("singleton", {})
    assert evidence["zzcourt|case|P2"] == ("singleton", {})


def penalty(mention_id: str, name: str, day: date, **codes: str) -> dict[str, Any]:
    """A penalty record as the loader delivers it: dated as of its decision, which it is."""
    return mention(mention_id, name, rank=4, named_on=day, penalized_on=day, **codes)


# Short forms several registered enterprises fit alike (AUDITS.md A8's price violations).
USCC_J, USCC_K, USCC_L, USCC_F, USCC_G, USCC_H, USCC_I = (
    uscc_code(org_code(body)) for body in ("26345678", "27345678", "28345678", "29345678", "30345678",
                                           "31345678", "33345678"))
PENALTY_SCENARIO = [
    # 优叁建材 fits J, K and L alike. K's food/drug penalty came 112 days before it: K's. J's
    # was a price penalty (the query's own agency), L's two years before.
    mention("paic|reg|J1", "本溪优叁建材有限公司", rank=0, uscc=USCC_J),
    mention("paic|reg|K1", "大连优叁建材有限公司", rank=0, uscc=USCC_K),
    mention("paic|reg|L1", "营口优叁建材有限公司", rank=0, uscc=USCC_L),
    penalty("price|pv|J2", "本溪优叁建材有限公司", date(2024, 4, 20), uscc=USCC_J),
    penalty("food|pen|K2", "大连优叁建材有限公司", date(2024, 1, 10), uscc=USCC_K),
    penalty("food|pen|L2", "营口优叁建材有限公司", date(2022, 5, 1), uscc=USCC_L),
    penalty("price|pv|Q1", "优叁建材", date(2024, 5, 1)),
    # Near misses, alone: 辰丰商贸 fits F and G; F's other penalty came 366 days after it, and a
    # record of G that is no penalty (a licence) came the day before.
    mention("paic|reg|F1", "沈阳辰丰商贸有限公司", rank=0, uscc=USCC_F),
    mention("paic|reg|G1", "鞍山辰丰商贸有限公司", rank=0, uscc=USCC_G),
    penalty("build|vio|F2", "沈阳辰丰商贸有限公司", date(2025, 3, 2), uscc=USCC_F),
    mention("food|lic|G2", "鞍山辰丰商贸有限公司", rank=4, uscc=USCC_G, named_on=date(2024, 2, 29)),
    penalty("price|pv|Q2", "辰丰商贸", date(2024, 3, 1)),
    # 泽宏餐饮 twice, in 2023 and 2020: one group by its exact name, which H's 2023 penalty is
    # near only in part, so that it may hold another enterprise's record too: alone.
    mention("paic|reg|H1", "沈阳泽宏餐饮有限公司", rank=0, uscc=USCC_H),
    mention("paic|reg|I1", "鞍山泽宏餐饮有限公司", rank=0, uscc=USCC_I),
    penalty("food|pen|H2", "沈阳泽宏餐饮有限公司", date(2023, 6, 1), uscc=USCC_H),
    penalty("price|pv|Q3", "泽宏餐饮", date(2023, 5, 1)),
    penalty("price|pv|Q4", "泽宏餐饮", date(2020, 1, 1)),
]


def test_a_short_form_fitting_several_enterprises_is_the_one_another_agency_penalised_that_year(
    spark: SparkSession,
) -> None:
    links = links_from_scratch(spark, PENALTY_SCENARIO)
    enterprise_of = {m: link["enterprise_id"] for m, link in links.items()}
    assert enterprise_of["price|pv|Q1"] == enterprise_of["paic|reg|K1"]
    rule, evidence = links["price|pv|Q1"]["rule"], json.loads(links["price|pv|Q1"]["evidence"])
    assert rule == "name_fuzzy"
    assert evidence["by_name"]["matched_name"] == "大连优叁建材有限公司"
    assert evidence["by_name"]["penalized_near"] is True
    registered = {e for m, e in enterprise_of.items() if m.startswith("paic|")}
    assert len(registered) == 7
    assert {enterprise_of[m] for m in ("price|pv|Q2", "price|pv|Q3", "price|pv|Q4")}.isdisjoint(registered)
    assert links["price|pv|Q2"]["rule"] == "singleton"
    assert enterprise_of["price|pv|Q3"] == enterprise_of["price|pv|Q4"]  # one exact name


def test_conflicting_and_overused_keys_are_dropped_and_reported(
    scenario: dict[str, Any],
) -> None:
    assert sorted(tuple(key.values()) for key in scenario["dropped"]) == [
        ("customs", PLACEHOLDER_CUSTOMS, "degree", 3),
        ("org", ORG_E, "uscc_conflict", 3),
        ("taxno", TAXNO_H, "degree", 3),
    ]


def test_enterprise_attributes(scenario: dict[str, Any]) -> None:
    assert scenario["enterprises"][eid(1)] == {
        "enterprise_id": eid(1), "canonical_name": NAME_A, "uscc": USCC_A, "org": ORG_A,
        "regno": REGNO_A, "taxno": TAXNO_A, "customs": CUSTOMS_A, "is_branch": False,
        "mention_count": 7, "former_names": "[]", "region": "210100", "legal_rep": None,
        "head_enterprise_id": None,
    }
    branch = scenario["enterprises"][eid(2)]
    assert (branch["canonical_name"], branch["uscc"], branch["is_branch"],
            branch["head_enterprise_id"]) == (NAME_B, USCC_B, True, eid(1))
    assert scenario["enterprises"][eid(3)]["legal_rep"] == "张三"
    assert scenario["enterprises"][eid(8)]["canonical_name"] == NAME_C
    renamed = scenario["enterprises"][eid(13)]
    assert (renamed["canonical_name"], json.loads(renamed["former_names"])) == (
        "沈阳新名科技有限公司", ["沈阳旧名科技有限公司"])


def test_components_stop_at_the_iteration_limit(spark: SparkSession) -> None:
    # The chain a - k1 - b - k2 - c needs three rounds (two change labels, one sees none).
    chain = spark.createDataFrame(
        [("a", "org", "k1"), ("b", "org", "k1"), ("b", "regno", "k2"), ("c", "regno", "k2")],
        "mention_id string, kind string, value string",
    )
    with pytest.raises(RuntimeError, match="did not converge in 1 rounds"):
        connected_components(chain, max_iterations=1, single_task_edges=0)


def test_one_task_and_propagated_components_agree(spark: SparkSession) -> None:
    # A random forest of chains and stars over string ids, with keys of several kinds.
    rng = random.Random(11)
    edges = {(f"m{rng.randrange(400):03d}", rng.choice(("org", "uscc")), f"k{rng.randrange(300)}")
             for _ in range(500)}
    frame = spark.createDataFrame(sorted(edges), "mention_id string, kind string, value string")
    one_task, rounds = connected_components(frame)
    propagated, _ = connected_components(frame, single_task_edges=0)
    assert rounds == 1
    labels = {r.mention_id: r.label for r in one_task.collect()}
    assert labels == {r.mention_id: r.label for r in propagated.collect()}
    assert set(labels) == {m for m, _, _ in edges}
    # Every label is the smallest mention of its component.
    members: dict[str, set[str]] = {}
    for mention_id, label in labels.items():
        members.setdefault(label, set()).add(mention_id)
    assert all(label == min(group) for label, group in members.items())
    assert len(members) > 10


def test_fuzzy_candidates_share_more_than_the_first_two_characters_of_the_core(
    spark: SparkSession,
) -> None:
    def names(*rows: tuple[str, str, bool]) -> DataFrame:
        return spark.createDataFrame(
            [(group, normalize_name(name), core_name(normalize_name(name)), branch)
             for group, name, branch in rows],
            "group string, name_norm string, name_core string, is_branch boolean")

    targets = names(
        ("T1", "沈阳华丰餐饮管理有限公司", False), ("T2", "大连华丰建材有限公司", False),
        ("T3", "华丰(锦州)科技有限公司", False), ("T4", "沈阳华丰餐饮管理有限公司和平分公司", True),
        ("T5", "沈阳恒达餐饮管理有限公司", False),
    )
    queries = names(
        ("Q1", "华丰餐饮管理", False),  # a short form: its core is T1's
        ("Q2", "华丰餐饮", False),  # the industry cut short
        ("Q3", "华丰饭饮管理", False),  # one character changed after the 字号
        ("Q4", "大连华丰", False),  # the 字号 alone: every enterprise of it is a candidate
        ("Q5", "华丰餐饮管理和平分公司", True),  # a branch meets branches only
        ("Q6", "恒丰餐饮管理", False),  # another 字号
    )
    pairs = candidate_pairs(queries, targets)
    found = sorted((r.group, r.target) for r in pairs.collect())
    assert found == [("Q1", "T1"), ("Q2", "T1"), ("Q3", "T1"), ("Q4", "T1"), ("Q4", "T2"),
                     ("Q4", "T3"), ("Q5", "T4")]
    # Two blocks in common (first three, first two with the last), one pair.
    assert pairs.count() == len(found)


# --- stable ids across nights ----------------------------------------------------------------

ORG_P, ORG_Q, ORG_S = org_code("61234567"), org_code("71234567"), org_code("81234567")
USCC_P, USCC_Q, USCC_S = uscc_code(ORG_P), uscc_code(ORG_Q), uscc_code(ORG_S)
REGNO_Q, CUSTOMS_S = regno_code("21010000071234"), "2101960081"

NIGHT_1 = [
    mention("aic|reg|P1", "沈阳戊有限公司", rank=0, uscc=USCC_P),
    mention("ltax|vat|P2", "沈阳戊有限公司", rank=3, taxno=taxno_code(ORG_P)),
    mention("aic|reg|Q1", "沈阳己有限公司", rank=0, uscc=USCC_Q),
    mention("ltax|vat|Q3", "沈阳己有限公司", rank=3, taxno=taxno_code(ORG_Q)),
    mention("stat|x|Q2", "沈阳己公司", rank=4, regno=REGNO_Q),
    mention("aic|reg|S1", "大连庚有限公司", rank=0, uscc=USCC_S),
    # S's customs records name its customs broker, not S: only codes hold them to S.
    mention("cus|imp|S2", "庚记报关行", uscc=USCC_S, customs=CUSTOMS_S),
    mention("cus|exp|S3", "庚记报关行", customs=CUSTOMS_S),
    mention("ltax|vat|S4", "大连庚有限公司", rank=3, taxno=taxno_code(ORG_S)),
    mention("stax|vat|S5", "大连庚有限公司", rank=1, uscc=USCC_S),
]
NIGHT_2 = [
    # Q1 now carries its registration number too: Q and Q2 merge.
    mention("aic|reg|Q1", "沈阳己有限公司", rank=0, uscc=USCC_Q, regno=REGNO_Q),
    # S2 lost its uscc: the customs records split off S.
    mention("cus|imp|S2", "庚记报关行", customs=CUSTOMS_S),
    mention("aic|reg|N1", "沈阳辛有限公司", rank=0, uscc=uscc_code(org_code("91234567"))),
    *(m for m in NIGHT_1 if m["mention_id"] not in ("aic|reg|Q1", "cus|imp|S2")),
]


# What night 1 must publish; night 2 starts from it.
NIGHT_1_CLUSTERS = {
    eid(1): {"aic|reg|P1", "ltax|vat|P2"},
    eid(2): {"aic|reg|Q1", "ltax|vat|Q3"},
    eid(3): {"aic|reg|S1", "cus|imp|S2", "cus|exp|S3", "ltax|vat|S4", "stax|vat|S5"},
    eid(4): {"stat|x|Q2"},
}
NIGHT_1_LINKS = [{"mention_id": m, "enterprise_id": e}
                 for e, members in NIGHT_1_CLUSTERS.items() for m in members]


def without_timings(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in counts.items() if not k.startswith("seconds_")}


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> str:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return str(path)


def read_output(out_dir: Path, name: str) -> list[dict[str, Any]]:
    """Rows in a fixed order: files are only sorted within themselves."""
    return sorted(pq.read_table(out_dir / name).to_pylist(), key=lambda r: tuple(r.values()))


@pytest.fixture(scope="module")
def night_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    base = tmp_path_factory.mktemp("inputs")
    return {
        "night_1": (
            write_parquet(base / "mentions_1.parquet", NIGHT_1, MENTION_SCHEMA),
            write_parquet(base / "prior_1.parquet", [], PRIOR_SCHEMA),
        ),
        "night_2": (
            write_parquet(base / "mentions_2.parquet", NIGHT_2, MENTION_SCHEMA),
            write_parquet(base / "prior_2.parquet", NIGHT_1_LINKS, PRIOR_SCHEMA),
        ),
    }


@pytest.fixture(scope="module", autouse=True)
def submitted_night_2(
    night_inputs: dict[str, tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Night 2 through spark-submit with 2 shuffle partitions, started with the module so
    it overlaps the in-process tests; ``test_spark_submit`` waits for it."""
    out = tmp_path_factory.mktemp("submit") / "out"
    mentions, prior = night_inputs["night_2"]
    command = [
        str(Path(sys.executable).with_name("spark-submit")), "--master", "local[2]",
        "--driver-java-options", LOCAL_DRIVER_OPTIONS,
        str(ROOT / "jobs/xinyong/resolve/job.py"),
        "--mentions", mentions, "--prior", prior, "--out", str(out), "--next-id", "5",
    ]
    # The pip-installed spark-submit finds Spark and runs the driver with PYSPARK_PYTHON.
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYTHONPATH": str(ROOT / "jobs"),
           "XINYONG_SPARK_SHUFFLE_PARTITIONS": "2", "XINYONG_SPARK_DRIVER_MEMORY": "1g"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield {"process": process, "out": out, "started": time.monotonic()}
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def nights(
    spark: SparkSession, night_inputs: dict[str, tuple[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """Night 1 from scratch, night 2 on night 1's links, both through ``run_job``."""
    base = tmp_path_factory.mktemp("nights")
    counts_1 = run_job(spark, *night_inputs["night_1"], str(base / "out_1"), 1)
    published = read_output(base / "out_1", "links")
    prior = write_parquet(base / "prior_2.parquet", published, PRIOR_SCHEMA)
    mentions_2 = night_inputs["night_2"][0]
    counts_2 = run_job(spark, mentions_2, prior, str(base / "out_2"), counts_1["next_id"])
    return {"base": base, "counts": (counts_1, counts_2)}


def test_stable_ids_merge_and_split(nights: dict[str, Any]) -> None:
    base = nights["base"]
    assert clusters(read_output(base / "out_1", "links")) == NIGHT_1_CLUSTERS
    assert clusters(read_output(base / "out_2", "links")) == {
        eid(1): {"aic|reg|P1", "ltax|vat|P2"},  # unchanged
        eid(2): {"aic|reg|Q1", "ltax|vat|Q3", "stat|x|Q2"},  # E2 held by more mentions than E4
        eid(3): {"aic|reg|S1", "ltax|vat|S4", "stax|vat|S5"},  # the larger part keeps E3
        eid(5): {"aic|reg|N1"},  # new ids in order of smallest mention_id
        eid(6): {"cus|imp|S2", "cus|exp|S3"},
    }
    assert [tuple(r.values()) for r in read_output(base / "out_2", "id_changes")] == [
        (eid(4), "merged_into", eid(2)),
        (eid(6), "split_from", eid(3)),
    ]
    counts_1, counts_2 = nights["counts"]
    assert counts_1["next_id"] == 5
    assert 0 < counts_2["signatures_linked"] == counts_2["signatures"] <= counts_2["mentions"]  # full night
    # The time to the links covers every linking step (each lap is rounded to 0.01 s).
    linking = sum(counts_2[f"seconds_{step}"] for step in LINKING_STEPS)
    assert counts_2["seconds_to_links"] >= linking - 0.01 * len(LINKING_STEPS)
    ignored = ("iterations", "incremental", "signatures", "signatures_linked")
    assert {k: v for k, v in without_timings(counts_2).items() if k not in ignored} == {
        "mentions": 11, "enterprises": 5, "new_ids": 2, "next_id": 7, "merges": 1,
        "splits": 1, "largest_cluster": 3, "dropped_keys": 0,
    }


def test_a_delta_night_relinks_a_corrected_record_without_moving_the_records_it_now_matches(
    spark: SparkSession, nights: dict[str, Any]
) -> None:
    """P2, linked to P on night 1, is corrected to say what Q3 says (Q's name and tax number):
    the two are now one signature whose prior links disagree. The delta night links it again:
    P2 joins Q, and Q3, unchanged, stays with Q (it followed P2's older link before)."""
    base = nights["base"]
    prior = write_parquet(base / "prior_delta.parquet", read_output(base / "out_1", "links"),
                          PRIOR_LINK_SCHEMA)
    q3 = next(m for m in NIGHT_1 if m["mention_id"] == "ltax|vat|Q3")
    corrected = [{**q3, "mention_id": "ltax|vat|P2", "record_id": "P2"} if m["mention_id"] == "ltax|vat|P2"
                 else m for m in NIGHT_1]
    mentions = write_parquet(base / "mentions_delta.parquet", corrected, MENTION_SCHEMA)
    counts = run_job(spark, mentions, prior, str(base / "out_delta"), nights["counts"][0]["next_id"],
                     incremental=True)
    links = {r["mention_id"]: r for r in read_output(base / "out_delta", "links")}
    assert clusters(list(links.values())) == {
        eid(1): {"aic|reg|P1"},
        eid(2): {"aic|reg|Q1", "ltax|vat|Q3", "ltax|vat|P2"},
        eid(3): NIGHT_1_CLUSTERS[eid(3)],
        eid(4): {"stat|x|Q2"},
    }
    # Linked again, not carried over: P2's rule and evidence are now Q3's, naming Q's code.
    p2, q3_link = links["ltax|vat|P2"], links["ltax|vat|Q3"]
    assert (p2["rule"], p2["evidence"]) == (q3_link["rule"], q3_link["evidence"])
    assert ORG_Q in p2["evidence"] and ORG_P not in p2["evidence"]
    # Recorded as a full night records a record moving: E2 now holds a record E1 held.
    assert [tuple(r.values()) for r in read_output(base / "out_delta", "id_changes")] == [
        (eid(2), "split_from", eid(1))]
    assert (counts["incremental"], counts["new_ids"]) == (1, 0)
    assert 0 < counts["signatures_linked"] < counts["signatures"]  # the others kept their links


@pytest.mark.parametrize("new_record", ["aic|chg|H2", "court|jud|J1#0"])
def test_a_delta_night_links_a_branch_named_after_its_head_offices_former_name(
    spark: SparkSession, tmp_path: Path, new_record: str
) -> None:
    """A judgment names a branch after its head office's former name; the name change says
    so. Whichever of the two arrives on a delta night, the night must link the judgment with the
    branch under the current name, as a full night does, though their names share no 字号
    block (before the name change arrives, the judgment is an enterprise of its own)."""
    org_h, org_b = org_code("51234567"), org_code("52234567")
    records = [
        mention("aic|reg|H1", "营口林中科技有限公司", rank=0, uscc=uscc_code(org_h)),
        mention("aic|chg|H2", "营口林中科技有限公司", rank=0, uscc=uscc_code(org_h),
                former_name="营口骏万科技有限公司", named_on=date(2015, 3, 1)),
        mention("aic|reg|B1", "营口林中科技有限公司开原分公司", rank=0, is_branch=True,
                uscc=uscc_code(org_b)),
        mention("court|jud|J1#0", "营口骏万科技有限公司开原分公司", rank=5, is_branch=True,
                named_on=date(2014, 2, 2)),
    ]
    prior_ids = {"aic|reg|H1": eid(1), "aic|chg|H2": eid(1), "aic|reg|B1": eid(2), "court|jud|J1#0": eid(3)}
    prior = [{"mention_id": m, "enterprise_id": e, "rule": "uscc", "evidence": "{}"}
             for m, e in prior_ids.items() if m != new_record]
    mentions = write_parquet(tmp_path / "mentions.parquet", records, MENTION_SCHEMA)
    prior_path = write_parquet(tmp_path / "prior.parquet", prior, PRIOR_LINK_SCHEMA)
    # A full night links all records alike whichever is new: it is run once, beside the first case.
    modes = (True, False) if new_record == "aic|chg|H2" else (True,)
    for incremental in modes:
        out = tmp_path / f"out_{incremental}"
        run_job(spark, mentions, prior_path, str(out), 4, incremental=incremental)
        assert clusters(read_output(out, "links")) == {
            eid(1): {"aic|reg|H1", "aic|chg|H2"},
            eid(2): {"aic|reg|B1", "court|jud|J1#0"},
        }, f"incremental={incremental}"


def test_spark_submit_and_partition_independence(
    nights: dict[str, Any], submitted_night_2: dict[str, Any]
) -> None:
    """The script run (2 shuffle partitions) writes what the in-process run (4) wrote."""
    process = submitted_night_2["process"]
    stdout, stderr = process.communicate(timeout=300)
    elapsed = time.monotonic() - submitted_night_2["started"]
    assert process.returncode == 0, stderr[-3000:]
    counts = json.loads(stdout.strip().splitlines()[-1])
    assert without_timings(counts) == without_timings(nights["counts"][1])
    for name in ("links", "enterprises", "id_changes", "dropped_keys"):
        assert read_output(submitted_night_2["out"], name) == read_output(
            nights["base"] / "out_2", name), name
    print(f"spark-submit run took {elapsed:.1f}s")


def test_the_comparison_times_our_job_cold_and_warm_in_a_process_of_its_own(
    nights: dict[str, Any], night_inputs: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    """`evaluate --compare-splink` starts our job in a new process, as it starts Splink: both
    runs there are timed, and the first writes the links the in-process run wrote."""
    mentions, prior = night_inputs["night_1"]
    summary = ours_in_fresh_process(Path(mentions), Path(prior), tmp_path / "ours", runs=2)
    to_links, whole_job = summary["seconds_by_run"], summary["whole_job_seconds_by_run"]
    assert len(to_links) == len(whole_job) == 2
    assert all(0 < links <= whole for links, whole in zip(to_links, whole_job, strict=True))
    assert summary["session_seconds"] > 0
    assert read_output(tmp_path / "ours" / "run0", "links") == read_output(nights["base"] / "out_1", "links")


@pytest.mark.parametrize(("master", "mentions", "machine_gib", "expected"), [
    ("local[*]", 42_738_725, 23.54, "10g"),  # scale 1 here: the heap its nights were measured with
    ("local[2]", 4_293_877, 23.54, "4g"), ("local[2]", None, 23.54, "4g"),
    ("local", 42_738_725, 16, "6g"), (None, 42_738_725, 8, "4g"),
    ("local[4]", 200_000_000, 64, "12g"), ("yarn", 42_738_725, 64, "4g"),
])
def test_a_local_driver_heap_grows_with_the_night_within_the_machine(
    master: str | None, mentions: int | None, machine_gib: float, expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xinyong.resolve.session import driver_memory

    monkeypatch.delenv("XINYONG_SPARK_DRIVER_MEMORY", raising=False)
    assert driver_memory(master, mentions, int(machine_gib * 2**30)) == expected
    monkeypatch.setenv("XINYONG_SPARK_DRIVER_MEMORY", "3g")
    assert driver_memory(master, mentions, int(machine_gib * 2**30)) == "3g"


def test_python_workers_are_warmed_up_with_the_modules_named_and_a_failure_only_warns(
    spark: SparkSession, caplog: pytest.LogCaptureFixture
) -> None:
    """run_job starts the Python workers on a thread while the driver plans; a module that
    cannot be imported there costs the warm-up, never the job (its UDFs report errors)."""
    from xinyong.resolve.session import warm_python_workers
    from xinyong.resolve.transforms import WORKER_MODULES

    caplog.set_level("INFO", logger="xinyong.resolve.session")
    warm_python_workers(spark, WORKER_MODULES).join(timeout=120)
    warmed = [r.getMessage() for r in caplog.records if "warmed up" in r.getMessage()]
    assert len(warmed) == 1 and warmed[0].endswith(f"({', '.join(WORKER_MODULES)})")
    assert 1 <= int(warmed[0].split()[0]) <= spark.sparkContext.defaultParallelism

    caplog.clear()
    thread = warm_python_workers(spark, ["xinyong_no_such_module"])
    thread.join(timeout=120)
    assert not thread.is_alive()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["Python workers not warmed up: "
                        "ModuleNotFoundError: No module named 'xinyong_no_such_module'"]


@pytest.mark.parametrize("mode", ["in-process", "spark-submit"])
def test_a_spark_job_that_fails_fails_the_night_with_its_error(
    spark: SparkSession, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_SPARK_JOB", mode)
    with pytest.raises(NightFailed, match="the Spark resolution job failed") as failed:
        run_spark_job(tmp_path / "no-mentions", tmp_path / "no-prior", tmp_path / "out", 1)
    # Spark's own words first: the path it could not read (not the JVM's stack frames).
    assert "no-mentions" in str(failed.value).splitlines()[0]
    assert not (tmp_path / "out").exists()


def test_an_unknown_spark_job_mode_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_SPARK_JOB", "yarn-cluster")
    with pytest.raises(NightFailed, match="XINYONG_SPARK_JOB is 'yarn-cluster'"):
        run_spark_job(tmp_path / "mentions", tmp_path / "prior", tmp_path / "out", 1)


def test_night_job_dumps_a_class_archive_that_drivers_then_map(
    night_inputs: dict[str, tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first nightly spark-submit keeps the classes its driver loaded, and a spark-submit
    driver started with -Xshare:on (the JVM refuses to start unless it maps the archive)
    maps them. A truncated archive (HotSpot dies of SIGBUS on one) is never used; a dump
    abandoned a day ago and another JDK's archive unread for a week are removed."""
    from xinyong.platform import ensure_java
    from xinyong.resolve import session

    ensure_java()
    for name, value in {"XINYONG_SPARK_LOCAL_DIR": str(tmp_path / "local"),
                        "XINYONG_SPARK_MASTER": "local[2]", "XINYONG_SPARK_DRIVER_MEMORY": "1g",
                        "XINYONG_SPARK_SHUFFLE_PARTITIONS": "2", "XINYONG_SPARK_JOB": "spark-submit"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(session.CLASS_ARCHIVE_SWITCH, raising=False)
    key = session._archive_key()
    assert key is not None
    truncated = session.local_dir() / f"driver-classes-{key}-999999.jsa"
    truncated.write_bytes(b"\0" * 1000)
    assert session.class_archive() is None
    abandoned, recent = (session.local_dir() / f"driver-classes-{key}.{pid}.part" for pid in (1, 2))
    abandoned.write_bytes(b"\0")
    recent.write_bytes(b"\0")  # another night's driver may be writing it now
    day_old = time.time() - session.ABANDONED_DUMP_SECONDS - 60
    os.utime(abandoned, (day_old, day_old))
    superseded, still_read = (session.local_dir() / f"driver-classes-{other}-1000.jsa"
                              for other in ("0000000000000000", "ffffffffffffffff"))  # other JDKs
    for other_archive in (superseded, still_read):
        other_archive.write_bytes(b"\0" * 1000)
    week_old = time.time() - session.UNUSED_ARCHIVE_SECONDS - 60
    os.utime(superseded, (week_old, week_old))

    mentions, prior = night_inputs["night_1"]
    counts = run_spark_job(Path(mentions), Path(prior), tmp_path / "out", 1)
    assert counts["mentions"] == len(NIGHT_1)  # the counts line survived the dump's exit
    assert list(session.local_dir().glob("*.part")) == [recent]  # ours kept or removed, never left
    archive = session.class_archive()
    if not Path(os.environ["JAVA_HOME"], "lib", "server", "classes.jsa").exists():
        assert archive is None  # no base archive to extend: the nights run without one
        return
    assert archive is not None and archive != truncated
    assert not superseded.exists() and still_read.exists()  # the dump removed an upgrade's leftover
    assert archive.stat().st_size == int(archive.stem.rsplit("-", 1)[-1]) > 10_000_000
    assert "Archive" not in (session.driver_java_options("yarn") or "")  # a cluster's driver: none

    monkeypatch.setenv("XINYONG_SPARK_DRIVER_JAVA_OPTIONS", f"{LOCAL_DRIVER_OPTIONS} -Xshare:on")
    options = session.driver_java_options("local[2]")
    assert options is not None and f"-XX:SharedArchiveFile={archive}" in options
    spark_submit = str(Path(sys.executable).with_name("spark-submit"))
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    mapped = subprocess.run([spark_submit, "--driver-java-options", options, "--version"],
                            env=env, capture_output=True, text=True, check=False)
    assert mapped.returncode == 0, mapped.stdout[-2000:] + mapped.stderr[-2000:]
    missing = options.replace(str(archive), str(tmp_path / "missing.jsa"))
    refused = subprocess.run([spark_submit, "--driver-java-options", missing, "--version"],
                             env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0  # so -Xshare:on does hold the JVM to its archive
