"""The delivery generator: contract conformance, determinism, truth, faults and data problems."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xinyong.generate import GeneratorConfig, generate
from xinyong.generate.__main__ import main
from xinyong.generate.problems import FIELD_PROBLEMS, FILE_PROBLEMS, ROW_PROBLEMS
from xinyong.ids import clean_code, is_valid_idcard, is_valid_org, is_valid_regno, is_valid_uscc

# Copied from CONTRACT.md on purpose: the generator's own table is what is under test.
CONTRACT: dict[str, dict[str, tuple[str, ...]]] = {
    "aic": {
        "registrations.csv": ("记录ID", "操作", "注册号", "统一社会信用代码", "企业名称", "企业类型",
                              "法定代表人", "法定代表人证件号码", "住所", "注册资本(万元)", "成立日期",
                              "核准日期", "登记状态", "行业代码", "登记机关"),
        "name_changes.csv": ("记录ID", "操作", "统一社会信用代码", "注册号", "变更前名称", "变更后名称",
                             "变更日期"),
        "abnormal_operations.csv": ("记录ID", "操作", "统一社会信用代码", "注册号", "企业名称", "列入日期",
                                    "列入原因", "移出日期", "移出原因"),
    },
    "state_tax": {
        "vat_returns.txt": ("record_id", "op", "nsrsbh", "nsrmc", "sssq", "xse", "ynse", "yjse", "sbrq"),
        "credit_ratings.txt": ("record_id", "op", "nsrsbh", "nsrmc", "pjnd", "xydj"),
    },
    "local_tax": {
        "declarations.jsonl": ("id", "op", "nsrsbh", "nsrmc", "zsxm", "sssqq", "sssqz", "ynse", "sjse"),
        "arrears.jsonl": ("id", "op", "nsrsbh", "nsrmc", "fddbr", "qsse", "qssz", "ggrq"),
    },
    "quality": {
        "org_code_certificates.csv": ("记录ID", "操作", "组织机构代码", "机构名称", "机构类型", "法定代表人",
                                      "地址", "颁证日期", "有效期至", "状态"),
        "product_inspections.csv": ("记录ID", "操作", "组织机构代码", "企业名称", "产品名称", "抽查日期",
                                    "检验结论", "不合格项目"),
    },
    "customs": {
        "declarations.xml": ("EntryId", "TradeCode", "TradeName", "SocialCreditCode", "IEFlag",
                             "DeclareDate", "TotalValue", "HSCode"),
        "credit_ratings.csv": ("record_id", "op", "trade_code", "social_credit_code", "name",
                               "credit_level", "effective_date"),
    },
    "construction": {
        "qualifications.csv": ("记录ID", "操作", "企业名称", "统一社会信用代码", "组织机构代码",
                               "资质证书编号", "资质类别及等级", "发证日期", "有效期至", "发证机关"),
        "violations.csv": ("记录ID", "操作", "企业名称", "统一社会信用代码", "项目名称", "违规行为",
                           "处理决定", "决定日期"),
    },
    "food_drug": {
        "licenses.csv": ("记录ID", "操作", "许可证编号", "企业名称", "社会信用代码", "法定代表人",
                         "经营地址", "许可范围", "发证日期", "有效期至"),
        "penalties.csv": ("记录ID", "操作", "处罚决定书文号", "当事人名称", "社会信用代码", "违法行为",
                          "处罚内容", "罚没金额(元)", "处罚日期"),
    },
    "price": {
        "price_violations.csv": ("记录ID", "操作", "当事人", "证照号码", "违法事实", "处罚依据",
                                 "罚款金额(元)", "决定日期"),
    },
    "public_security": {
        "seal_filings.jsonl": ("id", "op", "dwmc", "tyshxydm", "fddbr", "fddbr_sfzh", "yzlx", "barq"),
    },
    "court": {
        "judgments.jsonl": ("id", "op", "ah", "fymc", "ay", "cprq", "bdje", "parties"),
        "dishonest_debtors.jsonl": ("id", "op", "ah", "bzxrmc", "zzjgdm", "fddbr", "zxfy", "larq",
                                    "fbrq", "lxqk", "sxxw"),
    },
}
GB18030_AGENCY_FILES = {("aic", f) for f in CONTRACT["aic"]} | {
    ("quality", "org_code_certificates.csv"), ("quality", "product_inspections.csv"),
    ("construction", "qualifications.csv"), ("construction", "violations.csv"),
    ("price", "price_violations.csv")}


@dataclass
class Row:
    record_id: str | None    # None when the row could not be parsed at all
    op: str | None
    usable: bool
    fields: dict[str, Any]


def read_rows(path: Path, agency: str) -> tuple[list[str], list[Row], str]:
    """Parse a delivered file the way a tolerant loader would; returns header, rows, encoding."""
    data = path.read_bytes()
    declared = "gb18030" if (agency, path.name) in GB18030_AGENCY_FILES else "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, declared = data[3:], "utf-8"
    encoding = declared
    try:
        data.decode(declared)
    except UnicodeDecodeError:
        other = "utf-8" if declared == "gb18030" else "gb18030"
        try:
            data.decode(other)
            encoding = other
        except UnicodeDecodeError:
            pass  # an undecodable row or a cut character: decode row by row below
    text = data.decode(encoding, errors="surrogateescape")
    if path.suffix == ".xml":
        return _read_xml(text)
    if path.suffix == ".jsonl":
        rows = []
        for line in text.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                rows.append(Row(None, None, False, {}))
                continue
            ok = bool(obj.get("id")) and obj.get("op") in ("I", "U", "D")
            rows.append(Row(obj.get("id"), obj.get("op"), ok, obj))
        return list(CONTRACT[agency][path.name]), rows, encoding
    delimiter = "|" if path.suffix == ".txt" else ","
    if delimiter == "|":
        records = [line.split("|") for line in text.splitlines()]
    else:
        records = list(csv.reader(io.StringIO(text, newline="")))
    header, body = records[0], records[1:]
    rows = []
    for rec in body:
        if any("\udc80" <= ch <= "\udcff" for field in rec for ch in field):
            rows.append(Row(None, None, False, {}))
            continue
        ok = len(rec) == len(header) and bool(rec[0]) and rec[1] in ("I", "U", "D")
        rows.append(Row(rec[0], rec[1] if len(rec) > 1 else None, ok, dict(zip(header, rec, strict=False))))
    return header, rows, encoding


def _read_xml(text: str) -> tuple[list[str], list[Row], str]:
    rows = []
    try:
        elements = ET.fromstring(text).findall("Declaration")
        truncated = False
    except ET.ParseError:  # a truncated file: count what is complete, then the cut element
        complete = text[: text.rfind("</Declaration>") + len("</Declaration>")] + "</Declarations>"
        elements = ET.fromstring(complete).findall("Declaration")
        truncated = True
    for el in elements:
        fields = {child.tag: child.text or "" for child in el}
        total = el.find("TotalValue")
        if total is not None:
            fields["currency"] = total.get("currency", "")
        ok = bool(el.get("id")) and el.get("op") in ("I", "U", "D")
        rows.append(Row(el.get("id"), el.get("op"), ok, fields))
    if truncated:
        rows.append(Row(None, None, False, {}))
    header = list(elements[0].keys()) + [c.tag for c in elements[0]] if elements else []
    return header, rows, "utf-8"


def truth_csv(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / "truth" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def manifests(out: Path) -> list[tuple[str, Path, dict[str, Any]]]:
    found = []
    for path in sorted((out / "landing").glob("*/*/manifest.json")):
        found.append((path.parent.parent.name, path.parent, json.loads(path.read_text("utf-8"))))
    return found


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    generate(out, GeneratorConfig(enterprises=500, nights=4, fault_night=2, problem_rate=0.05,
                                  seed=7, workers=2, chunk_size=200))
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(out, GeneratorConfig(enterprises=400, nights=3, problem_rate=0.0, seed=11, workers=1))
    return out


def test_same_seed_gives_identical_trees_whatever_the_workers(tmp_path: Path) -> None:
    config = dict(enterprises=250, nights=3, fault_night=2, problem_rate=0.05, seed=3, chunk_size=100)
    generate(tmp_path / "a", GeneratorConfig(workers=1, **config))  # type: ignore[arg-type]
    generate(tmp_path / "b", GeneratorConfig(workers=2, **config))  # type: ignore[arg-type]
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert "truth/audits.csv" in a


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", GeneratorConfig(enterprises=100, nights=2, seed=1, workers=1))
    generate(tmp_path / "b", GeneratorConfig(enterprises=100, nights=2, seed=2, workers=1))
    a = (tmp_path / "a/landing/aic/20261110/registrations.csv").read_bytes()
    b = (tmp_path / "b/landing/aic/20261110/registrations.csv").read_bytes()
    assert a != b


def test_every_night_has_all_files_with_contract_columns(dirty: Path) -> None:
    problems = truth_csv(dirty, "problems.csv")
    reshaped = {(p["agency"], p["file"], p["batch_date"].replace("-", "")): p["kind"] for p in problems
                if p["kind"] in ("extra_column", "missing_column")}
    folders = {(agency, folder.name) for agency, folder, _ in manifests(dirty)}
    assert folders == {(a, f"202611{d}") for a in CONTRACT for d in (10, 11, 12, 13)}
    for agency, folder, manifest in manifests(dirty):
        assert [f["name"] for f in manifest["files"]] == list(CONTRACT[agency])
        for name in CONTRACT[agency]:
            path = folder / name
            if not path.exists():
                continue  # the missing-file fault, checked elsewhere
            header, rows, _ = read_rows(path, agency)
            if path.suffix == ".xml":
                if rows and rows[0].usable:
                    assert header == ["id", "op", *CONTRACT[agency][name]]
                continue
            if path.suffix == ".jsonl":
                for row in rows:
                    if row.record_id is not None:
                        assert tuple(row.fields) == CONTRACT[agency][name]
                continue
            expected = list(CONTRACT[agency][name])
            kind = reshaped.get((agency, name, folder.name))
            if kind == "extra_column":
                assert header[:-1] == expected and len(header) == len(expected) + 1
            elif kind == "missing_column":
                assert len(header) == len(expected) - 1 and set(header) < set(expected)
            else:
                assert header == expected


def test_empty_files_are_well_formed(clean: Path) -> None:
    seen = Counter[str]()
    for _agency, folder, manifest in manifests(clean):
        for entry in manifest["files"]:
            if entry["rows"]:
                continue
            data = (folder / entry["name"]).read_bytes()
            suffix = entry["name"].rsplit(".", 1)[1]
            seen[suffix] += 1
            if suffix == "jsonl":
                assert data == b""
            elif suffix == "xml":
                assert ET.fromstring(data).tag == "Declarations" and len(ET.fromstring(data)) == 0
            else:
                assert data.count(b"\n") == 1  # the header only
    assert seen["csv"] and seen["jsonl"]


def test_manifests_match_their_files_except_declared_faults(dirty: Path) -> None:
    status = {(d["agency"], d["folder"].rsplit("/", 1)[1]): d for d in truth_csv(dirty, "deliveries.csv")}
    faults = Counter[str]()
    for agency, folder, manifest in manifests(dirty):
        expected = status[(agency, folder.name)]
        broken = []
        for entry in manifest["files"]:
            path = folder / entry["name"]
            if not path.exists():
                broken.append("missing_file")
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                broken.append("wrong_sha256")
            if len(read_rows(path, agency)[1]) != entry["rows"]:
                broken.append("wrong_row_count")
        if expected["status"] == "rejected":
            assert len(broken) == 1, (agency, folder)
            faults[broken[0]] += 1
        else:
            assert broken == [], (agency, folder, broken)
    assert faults == {"missing_file": 1, "wrong_sha256": 1, "wrong_row_count": 1}


def test_fault_night_rows_arrive_the_next_night(dirty: Path) -> None:
    rejected = [d for d in truth_csv(dirty, "deliveries.csv") if d["status"] == "rejected"]
    assert {d["batch_date"] for d in rejected} == {"2026-11-11"}
    for d in rejected:
        broken, fixed = dirty / d["folder"], dirty / "landing" / d["agency"] / "20261112"
        assert json.loads((fixed / "manifest.json").read_text())["mode"] == "delta"
        for name in CONTRACT[d["agency"]]:
            if not (broken / name).exists():
                continue
            before = {r.record_id for r in read_rows(broken / name, d["agency"])[1] if r.usable}
            after = [r.record_id for r in read_rows(fixed / name, d["agency"])[1] if r.usable]
            assert before <= set(after)
            assert len(after) == len(set(after)), "a key twice in one merged delivery"


def test_resent_delivery_is_byte_identical(dirty: Path) -> None:
    duplicates = [d for d in truth_csv(dirty, "deliveries.csv") if d["status"] == "duplicate"]
    assert len(duplicates) == 1 and duplicates[0]["batch_date"] == "2026-11-13"
    copy = dirty / duplicates[0]["folder"]
    original = copy.parent / "20261112"
    assert tree_bytes(copy) == tree_bytes(original)


def test_first_night_full_then_deltas_with_all_operations(clean: Path) -> None:
    ops_by_night: dict[str, Counter[str]] = {}
    for agency, folder, manifest in manifests(clean):
        assert manifest["mode"] == ("full" if folder.name == "20261110" else "delta")
        assert manifest["batch_date"] == date(2026, 11, int(folder.name[-2:])).isoformat() or (
            agency == next(d["agency"] for d in truth_csv(clean, "deliveries.csv")
                           if d["status"] == "duplicate"))
        ops = ops_by_night.setdefault(folder.name, Counter())
        for entry in manifest["files"]:
            ops.update(r.op or "" for r in read_rows(folder / entry["name"], agency)[1])
    assert set(ops_by_night["20261110"]) == {"I"}
    delta = ops_by_night["20261111"] + ops_by_night["20261112"]
    assert delta["I"] and delta["U"] and delta["D"]


def test_clean_codes_have_valid_check_characters(clean: Path) -> None:
    enterprises = truth_csv(clean, "enterprises.csv")
    for e in enterprises:
        assert e["uscc"] or e["regno"]
        assert not e["uscc"] or is_valid_uscc(e["uscc"])
        assert not e["regno"] or is_valid_regno(e["regno"])
        assert is_valid_org(e["org_code"]) and is_valid_idcard(e["legal_rep_idcard"])
        assert e["tax_number"][6:] == e["org_code"]
        assert not e["uscc"] or e["uscc"][8:17] == e["org_code"]
    folder = clean / "landing"
    _, regs, _ = read_rows(folder / "aic/20261110/registrations.csv", "aic")
    for row in regs:
        assert is_valid_idcard(row.fields["法定代表人证件号码"])
    _, certs, _ = read_rows(folder / "quality/20261110/org_code_certificates.csv", "quality")
    assert certs and all(is_valid_org(clean_code(r.fields["组织机构代码"]) or "") for r in certs)
    _, vat, _ = read_rows(folder / "state_tax/20261110/vat_returns.txt", "state_tax")
    for row in vat:
        code = row.fields["nsrsbh"]
        assert is_valid_uscc(code) if len(code) == 18 else is_valid_org(code[6:])


def test_world_is_believable(clean: Path) -> None:
    enterprises = truth_csv(clean, "enterprises.csv")
    by_id = {e["enterprise_id"]: e for e in enterprises}
    branches = [e for e in enterprises if e["head_office_id"]]
    assert branches
    for branch in branches:
        head = by_id[branch["head_office_id"]]
        assert branch["name"].startswith(head["name"]) and branch["name"].endswith("分公司")
        assert branch["org_code"] != head["org_code"] and not head["head_office_id"]
    assert {e["status"] for e in enterprises} == {"存续", "在业", "吊销", "注销", "迁出"}
    assert any(e["regno"] and not e["uscc"] for e in enterprises)
    assert any(e["uscc"] and not e["regno"] for e in enterprises)
    assert any(e["uscc"] and e["regno"] for e in enterprises)
    assert any(e["customs_code"] for e in enterprises)
    assert any(e["former_names"] for e in enterprises)
    reps = Counter(e["legal_rep_idcard"] for e in enterprises)
    assert reps.most_common(1)[0][1] >= 2
    assert {e["region"][:4] for e in enterprises} >= {"2101", "2102"}
    assert len({e["name"] for e in enterprises}) == len(enterprises)


def test_truth_covers_every_record_and_every_quarantined_row(dirty: Path) -> None:
    records = truth_csv(dirty, "records.csv")
    known = {(r["agency"], r["feed"], r["record_id"]): r for r in records}
    assert len(known) == len(records), "one truth row per record id"
    files = {(f["agency"], f["batch_date"].replace("-", ""), f["file"]): f
             for f in truth_csv(dirty, "files.csv")}
    status = {(d["agency"], d["folder"].rsplit("/", 1)[1]): d["status"]
              for d in truth_csv(dirty, "deliveries.csv")}
    checked = 0
    for agency, folder, manifest in manifests(dirty):
        for entry in manifest["files"]:
            path = folder / entry["name"]
            if not path.exists():
                continue
            feed = entry["name"].rsplit(".", 1)[0]
            _, rows, _ = read_rows(path, agency)
            for row in rows:
                if not row.usable:
                    continue
                if feed == "judgments":
                    for n, _party in enumerate(row.fields["parties"]):
                        assert (agency, feed, f"{row.record_id}#{n}") in known
                else:
                    assert known[(agency, feed, row.record_id or "")]["status"] != "quarantined"
            if status[(agency, folder.name)] == "loaded":
                truth = files[(agency, folder.name, entry["name"])]
                assert int(truth["rows_delivered"]) == len(rows)
                assert int(truth["rows_expected_quarantined"]) == sum(not r.usable for r in rows)
                checked += 1
    assert checked == len(files) == sum(len(CONTRACT[a]) for (a, _), s in status.items() if s == "loaded")
    people = [r for r in records if r["feed"] == "judgments" and not r["enterprise_id"]]
    institutions = [r for r in records if r["feed"] == "org_code_certificates" and not r["enterprise_id"]]
    assert people and institutions


def test_every_data_problem_appears(dirty: Path) -> None:
    summary = json.loads((dirty / "truth/summary.json").read_text())
    missing = [k for k in (*FIELD_PROBLEMS, *ROW_PROBLEMS, *FILE_PROBLEMS) if not summary["problems"].get(k)]
    assert missing == []
    landing = dirty / "landing"
    blobs = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in blobs.values())
    assert any(b"\r\n" in b for b in blobs.values())
    gb_only = False
    for path, data in blobs.items():
        if (path.parent.parent.name, path.name) in GB18030_AGENCY_FILES:
            text = data.decode("gb18030", errors="ignore")
            gb_only |= any(_not_gbk(ch) for ch in text if ord(ch) > 0x3000)
    assert gb_only
    texts = "".join(b.decode("utf-8", errors="ignore") + b.decode("gb18030", errors="ignore")
                    for b in blobs.values())
    for pattern in (r"\d{4}年\d{1,2}月\d{1,2}日", r"\d{4}/\d{1,2}/\d{1,2}", r"\d{1,3}(,\d{3})+\.\d\d",
                    r"[（(][沈大鞍抚本丹锦营阜辽盘铁朝葫][^)）]{1,3}[)）]", r"\*{2,}", "[０-９]{4}",
                    "責任|貿易|東"):
        assert re.search(pattern, texts), pattern
    assert re.search(r'"[^"\n]*\n[^"]*"', texts), "a newline inside a quoted CSV field"


def _not_gbk(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return True
    return False


def test_problem_rate_zero_gives_clean_data(clean: Path) -> None:
    summary = json.loads((clean / "truth/summary.json").read_text())
    assert not any(summary["problems"].values())
    assert all(int(f["rows_expected_quarantined"]) == 0 for f in truth_csv(clean, "files.csv"))
    for agency, folder, manifest in manifests(clean):
        for entry in manifest["files"]:
            data = (folder / entry["name"]).read_bytes()
            assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data
            assert all(r.usable for r in read_rows(folder / entry["name"], agency)[1])


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--enterprises", "60", "--nights", "2", "--workers", "1"]) == 0
    assert "records/s" in capsys.readouterr().out
    assert (tmp_path / "truth/records.csv").exists()
    with pytest.raises(ValueError):
        generate(tmp_path / "x", GeneratorConfig(enterprises=10, nights=2, fault_night=2))


# --- planted audits: truth/audits.csv -----------------------------------------------------

AUDIT_CODES = ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8")
NULLS = ("", "无", "/", "-", "NULL")
Live = dict[tuple[str, str], dict[str, list[dict[str, Any]]]]


def replay(out: Path) -> Live:
    """Load every loaded delivery in date order as a loader would (I and U keep the row, D
    drops the key; unusable rows are skipped) and return the live rows after the last night,
    per (agency, feed) and truth enterprise id."""
    owner = {(r["agency"], r["feed"], r["record_id"]): r["enterprise_id"]
             for r in truth_csv(out, "records.csv") if r["status"] != "quarantined"}
    state: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    deliveries = sorted(truth_csv(out, "deliveries.csv"), key=lambda d: d["folder"].rsplit("/", 1)[1])
    for d in deliveries:
        if d["status"] != "loaded":
            continue
        for name in CONTRACT[d["agency"]]:
            feed = name.rsplit(".", 1)[0]
            if feed == "judgments":
                continue
            records = state[(d["agency"], feed)]
            for row in read_rows(out / d["folder"] / name, d["agency"])[1]:
                if not row.usable:
                    continue
                assert (d["agency"], feed, row.record_id) in owner, row.record_id
                if row.op == "D":
                    records.pop(row.record_id or "", None)
                else:
                    records[row.record_id or ""] = row.fields
    live: Live = {}
    for (agency, feed), records in state.items():
        by_enterprise: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record_id, fields in records.items():
            by_enterprise[owner[(agency, feed, record_id)]].append(fields)
        live[(agency, feed)] = by_enterprise
    return live


def day_of(value: str | None) -> date | None:
    """A delivered date in any of the contract's spellings; None for the null spellings."""
    if value is None or value.strip() in NULLS:
        return None
    m = re.fullmatch(r"(\d{4})[-/年]?(\d{1,2})[-/月]?(\d{1,2})日?", value.strip())
    assert m, value
    return date(int(m[1]), int(m[2]), int(m[3]))


def must_day(value: str) -> date:
    d = day_of(value)
    assert d is not None, value
    return d


def amount_of(value: str) -> Decimal:
    return Decimal(value.replace(",", ""))


@dataclass
class AuditFacts:
    """What a re-read of the deliveries says about the audits, computed apart from the generator."""

    found: dict[str, set[str]]
    activity_on_approval: set[str]       # A1: an activity dated exactly on the 核准日期
    customs_equal_5x_vat: set[str]       # A2: a year with customs exactly 5 x VAT sales
    declared_on_listing: set[str]        # A4: the last declaration on an open listing's 列入日期
    penalty_spans: dict[str, list[int]]  # A8: last minus first of 3-agency penalty sets, in days


def recompute(live: Live) -> AuditFacts:
    def rows(agency: str, feed: str, enterprise: str) -> list[dict[str, Any]]:
        return live.get((agency, feed), {}).get(enterprise, [])

    enterprises = set().union(*(set(v) for v in live.values())) - {""}
    found: dict[str, set[str]] = {a: set() for a in AUDIT_CODES}
    facts = AuditFacts(found, set(), set(), set(), {})
    status: dict[str, str] = {}
    persons: dict[str, set[str]] = defaultdict(set)
    for e in sorted(enterprises):
        regs = rows("aic", "registrations", e)
        approved = None
        if regs:
            reg = max(regs, key=lambda r: day_of(r["核准日期"]) or date.min)
            status[e], approved = reg["登记状态"], day_of(reg["核准日期"])
        for r in regs:
            persons[e].add(r["法定代表人证件号码"])
        for r in rows("public_security", "seal_filings", e):
            persons[e].add(r["fddbr_sfzh"])
        vat = rows("state_tax", "vat_returns", e)
        customs = rows("customs", "declarations", e)
        local = rows("local_tax", "declarations", e)
        activity = ([must_day(r["sbrq"]) for r in vat] + [must_day(r["sssqq"]) for r in local]
                    + [must_day(r["DeclareDate"]) for r in customs])
        if status.get(e) in ("注销", "吊销") and approved:
            if any(d > approved for d in activity):
                found["A1"].add(e)
            if approved in activity:
                facts.activity_on_approval.add(e)
        customs_cny: dict[int, Decimal] = defaultdict(Decimal)
        for r in customs:
            rate = {"USD": 7, "CNY": 1}[r["currency"]]
            customs_cny[must_day(r["DeclareDate"]).year] += amount_of(r["TotalValue"]) * rate
        sales: dict[int, Decimal] = defaultdict(Decimal)
        for r in vat:
            sales[int(r["sssq"][:4])] += amount_of(r["xse"])
        if any(value > 5 * sales[year] for year, value in customs_cny.items()):
            found["A2"].add(e)
        if any(value == 5 * sales[year] and value for year, value in customs_cny.items()):
            facts.customs_equal_5x_vat.add(e)
        published = [must_day(r["fbrq"]) for r in rows("court", "dishonest_debtors", e)
                     if r["lxqk"] == "全部未履行"]
        issued = ([must_day(r["发证日期"]) for r in rows("construction", "qualifications", e)]
                  + [must_day(r["发证日期"]) for r in rows("food_drug", "licenses", e)])
        if any(i > p for i in issued for p in published):
            found["A3"].add(e)
        listed = [must_day(r["列入日期"]) for r in rows("aic", "abnormal_operations", e)
                  if day_of(r.get("移出日期")) is None]
        declared = [must_day(r["DeclareDate"]) for r in customs]
        if any(d >= ld for d in declared for ld in listed):
            found["A4"].add(e)
            if max(declared) in listed:
                facts.declared_on_listing.add(e)
        if status.get(e) == "存续" and len(vat) >= 12 and not local:
            found["A5"].add(e)
        rated_a = {int(r["pjnd"]) for r in rows("state_tax", "credit_ratings", e) if r["xydj"] == "A"}
        if any(must_day(r["ggrq"]).year in rated_a for r in rows("local_tax", "arrears", e)):
            found["A6"].add(e)
        penalties = sorted(
            [(must_day(r["决定日期"]), "construction") for r in rows("construction", "violations", e)]
            + [(must_day(r["处罚日期"]), "food_drug") for r in rows("food_drug", "penalties", e)]
            + [(must_day(r["决定日期"]), "price") for r in rows("price", "price_violations", e)]
            + [(must_day(r["抽查日期"]), "quality") for r in rows("quality", "product_inspections", e)
               if r["检验结论"] == "不合格"])
        for i, (first, _) in enumerate(penalties):
            agencies: dict[str, date] = {}
            for d, agency in penalties[i:]:
                agencies.setdefault(agency, d)
            if len(agencies) >= 3:  # the earliest set of three agencies from this first penalty
                span = (sorted(agencies.values())[2] - first).days
                facts.penalty_spans.setdefault(e, []).append(span)
                if span <= 365:
                    found["A8"].add(e)
    # A7: persons by valid resident identity number, after removing formatting noise.
    debtors = set(live.get(("court", "dishonest_debtors"), {})) - {""}
    by_person: dict[str, set[str]] = defaultdict(set)
    for e, numbers in persons.items():
        for number in numbers:
            clean = clean_code(number)
            if clean and is_valid_idcard(clean):
                by_person[clean].add(e)
    for group in by_person.values():
        for debtor in group & debtors:
            others = {o for o in group - {debtor} if status.get(o) == "存续"}
            if others:
                found["A7"] |= {debtor, *others}
    return facts


def audit_truth(out: Path) -> dict[str, dict[str, set[str]]]:
    truth: dict[str, dict[str, set[str]]] = {a: {"finding": set(), "near_miss": set()} for a in AUDIT_CODES}
    for row in truth_csv(out, "audits.csv"):
        truth[row["audit"]][row["expected"]].add(row["enterprise_id"])
    return truth


@pytest.fixture(scope="module")
def dirty_audits(dirty: Path) -> tuple[dict[str, dict[str, set[str]]], AuditFacts]:
    return audit_truth(dirty), recompute(replay(dirty))


def test_audit_truth_has_findings_and_near_misses_for_every_audit(dirty: Path, tmp_path: Path) -> None:
    rows = truth_csv(dirty, "audits.csv")
    assert list(rows[0]) == ["audit", "enterprise_id", "expected"]
    pairs = [(r["audit"], r["enterprise_id"]) for r in rows]
    assert len(pairs) == len(set(pairs)), "one row per (audit, enterprise)"
    known = {e["enterprise_id"] for e in truth_csv(dirty, "enterprises.csv")}
    assert {e for _, e in pairs} <= known
    kinds = Counter((r["audit"], r["expected"]) for r in rows)
    assert all(kinds[(a, "finding")] >= 3 and kinds[(a, "near_miss")] >= 2 for a in AUDIT_CODES), kinds
    summary = json.loads((dirty / "truth/summary.json").read_text())
    assert summary["audits"] == {a: {"finding": kinds[(a, "finding")], "near_miss": kinds[(a, "near_miss")]}
                                 for a in AUDIT_CODES}
    # A set as small as the night tests' still has both kinds for every audit.
    generate(tmp_path, GeneratorConfig(enterprises=150, nights=3, seed=11, problem_rate=0.03,
                                       fault_night=2, workers=1))
    small = Counter((r["audit"], r["expected"]) for r in truth_csv(tmp_path, "audits.csv"))
    assert all(small[(a, "finding")] >= 2 and small[(a, "near_miss")] >= 1 for a in AUDIT_CODES), small


def test_audit_truth_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    config = dict(enterprises=300, nights=2, problem_rate=0.03, seed=5)
    generate(tmp_path / "a", GeneratorConfig(workers=1, **config))  # type: ignore[arg-type]
    generate(tmp_path / "b", GeneratorConfig(workers=2, chunk_size=70, **config))  # type: ignore[arg-type]
    generate(tmp_path / "c", GeneratorConfig(workers=1, **{**config, "seed": 6}))  # type: ignore[arg-type]
    a, b, c = ((tmp_path / x / "truth/audits.csv").read_bytes() for x in "abc")
    assert a == b and a != c


def test_audit_findings_match_a_replay_of_the_deliveries(
        dirty_audits: tuple[dict[str, dict[str, set[str]]], AuditFacts]) -> None:
    """Every finding, and nothing else, is what the rules say about the delivered records."""
    truth, facts = dirty_audits
    for audit in AUDIT_CODES:
        assert facts.found[audit] == truth[audit]["finding"], audit
        assert not facts.found[audit] & truth[audit]["near_miss"], audit


def test_planted_edges_are_in_the_deliveries(
        dirty_audits: tuple[dict[str, dict[str, set[str]]], AuditFacts]) -> None:
    truth, facts = dirty_audits
    assert facts.activity_on_approval & truth["A1"]["near_miss"]  # activity on the 核准日期
    assert facts.customs_equal_5x_vat & truth["A2"]["near_miss"]  # exactly 5 x VAT
    assert facts.declared_on_listing & truth["A4"]["finding"]     # declared on the 列入日期
    spans = {e: min(s) for e, s in facts.penalty_spans.items()}
    assert any(spans.get(e) == 365 for e in truth["A8"]["finding"])
    assert any(spans.get(e) == 366 for e in truth["A8"]["near_miss"])
