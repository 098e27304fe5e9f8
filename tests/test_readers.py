"""Readers on the contract's file-level problems: encodings, BOM, CRLF, quoting, truncation."""

from pathlib import Path

import pytest

from xinyong.feeds import readers
from xinyong.feeds.readers import read_rows, scan_file

from .landing import REGISTRATION_HEADER, csv_file, registration

RARE = "𠀾"  # encodable in GB18030, not in GBK


def _write(tmp_path: Path, content: bytes, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_gb18030_only_characters_survive(tmp_path):
    with pytest.raises(UnicodeEncodeError):
        RARE.encode("gbk")
    name = f"沈阳{RARE}科技有限公司"
    path = _write(tmp_path, csv_file(REGISTRATION_HEADER, [registration("R1", "I", name)]))
    scan = scan_file(path, "gb18030")
    rows = list(read_rows(path, "csv", scan.encoding))
    assert scan.encoding == "gb18030" and rows[0].values["企业名称"] == f"沈阳{RARE}科技有限公司"


def test_a_gb18030_file_delivered_as_utf8_is_detected(tmp_path):
    path = _write(tmp_path, csv_file(REGISTRATION_HEADER, [registration("R1", "I", "沈阳澜天科技有限公司")],
                                     encoding="utf-8"))
    scan = scan_file(path, "gb18030")
    assert scan.encoding == "utf-8" and scan.notes
    rows = list(read_rows(path, "csv", scan.encoding))
    assert rows[0].values["企业名称"] == "沈阳澜天科技有限公司"


def test_a_utf8_file_delivered_as_gb18030_is_detected(tmp_path):
    text = "record_id,op,trade_code,social_credit_code,name,credit_level,effective_date\n" \
           "H1,I,2101964450,,沈阳名珠进出口贸易有限公司,一般信用企业,2010-08-18\n"
    path = _write(tmp_path, text.encode("gb18030"))
    scan = scan_file(path, "utf-8")
    assert scan.encoding == "gb18030"
    assert next(read_rows(path, "csv", scan.encoding)).values["name"] == "沈阳名珠进出口贸易有限公司"


def test_bom_crlf_and_newline_inside_quotes(tmp_path):
    lines = [registration("R1", "I", "甲公司"), registration("R2", "I", '"乙\r\n公司"')]
    path = _write(tmp_path, b"\xef\xbb\xbf" + csv_file(REGISTRATION_HEADER, lines, encoding="utf-8",
                                                        newline="\r\n"))
    rows = list(read_rows(path, "csv", scan_file(path, "utf-8").encoding))
    assert [r.values["记录ID"] for r in rows] == ["R1", "R2"]
    assert rows[1].values["企业名称"] == "乙\r\n公司"
    assert rows[1].line_no == 3 and "乙" in rows[1].raw


def test_wrong_field_count_is_an_error_row_not_a_crash(tmp_path):
    path = _write(tmp_path, csv_file(REGISTRATION_HEADER, [registration("R1", "I", "甲"), "R2,I,broken",
                                                           registration("R3", "I", "丙")]))
    rows = list(read_rows(path, "csv", "gb18030"))
    assert [r.error is None for r in rows] == [True, False, True]
    assert rows[1].raw == "R2,I,broken\n"


def test_truncated_jsonl_and_pipe(tmp_path):
    jsonl = _write(tmp_path, b'{"id": "A", "op": "I"}\n{"id": "B", "op', "a.jsonl")
    rows = list(read_rows(jsonl, "jsonl", "utf-8"))
    assert rows[0].values == {"id": "A", "op": "I"} and rows[1].error
    pipe = _write(tmp_path, b"record_id|op|nsrsbh\nA|I|1\nB|I", "b.txt")
    rows = list(read_rows(pipe, "pipe", "utf-8"))
    assert rows[0].values["nsrsbh"] == "1" and rows[1].error


DECL = ('<Declaration id="{id}" op="I"><EntryId>1</EntryId><TradeCode>2101964450</TradeCode>'
        '<TradeName>甲</TradeName><TotalValue currency="USD">1.5</TotalValue></Declaration>\n')


def test_xml_broken_and_truncated_elements_are_isolated(tmp_path):
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<Declarations>\n' + DECL.format(id="D1")
            + '<Declaration id="D2" op="I"><EntryId>2</Entry></Declaration>\n'
            + DECL.format(id="D3") + DECL.format(id="D4")[:40])
    path = _write(tmp_path, text.encode(), "d.xml")
    rows = list(read_rows(path, "xml", "utf-8"))
    assert [(r.values or {}).get("id") for r in rows] == ["D1", None, "D3", None]
    assert rows[0].values["TotalValue@currency"] == "USD"
    assert rows[1].error.startswith("unparseable XML") and rows[3].error
    assert rows[2].line_no == 5


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_xml_read_in_chunks_of_any_size_gives_the_same_rows(tmp_path, monkeypatch, chunk):
    """Elements, their line numbers and the broken ones do not depend on where the reader's
    chunks end (an element or its closing tag cut between two reads)."""
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<Declarations>\n'
            + "".join(DECL.format(id=f"D{i}") for i in range(1, 6))
            + '<Declaration id="D6" op="I"><EntryId>6</Entry></Declaration>\n\n'
            + '<Declaration id="D7" op="I"><EntryId>7</EntryId>\n'  # never closed
            + DECL.format(id="D8") + DECL.format(id="D9")[:50])
    path = _write(tmp_path, text.encode(), "d.xml")
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    rows = list(read_rows(path, "xml", "utf-8"))
    assert [((r.values or {}).get("id"), r.line_no, r.error is None) for r in rows] == [
        ("D1", 3, True), ("D2", 4, True), ("D3", 5, True), ("D4", 6, True), ("D5", 7, True),
        (None, 8, False), (None, 10, False), ("D8", 11, True), (None, 12, False)]
    assert rows[6].error == "Declaration element is not closed"
    assert rows[-1].error == "truncated Declaration element"
    assert [r.raw for r in rows[:5]] == [DECL.format(id=f"D{i}").rstrip("\n") for i in range(1, 6)]
    assert rows[6].raw.rstrip() == '<Declaration id="D7" op="I"><EntryId>7</EntryId>'


def test_undecodable_bytes_stay_in_the_row(tmp_path):
    content = csv_file(REGISTRATION_HEADER, [registration("R1", "I", "甲")], encoding="utf-8")
    path = _write(tmp_path, content + b"R2,I," + b"\xff\xfe" + b",x\n")
    rows = list(read_rows(path, "csv", scan_file(path, "utf-8").encoding))
    assert rows[0].values["企业名称"] == "甲" and len(rows) == 2
