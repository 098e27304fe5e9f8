"""From a delivered record to warehouse rows: typed values, repaired codes, the mention.

Pure functions of (feed spec, raw row). A record that cannot be used yields a quarantine
reason instead of rows; a single unreadable value only becomes null with a note in
``issues``, because the rest of the record is still evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from xinyong import ids, values
from xinyong.feeds.readers import RawRow, has_undecodable
from xinyong.feeds.spec import Feed, Field, Mention
from xinyong.names import core_name, is_branch_name, normalize_name
from xinyong.pii import protect_id_number
from xinyong.warehouse.schema import MENTION_COLUMNS

OPS = frozenset({"I", "U", "D"})


@dataclass
class Parsed:
    rows: list[list[Any]]  # in schema.staged_columns order
    quarantine_reason: str | None = None
    record_key: str | None = None
    op: str | None = None


def parse_record(feed: Feed, raw: RawRow) -> Parsed:
    if raw.values is None:
        return Parsed([], raw.error or "unreadable record")
    if has_undecodable(raw.raw):
        return Parsed([], "bytes that do not decode in the file's encoding",
                      _text(raw.values.get(feed.key)))
    record_key = _text(raw.values.get(feed.key))
    if record_key is None:
        return Parsed([], f"missing record key ({feed.key})")
    op = (_text(raw.values.get(feed.op)) or "").upper()
    if op not in OPS:
        return Parsed([], f"invalid operation code {raw.values.get(feed.op)!r}", record_key)

    typed: dict[str, Any] = {}
    columns: list[Any] = []
    issues: dict[str, str] = {}
    codes: dict[str, ids.Code | None] = {}
    for f in feed.fields:
        columns += _READERS.get(f.type, _read_text)(f, raw.values.get(f.source), typed, issues, codes)
    known = feed.known_sources
    # Most records hold exactly the known columns: a set test on the keys' view, not a dict.
    extra = {} if raw.values.keys() <= known else {
        k: v for k, v in raw.values.items() if k not in known}

    mentions = (feed.mentions(record_key, typed) if feed.mentions
                else [_default_mention(feed, record_key, typed, raw.values)])
    if not mentions:  # e.g. a judgment without parties: kept, but names nobody
        mentions = [Mention(record_id=record_key, name=None, codes=())]
    rows = []
    for mention in mentions:
        row = [raw.line_no, record_key, mention.record_id, op, *columns]
        row += [mention.attributes.get(name) for name, _ in feed.mention_columns]
        row += _mention_columns(mention, codes, typed.get(feed.named_on_field or ""))
        row += [_json(extra), _json(issues)]
        rows.append(row)
    return Parsed(rows, None, record_key, op)


FieldReader = Callable[
    [Field, Any, dict[str, Any], dict[str, str], dict[str, "ids.Code | None"]], list[Any]]


def _read_json(f: Field, delivered: Any, typed: dict[str, Any], issues: dict[str, str],
               codes: dict[str, ids.Code | None]) -> list[Any]:
    typed[f.name] = delivered
    return [None if delivered is None else json.dumps(delivered, ensure_ascii=False)]


def _read_code(f: Field, delivered: Any, typed: dict[str, Any], issues: dict[str, str],
               codes: dict[str, ids.Code | None]) -> list[Any]:
    text = _text(delivered)
    code = ids.classify(text, f.codes)
    codes[f.name] = code
    typed[f.name] = code
    if code is None:
        return [text, None, None, None]
    return [text, code.cleaned, code.kind, code.valid]


def _read_person_id(f: Field, delivered: Any, typed: dict[str, Any], issues: dict[str, str],
                    codes: dict[str, ids.Code | None]) -> list[Any]:
    return list(protect_id_number(_text(delivered)))


def _read_text(f: Field, delivered: Any, typed: dict[str, Any], issues: dict[str, str],
               codes: dict[str, ids.Code | None]) -> list[Any]:
    text = typed[f.name] = _text(delivered)
    return [text]


def _read_parsed(parser: Callable[[str | None], Any]) -> FieldReader:
    """A typed value; an unreadable one becomes null with the delivered text in ``issues``."""
    def read(f: Field, delivered: Any, typed: dict[str, Any], issues: dict[str, str],
             codes: dict[str, ids.Code | None]) -> list[Any]:
        text = _text(delivered)
        try:
            value = parser(text)
        except ValueError:
            issues[f.name] = text or ""
            value = None
        typed[f.name] = value
        return [value]
    return read


# A field's columns by its type (a dict lookup per field: this runs for every delivered value).
_READERS: dict[str, FieldReader] = {
    "json": _read_json,
    "code": _read_code,
    "person_id": _read_person_id,
    "text": _read_text,
    "date": _read_parsed(values.parse_date),
    "amount": _read_parsed(values.parse_amount),
    "int": _read_parsed(values.parse_int),
    "period": _read_parsed(values.parse_period),
}


def _default_mention(feed: Feed, record_key: str, typed: Mapping[str, Any],
                     delivered: Mapping[str, Any]) -> Mention:
    name = typed.get(feed.name_field) if feed.name_field else None
    hint = typed.get(feed.branch_hint_field) if feed.branch_hint_field else None
    return Mention(
        record_id=record_key,
        name=name,
        codes=(),
        is_branch_hint=is_branch_name(hint) or is_branch_name(name),
        legal_rep=typed.get(feed.legal_rep_field) if feed.legal_rep_field else None,
        former_name=typed.get(feed.former_name_field) if feed.former_name_field else None,
    )


def _mention_columns(mention: Mention, codes: Mapping[str, ids.Code | None],
                     named_on: date | None) -> list[Any]:
    """ent_* columns: the valid codes of the record by kind, whatever column they came in,
    the name's normal forms, the first code too damaged to be a key (weak evidence) and the
    date the record names the enterprise as of."""
    if mention.name is None and not codes:
        return [None] * len(MENTION_COLUMNS)
    found = (*codes.values(), *(ids.classify(raw, kinds) for raw, kinds in mention.codes))
    return [*_identity_columns(mention.name, found, mention.is_branch_hint, mention.legal_rep,
                               mention.former_name), named_on]


@lru_cache(maxsize=1 << 18)  # an enterprise's name and codes recur in all its records
def _identity_columns(name: str | None, found: tuple[ids.Code | None, ...], is_branch_hint: bool,
                      legal_rep: str | None, former_name: str | None) -> tuple[Any, ...]:
    """The ent_* columns but the date (``_mention_columns``)."""
    by_kind: dict[str, str] = {}
    derived_org: str | None = None
    weak_code: str | None = None
    for code in found:
        if code is None or code.kind is None or code.cleaned is None:
            continue
        if not code.valid:
            weak_code = weak_code or f"{code.kind}:{code.cleaned}"
            continue
        by_kind.setdefault(code.kind, code.cleaned)
        derived_org = derived_org or code.org
    if name is None and not by_kind:
        return (None,) * (len(MENTION_COLUMNS) - 1)
    name_norm = normalize_name(name)
    return (
        name,
        name_norm,
        by_kind.get("uscc"),
        by_kind.get("org") or derived_org,
        by_kind.get("regno"),
        by_kind.get("taxno"),
        by_kind.get("customs"),
        is_branch_hint or is_branch_name(name),
        legal_rep,
        core_name(name_norm),
        normalize_name(former_name),
        weak_code,
    )


def _text(value: Any) -> str | None:
    if value.__class__ is not str:  # rare: None, or a JSON number
        if value is None:
            return None
        value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    return values.clean_text(value)


def _json(mapping: Mapping[str, Any]) -> str | None:
    return json.dumps(mapping, ensure_ascii=False, default=str) if mapping else None

