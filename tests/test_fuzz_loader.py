"""Fuzzing the loader with corrupted files of a small generated delivery, on real PostgreSQL.

Each example takes one agency's delivery from a tiny generated landing folder (30 enterprises,
one night), corrupts one of its files — truncation at a byte offset, byte flips, the file
re-encoded in the other encoding (GB18030 <-> UTF-8), the file double-encoded (mojibake), a
column dropped or added — and loads it under a folder
date of its own into one module-wide warehouse. Whatever the corruption, the loader must not
raise; the delivery ends loaded with every file reconciled (rows_delivered = rows_loaded +
rows_quarantined, and those rows really are in the feed table and the quarantine) or rejected
whole with a reason, leaving every ingest table exactly as it was.

The manifest is rewritten with the corrupted file's sha256 (most examples), so the corruption
reaches the parser instead of stopping at the checksum; its declared row count is left as
delivered, as an agency's manifest would be.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg2 import sql

from xinyong import night
from xinyong.feeds import agency as get_agency
from xinyong.feeds.readers import read_rows, scan_file
from xinyong.feeds.spec import FileFormat
from xinyong.generate import GeneratorConfig, generate
from xinyong.ingest.deliveries import DeliveryResult, ingest_agency
from xinyong.warehouse.schema import table_name

from .landing import REGISTRATION_HEADER, registration, write_delivery

GENERATED_NIGHT = "20261110"
AGENCIES = ("aic", "state_tax", "local_tax", "quality", "customs", "construction", "food_drug",
            "price", "public_security", "court")
KINDS = ("truncate", "flip", "reencode", "mojibake", "drop_column", "add_column")
FIRST_FUZZ_DAY = date(2027, 1, 1)
_days = itertools.count()


@dataclass(frozen=True)
class Corruption:
    agency: str
    file_pick: int       # index (modulo the delivery's file count) of the file to corrupt
    kind: str
    at: float            # where: truncation offset / column, as a fraction
    flips: tuple[tuple[float, int], ...] = ()  # (offset fraction, xor mask 1..255)
    fix_sha: bool = True  # rewrite the manifest's sha256 to the corrupted file's


corruptions = st.builds(
    Corruption,
    agency=st.sampled_from(AGENCIES),
    file_pick=st.integers(0, 2),
    kind=st.sampled_from(KINDS),
    at=st.floats(0, 1, exclude_max=True),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                   min_size=1, max_size=4).map(tuple),
    fix_sha=st.sampled_from([True, True, True, True, False]),
)


def query(dsn: str, text: str | sql.Composable, params: tuple | None = None) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(text, params)
        rows = cursor.fetchall()
    conn.close()
    return rows


def ingest_snapshot(dsn: str) -> dict[str, tuple[int, int]]:
    """Row count and a hash of every row of every ingest table but the delivery log."""
    tables = [name for (name,) in query(
        dsn, "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
             " where n.nspname = 'ingest' and c.relkind = 'r' and c.relname <> 'delivery'"
             " order by 1")]
    snapshot = {}
    for name in tables:
        [(count, digest)] = query(dsn, sql.SQL(
            "select count(*), coalesce(sum(hashtext(t::text)::bigint), 0) from {} as t"
        ).format(sql.Identifier("ingest", name)))
        snapshot[name] = (count, digest)
    return snapshot


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz-generated")
    report = generate(out, GeneratorConfig(enterprises=30, nights=1, seed=7, problem_rate=0.03,
                                           workers=1, resend_night=0))
    assert set(report.deliveries.values()) == {"loaded"}
    return out / "landing"


@pytest.fixture(scope="module")
def fuzz_dsn(session_warehouse_factory, generated) -> str:
    """One warehouse for the module, holding the clean deliveries first."""
    dsn = session_warehouse_factory()
    night.prepare(dsn)
    for code in AGENCIES:
        [result] = ingest_agency(dsn, generated, code, date(2026, 11, 10))
        assert result.status == "loaded", result.reason
    return dsn


@pytest.fixture(scope="module")
def clean_counts(fuzz_dsn) -> dict[tuple[str, str], tuple[int, int, int]]:
    rows = query(fuzz_dsn, "select agency, file, rows_delivered, rows_loaded, rows_quarantined"
                           " from credit.file_reconciliation where batch_date = '2026-11-10'")
    return {(a, f): (d, lo, q) for a, f, d, lo, q in rows}


def manifest_files(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text("utf-8"))["files"]


def test_clean_deliveries_load_and_reconcile(clean_counts):
    assert len(clean_counts) == 19
    for (agency, file), (delivered, loaded, quarantined) in clean_counts.items():
        assert delivered == loaded + quarantined, (agency, file)
        assert loaded > 0, (agency, file)


# --- corruptions ----------------------------------------------------------------------------

def _text_codec(declared: str) -> str:
    return "utf-8" if declared.lower().startswith("utf") else "gb18030"


def reencode(content: bytes, source: str) -> bytes:
    """The same text in the other encoding: GB18030 as UTF-8 or UTF-8 as GB18030
    (undecodable bytes stay as they were)."""
    codec = _text_codec(source)
    target = "gb18030" if codec == "utf-8" else "utf-8"
    return content.decode(codec, "surrogateescape").encode(target, "surrogateescape")


def mojibake(content: bytes, source: str) -> bytes:
    """The bytes read in the wrong encoding and written in the right one (double encoding)."""
    codec = _text_codec(source)
    wrong = "gb18030" if codec == "utf-8" else "utf-8"
    return content.decode(wrong, "surrogateescape").encode(codec, "surrogateescape")


def change_columns(content: bytes, fmt: FileFormat, encoding: str, at: float, add: bool,
                   scratch: Path) -> bytes:
    codec = _text_codec(encoding)
    text = content.decode(codec, "surrogateescape")
    if fmt in ("csv", "pipe"):
        # Record by record as the loader cuts them: a record that does not parse is left as it
        # is, a quoted field running over lines stays one record; the record count is kept.
        delimiter = "," if fmt == "csv" else "|"
        header = text.splitlines(keepends=True)[0] if text else ""
        names = header.rstrip("\r\n").split(delimiter)
        column = int(at * len(names))
        path = scratch / "columns.tmp"
        path.write_bytes(content)
        out = []
        for i, cells in enumerate([names, *(
                (list(row.values.values()) if row.values is not None else row.raw)
                for row in read_rows(path, fmt, codec))]):
            if isinstance(cells, str):
                out.append(cells)
                continue
            if add:
                cells = [*cells, "附加列" if i == 0 else f"x{i}"]
            elif column < len(cells):
                cells = cells[:column] + cells[column + 1:]
            buffer = io.StringIO()
            if fmt == "csv":
                csv.writer(buffer, lineterminator="\n").writerow(cells)
            else:
                buffer.write("|".join(cells) + "\n")
            out.append(buffer.getvalue())
        text = "".join(out)
    elif fmt == "jsonl":
        lines = []
        for line in text.splitlines(keepends=True):
            stripped = line.strip().lstrip("\ufeff")
            try:
                record = json.loads(stripped)
            except ValueError:
                lines.append(line)
                continue
            if isinstance(record, dict):
                keys = list(record)
                if add:
                    record["附加"] = "x"
                elif keys:
                    del record[keys[int(at * len(keys))]]
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        text = "".join(lines)
    else:  # xml: the n-th child element of every Declaration
        tags = ["EntryId", "TradeCode", "TradeName", "SocialCreditCode", "IEFlag", "DeclareDate",
                "TotalValue", "HSCode"]
        if add:
            text = text.replace("</Declaration>", "  <Remark>附加</Remark>\n  </Declaration>")
        else:
            tag = tags[int(at * len(tags))]
            text = re.sub(rf"\s*<{tag}\b[^>]*>.*?</{tag}>", "", text)
    return text.encode(codec, "surrogateescape")


def corrupt(content: bytes, case: Corruption, fmt: FileFormat, real: str, scratch: Path) -> bytes:
    if case.kind == "truncate":
        return content[:int(case.at * len(content))]
    if case.kind == "flip":
        data = bytearray(content)
        for where, mask in case.flips:
            data[int(where * len(data))] ^= mask
        return bytes(data)
    if case.kind == "reencode":
        return reencode(content, real)
    if case.kind == "mojibake":
        return mojibake(content, real)
    return change_columns(content, fmt, real, case.at, case.kind == "add_column", scratch)


def write_corrupted(generated: Path, root: Path, case: Corruption) -> tuple[Path, str, date]:
    """Copy the agency's generated delivery under a fresh folder date, corrupt one file."""
    day = FIRST_FUZZ_DAY + timedelta(days=next(_days))
    folder = root / case.agency / day.strftime("%Y%m%d")
    shutil.copytree(generated / case.agency / GENERATED_NIGHT, folder)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    entry = manifest["files"][case.file_pick % len(manifest["files"])]
    feed = get_agency(case.agency).feed_for_file(entry["name"])
    assert feed is not None
    path = folder / entry["name"]
    real = scan_file(path, feed.encoding).encoding  # a generated file may be in the wrong one
    path.write_bytes(corrupt(path.read_bytes(), case, feed.format, real, root))
    if case.fix_sha:
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest["batch_date"] = day.isoformat()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return folder, entry["name"], day


# --- the invariants ---------------------------------------------------------------------------

def check_outcome(dsn: str, folder: Path, day: date, result: DeliveryResult,
                  before: dict[str, tuple[int, int]]) -> None:
    agency = get_agency(result.agency)
    [(status, reason)] = query(dsn, "select status, reason from credit.delivery_status"
                                    " where agency = %s and batch_date = %s", (agency.code, day))
    assert status == result.status
    if status != "loaded":
        assert status in ("rejected", "duplicate")
        assert reason, "a delivery not loaded names its reason"
        # Nothing of it is left: every ingest table is exactly as before, row for row.
        assert ingest_snapshot(dsn) == before
        return
    assert reason is None
    [(delivery_id,)] = query(dsn, "select delivery_id from ingest.delivery where agency = %s"
                                  " and folder = %s and status = 'loaded'", (agency.code, folder.name))
    reconciled = {f: (d, lo, q) for f, d, lo, q in query(
        dsn, "select file, rows_delivered, rows_loaded, rows_quarantined"
             " from credit.file_reconciliation where agency = %s and batch_date = %s",
        (agency.code, day))}
    declared = {e["name"]: int(e["rows"]) for e in manifest_files(folder)}
    assert set(reconciled) == set(declared)
    for name, (delivered, loaded, quarantined) in reconciled.items():
        assert delivered == declared[name] == loaded + quarantined, name
        feed = agency.feed_for_file(name)
        assert feed is not None
        # The counts are the rows really there: no row lost between parse and COPY.
        [(in_table,)] = query(dsn, sql.SQL(
            "select count(distinct line_no) from {} where delivery_id = %s"
        ).format(sql.Identifier("ingest", table_name(agency, feed))), (delivery_id,))
        [(in_quarantine,)] = query(dsn, "select count(*) from ingest.quarantine"
                                        " where delivery_id = %s and file = %s", (delivery_id, name))
        assert (in_table, in_quarantine) == (loaded, quarantined), name


@settings(derandomize=True, max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=corruptions)
def test_a_corrupted_delivery_is_reconciled_or_rejected_whole(fuzz_dsn, generated, clean_counts,
                                                              tmp_path_factory, case):
    root = tmp_path_factory.mktemp("fuzz-landing")
    folder, name, day = write_corrupted(generated, root, case)
    before = ingest_snapshot(fuzz_dsn)
    results = ingest_agency(fuzz_dsn, root, case.agency, day)  # must not raise
    assert [r.folder for r in results] == [folder.name]
    result = results[0]
    check_outcome(fuzz_dsn, folder, day, result, before)
    if not case.fix_sha:
        assert result.status == "rejected" and "sha256" in (result.reason or "")
    elif case.kind == "reencode":
        # Only the bytes changed, not the text: the loader detects the encoding and loads
        # exactly what the clean delivery loaded (or it is the re-send of an earlier example).
        assert result.status in ("loaded", "duplicate"), result.reason
        for changed in (f for f in result.files if f.file == name):
            assert (changed.rows_delivered, changed.rows_loaded, changed.rows_quarantined) \
                == clean_counts[(case.agency, name)]
    elif case.kind in ("add_column", "drop_column", "mojibake"):
        # A changed column set or garbled text is noted or quarantined, never a reason to
        # reject: the row count is intact.
        assert result.status in ("loaded", "duplicate"), result.reason


def test_truncation_mid_file_rejects_the_delivery_whole(fuzz_dsn, generated, tmp_path):
    case = Corruption("aic", 0, "truncate", 0.5, fix_sha=True)
    folder, _, day = write_corrupted(generated, tmp_path, case)
    before = ingest_snapshot(fuzz_dsn)
    [result] = ingest_agency(fuzz_dsn, tmp_path, "aic", day)
    assert result.status == "rejected" and "manifest declares" in (result.reason or "")
    check_outcome(fuzz_dsn, folder, day, result, before)


def test_a_flipped_byte_inside_a_value_is_quarantined_or_kept(fuzz_dsn, generated, tmp_path):
    # 0xFF is never valid in UTF-8: the row holding it is quarantined with its text.
    case = Corruption("court", 0, "flip", 0.0, flips=((0.5, 0xFF),), fix_sha=True)
    folder, name, day = write_corrupted(generated, tmp_path, case)
    before = ingest_snapshot(fuzz_dsn)
    [result] = ingest_agency(fuzz_dsn, tmp_path, "court", day)
    check_outcome(fuzz_dsn, folder, day, result, before)
    assert result.status == "loaded", result.reason
    [changed] = [f for f in result.files if f.file == name]
    assert changed.rows_quarantined >= 1


def test_undecodable_bytes_in_the_header_or_a_record_key_are_kept_as_text(fuzz_dsn, tmp_path):
    # Found by the fuzzing above: a header name or a quarantined record key holding bytes that
    # do not decode made the loader crash on writing them (UnicodeEncodeError) instead of
    # loading the delivery.
    header = (REGISTRATION_HEADER + ",备注").encode("gb18030") + b"\xff"
    good = registration("R1", "I", "沈阳澜天科技有限公司").encode("gb18030") + b",x"
    bad_key = registration("R2", "I", "沈阳甲乙科技有限公司").replace("R2", "R\x002").encode("gb18030")
    bad_key = bad_key.replace(b"\x00", b"\xff") + b",y"
    content = b"\n".join([header, good, bad_key, b""])
    folder = write_delivery(tmp_path, "aic", "20290101", {"registrations.csv": content},
                            {"registrations.csv": 2})
    before = ingest_snapshot(fuzz_dsn)
    [result] = ingest_agency(fuzz_dsn, tmp_path, "aic", date(2029, 1, 1))
    check_outcome(fuzz_dsn, folder, date(2029, 1, 1), result, before)
    assert result.status == "loaded", result.reason
    assert (result.files[0].rows_loaded, result.files[0].rows_quarantined) == (1, 1)
    [(extra,)] = query(fuzz_dsn, "select extra::text from ingest.aic__registrations r"
                                 " join ingest.delivery d using (delivery_id)"
                                 " where d.folder = '20290101'")
    assert "备注\\\\udcff" in extra
    [(key,)] = query(fuzz_dsn, "select record_key from ingest.quarantine q"
                               " join ingest.delivery d using (delivery_id) where d.folder = '20290101'")
    assert key == "R\\udcff2"


@pytest.mark.parametrize(("escape", "folder"), [("\\udcff", "20290201"), ("\\u0000", "20290202"),
                                                 ("\\ud83d", "20290203")])
def test_json_escapes_that_are_not_text_do_not_crash_the_loader(fuzz_dsn, tmp_path, escape, folder):
    # A JSON line can spell, as an escape, a lone surrogate or NUL, which no UTF-8 text or
    # PostgreSQL text/jsonb value can hold: in a value, in a key, in a nested JSON field.
    lines = [
        '{"id": "J1", "op": "I", "ah": "A@", "cprq": "2025-10-04", "parties": []}'.replace("@", escape),
        '{"id": "J2", "op": "I", "ah": "B", "parties": [{"name": "甲@"}]}'.replace("@", escape),
        '{"id": "J3", "op": "I", "ah": "C", "k@": "x", "parties": []}'.replace("@", escape),
        '{"id": "J4", "op": "I", "ah": "D", "parties": []}',
    ]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    path = write_delivery(tmp_path, "court", folder, {"judgments.jsonl": content},
                          {"judgments.jsonl": len(lines)})
    day = date(int(folder[:4]), int(folder[4:6]), int(folder[6:]))
    before = ingest_snapshot(fuzz_dsn)
    [result] = ingest_agency(fuzz_dsn, tmp_path, "court", day)
    check_outcome(fuzz_dsn, path, day, result, before)
    assert result.status == "loaded", result.reason
    assert (result.files[0].rows_loaded, result.files[0].rows_quarantined) == (1, 3)
