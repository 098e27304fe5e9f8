"""Streaming readers for the four delivered formats.

Each reader yields one ``RawRow`` per delivered record, with the record's text as delivered
(for quarantine) and either its values or the reason it cannot be read. Memory stays flat in
the file size: files are read incrementally and nothing but the current record is held.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from xinyong.feeds.spec import FileFormat

_CHUNK = 1 << 20
csv.field_size_limit(1 << 24)


@dataclass
class RawRow:
    line_no: int  # first physical line of the record; the header is line 1
    raw: str
    values: dict[str, Any] | None
    error: str | None = None


@dataclass
class FileScan:
    """What one pass over the bytes tells: checksum and the encoding the text really has."""

    sha256: str
    size: int
    encoding: str
    notes: list[str] = field(default_factory=list)


def scan_file(path: Path, declared_encoding: str) -> FileScan:
    """Checksum the file and detect its real encoding in the same single pass.

    Real GB18030 Chinese text is almost never valid UTF-8, while UTF-8 Chinese often decodes
    as GB18030 without error; so the decision rests on how well the bytes read as UTF-8.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    size = bad = good = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            text = decoder.decode(chunk)
            chunk_bad = len(_SURROGATES.findall(text))
            # Non-ASCII characters counted in C: ASCII encoding drops them and the surrogates.
            good += len(text) - len(text.encode("ascii", "ignore")) - chunk_bad
            bad += chunk_bad
    # A truncated file may end inside a character: the decoder's leftover is not held against it.
    reads_as_utf8 = bad == 0 or good >= 20 * bad
    encoding = "utf-8" if reads_as_utf8 else "gb18030"
    notes = []
    if _family(encoding) != _family(declared_encoding) and good + bad > 0:
        notes.append(f"delivered in {encoding}, contract says {declared_encoding}")
    return FileScan(digest.hexdigest(), size, encoding, notes)


_SURROGATES = re.compile("[\udc80-\udcff]")


def _family(encoding: str) -> str:
    return "utf-8" if encoding.lower().replace("_", "-").startswith("utf") else "gb18030"


def open_text(path: Path, encoding: str) -> IO[str]:
    # utf-8-sig drops a BOM; undecodable bytes survive as surrogates so the row is quarantined
    # with its text instead of the whole file failing.
    codec = "utf-8-sig" if _family(encoding) == "utf-8" else "gb18030"
    return io.TextIOWrapper(path.open("rb"), encoding=codec, errors="surrogateescape", newline="")


def read_rows(path: Path, fmt: FileFormat, encoding: str) -> Iterator[RawRow]:
    with open_text(path, encoding) as text:
        if fmt == "csv":
            yield from _read_csv(text)
        elif fmt == "pipe":
            yield from _read_pipe(text)
        elif fmt == "jsonl":
            yield from _read_jsonl(text)
        else:
            yield from _read_xml(text)


def has_undecodable(text: str) -> bool:
    return bool(_SURROGATES.search(text))


def _header(cells: list[str]) -> list[str]:
    # A header with undecodable bytes names its columns with them escaped (\udcNN): the
    # names become keys of ``extra`` and words of the file's notes, which must be valid text.
    return [c.strip().lstrip("\ufeff").strip().encode("utf-8", "backslashreplace").decode("utf-8")
            .replace("\x00", "\\x00") for c in cells]


def _read_csv(text: IO[str]) -> Iterator[RawRow]:
    consumed: list[str] = []
    line_counter = [0]

    def lines() -> Iterator[str]:
        for line in text:
            line_counter[0] += 1
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), strict=True)
    try:
        header = _header(next(reader))
    except (StopIteration, csv.Error):
        return
    consumed.clear()
    while True:
        first_line = line_counter[0] + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raw = "".join(consumed)
            consumed.clear()
            yield RawRow(first_line, raw, None, f"unparseable CSV: {exc}")
            continue
        raw = "".join(consumed)
        consumed.clear()
        if not cells or cells == [""]:
            continue  # a blank line is not a record
        yield _cells_to_row(first_line, raw, header, cells)


def _read_pipe(text: IO[str]) -> Iterator[RawRow]:
    header: list[str] | None = None
    for line_no, line in enumerate(text, start=1):
        content = line.rstrip("\r\n")
        if header is None:
            header = _header(content.split("|"))
            continue
        if not content.strip():
            continue
        yield _cells_to_row(line_no, line, header, content.split("|"))


def _cells_to_row(line_no: int, raw: str, header: list[str], cells: list[str]) -> RawRow:
    if len(cells) != len(header):
        return RawRow(line_no, raw, None,
                      f"expected {len(header)} fields as in the header, found {len(cells)}")
    return RawRow(line_no, raw, dict(zip(header, cells, strict=True)))


def _read_jsonl(text: IO[str]) -> Iterator[RawRow]:
    for line_no, line in enumerate(text, start=1):
        content = line.strip().lstrip("\ufeff")
        if not content:
            continue
        try:
            value = json.loads(content)
        except ValueError as exc:
            yield RawRow(line_no, line, None, f"unparseable JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield RawRow(line_no, line, None, "JSON line is not an object")
            continue
        # Only a backslash-u escape spells NUL or a surrogate in JSON (json.loads refuses a raw control
        # character in a string); most lines have none and skip the walk through the value.
        if "\\u" in line and not has_undecodable(line) and _holds_non_text(value):
            yield RawRow(line_no, line, None,
                         "JSON line escapes a character that is not text (\\u0000 or a lone surrogate)")
            continue
        yield RawRow(line_no, line, value)


_NON_TEXT = re.compile("[\x00\ud800-\udfff]")


def _holds_non_text(value: Any) -> bool:
    """A JSON string escape can spell NUL or half a surrogate pair: neither is text that
    UTF-8 or PostgreSQL can hold, in a value or in a key, at any depth."""
    if isinstance(value, str):
        return bool(_NON_TEXT.search(value))
    if isinstance(value, dict):
        return any(_holds_non_text(k) or _holds_non_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_non_text(v) for v in value)
    return False


_DECL_START = re.compile(r"<Declaration[\s>/]")
_DECL_END = "</Declaration>"


def _read_xml(text: IO[str]) -> Iterator[RawRow]:
    """Cut the stream into <Declaration> elements and parse each on its own.

    A broken element (or one cut off by truncation) is quarantined alone instead of making
    the rest of the document unreadable, as one strict parse of the whole file would.
    """
    buffer = ""
    pos = 0  # what precedes it in ``buffer`` is consumed
    line_no = 1  # line number at ``pos``
    while True:
        chunk = text.read(_CHUNK)
        buffer += chunk
        # Elements are cut at positions, and the buffer trimmed once per chunk: trimming it
        # after every element copied the rest of the chunk each time (quadratic in elements
        # per chunk; three quarters of the parse time of a customs file).
        while True:
            start = _DECL_START.search(buffer, pos)
            if not start:
                break
            next_start = _DECL_START.search(buffer, start.end())
            end = buffer.find(_DECL_END, start.start())
            if end != -1 and (next_start is None or end < next_start.start()):
                stop = end + len(_DECL_END)
            elif next_start is not None:
                stop = next_start.start()  # this element never closes before the next opens
            else:
                break  # need more text
            line_no += buffer.count("\n", pos, start.start())
            element_text = buffer[start.start():stop]
            yield _xml_element_row(line_no, element_text)
            line_no += element_text.count("\n")
            pos = stop
        if not chunk:
            break
        # Keep an unfinished element, or else a tail that may hold the start of one.
        pending = _DECL_START.search(buffer, pos)
        keep_from = pending.start() if pending else max(buffer.rfind("<", pos), pos)
        line_no += buffer.count("\n", pos, keep_from)
        buffer, pos = buffer[keep_from:], 0
    tail = _DECL_START.search(buffer, pos)
    if tail:
        line_no += buffer.count("\n", pos, tail.start())
        yield RawRow(line_no, buffer[tail.start():], None, "truncated Declaration element")


def _xml_element_row(line_no: int, element_text: str) -> RawRow:
    if not element_text.rstrip().endswith(_DECL_END):
        return RawRow(line_no, element_text, None, "Declaration element is not closed")
    try:
        element = etree.fromstring(element_text)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return RawRow(line_no, element_text, None, f"unparseable XML: {exc}")
    values: dict[str, Any] = dict(element.attrib)
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        values[child.tag] = (child.text or "").strip()
        for attribute, value in child.attrib.items():
            values[f"{child.tag}@{attribute}"] = value
    return RawRow(line_no, element_text, values)
