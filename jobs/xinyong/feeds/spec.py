"""What a feed is: the declarative description every agency module fills in.

An agency is one folder under ``xinyong/feeds/`` whose ``__init__.py`` defines ``AGENCY``.
The loader, the warehouse tables and the mention view are all derived from these specs,
so adding an eleventh agency is adding one folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from xinyong.ids import CodeKind

FieldType = Literal[
    "text", "name", "code", "date", "amount", "int", "period", "person_id", "json"
]
FileFormat = Literal["csv", "pipe", "jsonl", "xml"]

SQL_TYPES: dict[FieldType, str] = {
    "text": "text",
    "name": "text",
    "code": "text",
    "date": "date",
    "amount": "numeric(20,2)",
    "int": "integer",
    "period": "text",
    "person_id": "text",
    "json": "jsonb",
}


@dataclass(frozen=True)
class Field:
    """One delivered column. ``source`` is the header / JSON key / XML child as delivered."""

    source: str
    name: str
    type: FieldType = "text"
    codes: tuple[CodeKind, ...] = ()  # for code fields: the kinds the column is meant to hold
    comment: str = ""


@dataclass(frozen=True)
class Mention:
    """A reference to an enterprise inside one record (most records hold exactly one)."""

    record_id: str
    name: str | None
    codes: tuple[tuple[str | None, tuple[CodeKind, ...]], ...]  # (raw value, expected kinds)
    is_branch_hint: bool = False
    legal_rep: str | None = None
    former_name: str | None = None  # a name the enterprise had before (name-change records)
    attributes: Mapping[str, Any] = field(default_factory=dict)


MentionFn = Callable[[str, Mapping[str, Any]], list[Mention]]


@dataclass(frozen=True)
class Feed:
    """One delivered file of an agency."""

    file: str
    format: FileFormat
    encoding: str  # as the contract declares it; the loader still detects the real one
    key: str  # source column holding the record key
    op: str  # source column holding the operation code
    fields: tuple[Field, ...]
    name_field: str | None = None  # canonical names of the fields naming the enterprise
    code_fields: tuple[str, ...] = ()
    legal_rep_field: str | None = None
    former_name_field: str | None = None  # a field holding the enterprise's previous name
    # The date as of which the record names the enterprise (a judgment's date): a name two
    # enterprises held at different times belongs to the one that held it then.
    named_on_field: str | None = None
    # A register record whose status field says the enterprise ended (注销, 吊销, 迁出) as of a
    # date field: a name-only record dated later more likely means another holder of the name.
    status_field: str | None = None
    closed_statuses: tuple[str, ...] = ()
    closed_on_field: str | None = None
    # A register record's founding date (成立日期): a name-only record dated before it means
    # another holder of the name.
    founded_on_field: str | None = None
    # A penalty the agency imposed (the kinds AUDITS.md's A8 counts), dated by this field; with
    # ``penalty_if`` (field, value), only a record whose field holds that value (a failed
    # inspection). Two enterprises a name-only record fits equally are told apart by which one
    # another agency penalised within a year of it (resolve.transforms.PENALIZED_NEAR).
    penalty_on_field: str | None = None
    penalty_if: tuple[str, str] | None = None
    branch_hint_field: str | None = None  # a field whose text says 分公司 for branches
    mentions: MentionFn | None = None  # a custom extractor (court judgments: one per party)
    # Child fields exploded into one row per mention (judgment parties): (name, sql type).
    mention_columns: tuple[tuple[str, str], ...] = ()
    description: str = ""

    @property
    def feed(self) -> str:
        return self.file.rsplit(".", 1)[0]

    @property
    def record_id_is_key(self) -> bool:
        """Whether every row's record_id is its record_key: one mention per record, as every
        feed without a custom extractor has (a judgment's parties are ``<key>#<n>``)."""
        return self.mentions is None

    @cached_property
    def known_sources(self) -> frozenset[str]:
        """The delivered keys the spec reads (an XML child's parent too); the rest are extra.
        Cached on the instance: hashing a spec per record cost as much as parsing a field."""
        sources = {f.source.split("@")[0] for f in self.fields} | {f.source for f in self.fields}
        return frozenset(sources | {self.key, self.op})

    def field_by_name(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Agency:
    code: str  # the landing folder name
    title: str
    feeds: tuple[Feed, ...]
    source_rank: int = 5  # 0 = the authoritative register (AIC); used for canonical names
    notes: str = ""

    def feed_for_file(self, file: str) -> Feed | None:
        for feed in self.feeds:
            if feed.file == file:
                return feed
        return None
