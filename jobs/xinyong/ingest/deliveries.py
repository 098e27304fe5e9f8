"""Deliveries: find them, verify them against their manifests, load them whole or not at all.

A delivery is loaded in one transaction: its rows, its quarantine, its reconciliation and
its status commit together, so a night killed half-way leaves no half-loaded delivery and
running it again picks up exactly where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from psycopg2 import sql

from xinyong.feeds import agency as get_agency
from xinyong.feeds.readers import FileScan, read_rows, scan_file
from xinyong.feeds.spec import Agency, Feed
from xinyong.ingest.records import parse_record
from xinyong.timing import timed_step
from xinyong.warehouse.db import transaction
from xinyong.warehouse.schema import staged_columns, table_name

log = logging.getLogger(__name__)


class DeliveryRejected(Exception):
    """The delivery does not match its manifest; nothing of it may be loaded."""


# The parts of loading a parsed file (FileResult.load_step_seconds): COPY into the feed's table, its
# indexes rebuilt (a first load only: they are dropped before its COPY), ANALYZE (a first load),
# replaced versions closed (I/U/D), the quarantined rows COPYed.
LOAD_STEPS = ("copy", "indexes", "analyze", "versions", "quarantine")


@dataclass
class FileResult:
    file: str
    feed: str
    encoding: str
    sha256: str
    rows_delivered: int
    rows_loaded: int = 0
    rows_quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    # Wall time reading and parsing the file into rows for COPY, and loading them: COPY into
    # the feed's table and I/U/D applied (the bench's two stages); the load by step (LOAD_STEPS).
    parse_seconds: float = 0.0
    load_seconds: float = 0.0
    load_step_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class DeliveryResult:
    agency: str
    folder: str
    status: str  # loaded / rejected / duplicate / skipped (already seen)
    reason: str | None = None
    files: list[FileResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency, "folder": self.folder, "status": self.status,
            "reason": self.reason,
            "files": [vars(f) for f in self.files],
        }


def pending_folders(landing: Path, agency: Agency, run_date: date) -> list[Path]:
    """The agency's delivery folders dated up to run_date, oldest first."""
    base = landing / agency.code
    if not base.is_dir():
        return []
    folders = []
    for child in base.iterdir():
        folder_date = _folder_date(child.name)
        if child.is_dir() and folder_date is not None and folder_date <= run_date:
            folders.append(child)
    return sorted(folders, key=lambda p: p.name)


def _folder_date(name: str) -> date | None:
    try:
        return datetime.strptime(name, "%Y%m%d").date()
    except ValueError:
        return None


def ingest_agency(dsn: str, landing: Path, agency_code: str, run_date: date) -> list[DeliveryResult]:
    """Load every not-yet-seen delivery of one agency up to run_date, in date order."""
    agency = get_agency(agency_code)
    results = []
    for folder in pending_folders(landing, agency, run_date):
        results.append(load_delivery(dsn, agency, folder))
    return results


def load_delivery(dsn: str, agency: Agency, folder: Path) -> DeliveryResult:
    folder_date = _folder_date(folder.name)
    assert folder_date is not None
    try:
        manifest, scans = verify_manifest(agency, folder)
        fingerprint = _fingerprint(scans)
    except DeliveryRejected as exc:
        manifest, scans, fingerprint = {}, {}, _folder_fingerprint(folder)
        rejection: str | None = str(exc)
    else:
        rejection = None

    with tempfile.TemporaryDirectory(prefix="xinyong-stage-") as scratch, \
            transaction(dsn, application=f"xinyong-ingest-{agency.code}") as conn, \
            conn.cursor() as cursor:
        # One loader per agency at a time; a second waits, then sees the work as done.
        cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{agency.code}",))
        cursor.execute(
            "select status from ingest.delivery where agency = %s and folder = %s "
            "and fingerprint = %s", (agency.code, folder.name, fingerprint))
        seen = cursor.fetchone()
        if seen is not None:
            return DeliveryResult(agency.code, folder.name, "skipped", f"already {seen[0]}")
        if rejection is None:
            cursor.execute(
                "select delivery_id, folder from ingest.delivery where agency = %s "
                "and fingerprint = %s and status = 'loaded' order by delivery_id limit 1",
                (agency.code, fingerprint))
            earlier = cursor.fetchone()
            if earlier is not None:
                reason = f"same content as delivery {earlier[1]}"
                _record_delivery(cursor, agency, folder, manifest, fingerprint, "duplicate",
                                 reason, duplicate_of=earlier[0])
                return DeliveryResult(agency.code, folder.name, "duplicate", reason)
            cursor.execute("savepoint before_load")
            try:
                delivery_id = _record_delivery(cursor, agency, folder, manifest, fingerprint,
                                               "loaded", None)
                files = _load_files(cursor, agency, folder, manifest, scans, delivery_id,
                                    folder_date, Path(scratch))
            except DeliveryRejected as exc:
                cursor.execute("rollback to savepoint before_load")
                rejection = str(exc)
            else:
                log.info("loaded %s/%s: %s", agency.code, folder.name,
                         {f.file: (f.rows_loaded, f.rows_quarantined) for f in files})
                return DeliveryResult(agency.code, folder.name, "loaded", None, files)
        _record_delivery(cursor, agency, folder, manifest, fingerprint, "rejected", rejection)
        log.warning("rejected %s/%s: %s", agency.code, folder.name, rejection)
        return DeliveryResult(agency.code, folder.name, "rejected", rejection)


def verify_manifest(agency: Agency, folder: Path) -> tuple[dict[str, Any], dict[str, FileScan]]:
    """Files present and their checksums as the manifest says (row counts are checked while
    parsing). Raises DeliveryRejected with the reason."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise DeliveryRejected("manifest.json is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
        entries = manifest["files"]
        names = [entry["name"] for entry in entries]
        for entry in entries:
            int(entry["rows"])
            str(entry["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryRejected(f"manifest.json is unreadable: {exc}") from None
    if manifest.get("agency") not in (None, agency.code):
        raise DeliveryRejected(f"manifest names agency {manifest.get('agency')!r}")
    if len(set(names)) != len(names):
        raise DeliveryRejected("manifest lists a file twice")
    scans: dict[str, FileScan] = {}
    for entry in entries:
        name = entry["name"]
        feed = agency.feed_for_file(name)
        if feed is None:
            raise DeliveryRejected(f"manifest lists {name}, which is not a file of {agency.code}")
        path = folder / name
        if not path.is_file():
            raise DeliveryRejected(f"{name} is missing")
        scan = scan_file(path, feed.encoding)
        if scan.sha256 != str(entry["sha256"]).lower():
            raise DeliveryRejected(f"{name}: sha256 {scan.sha256} does not match the manifest")
        scans[name] = scan
    return manifest, scans


def _fingerprint(scans: dict[str, FileScan]) -> str:
    digest = hashlib.sha256()
    for name in sorted(scans):
        digest.update(f"{name}:{scans[name].sha256}\n".encode())
    return digest.hexdigest()


def _folder_fingerprint(folder: Path) -> str:
    """For a rejected delivery: identifies the folder's content as it was when rejected."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode())
            with path.open("rb") as handle:  # streamed: a delivery file may be gigabytes
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return "rejected:" + digest.hexdigest()


def _record_delivery(cursor, agency: Agency, folder: Path, manifest: dict[str, Any],
                     fingerprint: str, status: str, reason: str | None,
                     duplicate_of: int | None = None) -> int:
    cursor.execute(
        "insert into ingest.delivery (agency, folder, batch_date, manifest_batch_date, mode,"
        " fingerprint, status, reason, duplicate_of) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " returning delivery_id",
        (agency.code, folder.name, _folder_date(folder.name), _manifest_date(manifest),
         manifest.get("mode"), fingerprint, status, reason, duplicate_of))
    return int(cursor.fetchone()[0])


def _manifest_date(manifest: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(manifest.get("batch_date")))
    except ValueError:
        return None


def _load_files(cursor, agency: Agency, folder: Path, manifest: dict[str, Any],
                scans: dict[str, FileScan], delivery_id: int, batch_date: date,
                scratch: Path) -> list[FileResult]:
    results = []
    for entry in manifest["files"]:
        feed = agency.feed_for_file(entry["name"])
        assert feed is not None
        rows_path = scratch / f"{feed.feed}.rows.csv"
        quarantine_path = scratch / f"{feed.feed}.quarantine.csv"
        keys = KeyOrderWatch()
        result = _parse_file(feed, folder / feed.file, scans[entry["name"]], int(entry["rows"]),
                             delivery_id, batch_date, rows_path, quarantine_path, keys)
        started = time.perf_counter()
        _add_versions(cursor, agency, feed, rows_path, delivery_id, batch_date, keys.suspects,
                      result.load_step_seconds)
        with timed_step(result.load_step_seconds, "quarantine", None), \
                quarantine_path.open("r", encoding="utf-8") as quarantine_in:
            cursor.copy_expert(
                "copy ingest.quarantine (delivery_id, file, line_no, record_key, reason, raw_text)"
                " from stdin with (format csv)", quarantine_in)
        result.load_seconds = time.perf_counter() - started
        cursor.execute(
            "insert into ingest.file_load (delivery_id, file, feed, encoding, sha256,"
            " rows_delivered, rows_loaded, rows_quarantined, notes)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (delivery_id, result.file, result.feed, result.encoding, result.sha256,
             result.rows_delivered, result.rows_loaded, result.rows_quarantined,
             json.dumps(result.notes, ensure_ascii=False)))
        results.append(result)
    return results


def _parse_file(feed: Feed, path: Path, scan: FileScan, rows_declared: int, delivery_id: int,
                batch_date: date, rows_path: Path, quarantine_path: Path,
                keys: KeyOrderWatch) -> FileResult:
    """Parse the file into CSV for COPY (streaming, to disk): the versions it delivers, in
    _version_columns order, and its quarantined lines. Nothing reaches the warehouse here."""
    result = FileResult(feed.file, feed.feed, scan.encoding, scan.sha256, rows_declared,
                        notes=list(scan.notes))
    seen_sources: Counter[str] = Counter()
    delivered = 0
    started = time.perf_counter()
    with rows_path.open("w", encoding="utf-8", newline="") as rows_out, \
            quarantine_path.open("w", encoding="utf-8", newline="") as quarantine_out:
        rows_writer = csv.writer(rows_out)
        quarantine_writer = csv.writer(quarantine_out)
        for raw in read_rows(path, feed.format, scan.encoding):
            delivered += 1
            if raw.values is not None and delivered <= 50:
                seen_sources.update(raw.values.keys())
            parsed = parse_record(feed, raw)
            if parsed.quarantine_reason is not None:
                result.rows_quarantined += 1
                quarantine_writer.writerow([
                    delivery_id, feed.file, raw.line_no,
                    None if parsed.record_key is None else _printable(parsed.record_key),
                    _printable(parsed.quarantine_reason), _printable(raw.raw)])
                continue
            result.rows_loaded += 1
            keys.see(parsed.record_key, parsed.op)
            rows_writer.writerows([delivery_id, batch_date, *row] for row in parsed.rows)
    if delivered != rows_declared:
        raise DeliveryRejected(
            f"{feed.file}: manifest declares {rows_declared} rows, the file holds {delivered}")
    result.notes += _column_notes(feed, seen_sources)
    result.parse_seconds = time.perf_counter() - started
    return result


class KeyOrderWatch:
    """The record keys of a file that may need closing in it: those that can repeat an
    earlier line's key (not above every key before them) and deletions. Deliveries come
    sorted by key nearly throughout, so this is a few keys instead of a pass over all the
    file's rows in SQL; past LIMIT it gives up (None: check every key)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.highest: str | None = None
        self.suspects: set[str] | None = set()

    def see(self, record_key: str | None, op: str | None) -> None:
        if record_key is None or self.suspects is None:
            return
        if op == "D" or (self.highest is not None and record_key <= self.highest):
            self.suspects.add(record_key)
            if len(self.suspects) > self.LIMIT:
                self.suspects = None
        else:
            self.highest = record_key


def _version_columns(feed: Feed) -> list[str]:
    """The columns of the parsed CSV: the delivery and its date, then what the parser wrote.
    valid_to and closed_by start null (current) and are set by _close_replaced_versions."""
    return ["delivery_id", "valid_from", *staged_columns(feed)]


def _add_versions(cursor, agency: Agency, feed: Feed, rows_path: Path, delivery_id: int,
                  batch_date: date, suspects: set[str] | None, steps: dict[str, float]) -> None:
    """COPY the delivered versions straight into the feed's table, then apply I/U/D; the wall
    time of each part is added to ``steps`` (LOAD_STEPS).

    The first load of a feed (its whole history, tens of millions of rows at full scale) goes
    into the empty table without its indexes, which are rebuilt after it: one sort per index
    instead of a B-tree insertion per row and index. Everything is in the delivery's
    transaction, so a failure restores the indexes with the rest."""
    table = sql.Identifier("ingest", table_name(agency, feed))
    cursor.execute(sql.SQL("select exists (select from {})").format(table))
    first_load = not cursor.fetchone()[0]
    index_definitions = _drop_indexes(cursor, table) if first_load else []
    with timed_step(steps, "copy", None), rows_path.open("r", encoding="utf-8") as rows_in:
        cursor.copy_expert(sql.SQL("copy {} ({}) from stdin with (format csv)").format(
            table, sql.SQL(", ").join(map(sql.Identifier, _version_columns(feed)))
        ).as_string(cursor), rows_in)
    if first_load:
        with timed_step(steps, "indexes", None):
            for definition in index_definitions:
                cursor.execute(definition)
        with timed_step(steps, "analyze", None):
            cursor.execute(sql.SQL("analyze {}").format(table))
    with timed_step(steps, "versions", None):
        _close_replaced_versions(cursor, table, feed, first_load, delivery_id, batch_date, suspects)


def _drop_indexes(cursor, table: sql.Identifier) -> list[str]:
    """Drop the table's indexes (those behind no constraint); return how to rebuild them."""
    cursor.execute(sql.SQL(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index as i"
        " where i.indrelid = {}::regclass"
        " and not exists (select from pg_constraint as c where c.conindid = i.indexrelid)"
    ).format(sql.Literal(table.as_string(cursor))))
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(sql.SQL("drop index {}").format(sql.SQL(name)))
    return [definition for _, definition in indexes]


def _close_replaced_versions(cursor, table: sql.Identifier, feed: Feed, first_load: bool,
                             delivery_id: int, batch_date: date, suspects: set[str] | None) -> None:
    """Close the current versions of every key the delivery touches; when the delivery
    touches a key several times its last line is the one that stays current (the rows of one
    line, e.g. a judgment's parties, stay current together); D leaves a closed tombstone.
    The delivery's rows are all current until then: "valid_to is null" lets the suspects be
    looked up in the index of current versions instead of a scan of the table (on record_id
    where it is the record key: schema.ensure_feed_tables keeps one index of the two)."""
    params = {"d": batch_date, "id": delivery_id, "keys": list(suspects or ())}
    # Where record_id is the record key, the rows are found by it (its index); else by key.
    key = sql.Identifier("record_id" if feed.record_id_is_key else "record_key")
    if not first_load:
        cursor.execute(sql.SQL(
            "update {table} as t set valid_to = %(d)s, closed_by = %(id)s"
            " from (select distinct record_key from {table} where delivery_id = %(id)s) as k"
            " where t.{key} = k.record_key and t.valid_to is null"
            " and t.delivery_id <> %(id)s"
        ).format(table=table, key=key), params)
    cursor.execute(sql.SQL(
        "update {table} as t set valid_to = %(d)s, closed_by = %(id)s"
        " from (select record_key, max(line_no) as last_line from {table}"
        "       where delivery_id = %(id)s and valid_to is null {among_suspects}"
        "       group by record_key"
        "       having min(line_no) < max(line_no) or bool_or(op = 'D')) as k"
        " where t.delivery_id = %(id)s and t.{key} = k.record_key and t.valid_to is null"
        " and (t.line_no < k.last_line or t.op = 'D')"
    ).format(table=table, key=key, among_suspects=sql.SQL(
        "" if suspects is None else "and {} = any(%(keys)s::text[])").format(key)), params)


def _column_notes(feed: Feed, seen_sources: Counter[str]) -> list[str]:
    if not seen_sources:
        return []
    expected = {f.source.split("@")[0] for f in feed.fields} | {feed.key, feed.op}
    present = {s.split("@")[0] for s in seen_sources}
    notes = []
    missing = sorted(expected - present)
    extra = sorted(present - expected - {f.source for f in feed.fields})
    if missing:
        notes.append(f"columns missing (loaded as null): {', '.join(missing)}")
    if extra:
        notes.append(f"columns not in the contract (kept in extra): {', '.join(extra)}")
    return notes


def _printable(text: str) -> str:
    """Raw text for the quarantine table: undecodable bytes shown as \\xNN, no NULs."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
